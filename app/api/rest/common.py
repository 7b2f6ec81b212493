"""Small helpers for REST routers: standard error responses for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.api.problems import Problem

_DESCRIPTIONS = {
    401: "No valid bearer token",
    403: "Visible, but not yours to change",
    404: "Not found, or outside your reach",
    409: "Conflicts with stored data",
    413: "Request body too large",
    422: "Invalid input; `errors` names each field",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json errors."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {}},
        }
        for status in (401, 422, *statuses)
    }
