"""Small helpers for REST routers: standard error responses for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from app.api.problems import Problem

PROBLEM_REF = "#/components/schemas/Problem"

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "No valid bearer token",
    403: "Visible, but not yours to change",
    404: "Not found, or outside your reach",
    409: "Conflicts with stored data",
    412: "Changed since you read it (If-Match is stale); `cells` lists what changed",
    413: "Request body too large",
    422: "Invalid input; `errors` names each field",
    429: "Too many attempts; wait the `Retry-After` seconds",
    503: "A store the service needs is not answering; retry after `Retry-After` seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json errors."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
        }
        for status in (401, 422, *statuses)
    }


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """Errors are served as application/problem+json; say so in the OpenAPI document, and
    document the 413 every operation with a body can answer."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {
                    "description": _DESCRIPTIONS[413],
                    "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}},
                }
            for status, response in responses.items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return document


def extra_schemas(document: dict[str, Any], models: Iterable[type[BaseModel]]) -> dict[str, Any]:
    """Add models to the document's components: bodies that routes read themselves (row by
    row, say) and so do not declare as parameters, but that clients need described."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = schema
    return document


def raw_body(media_type: str) -> dict[str, Any]:
    """OpenAPI ``openapi_extra`` for a route that reads a file as its raw body."""
    return {
        "requestBody": {
            "required": True,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
