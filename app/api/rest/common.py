"""Small helpers for REST routers: standard error responses for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pydantic_core
from fastapi.responses import Response
from pydantic import BaseModel

from app.api.schemas.problems import (
    InternalProblem,
    Problem,
    StaleGridProblem,
    TooLargeProblem,
    ValidationProblem,
)

PROBLEM_REF = "#/components/schemas/Problem"
# The problem each status is answered with, where it carries members of its own.
PROBLEM_MODELS: dict[int, type[Problem]] = {
    412: StaleGridProblem,
    413: TooLargeProblem,
    422: ValidationProblem,
    500: InternalProblem,
}
# Headers every response, or every response of a kind, carries.
REQUEST_ID_HEADER = {
    "description": "The request's id (the caller's X-Request-ID if it sent a sane one); "
    "quote it when reporting a problem.",
    "required": True,
    "schema": {"type": "string"},
}
LOCATION_HEADER = {
    "description": "Where the created resource (or the import job) is read.",
    "schema": {"type": "string"},
}
REPLAYED_HEADER = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "Idempotency-Key and body; absent otherwise.",
    "schema": {"type": "string", "enum": ["true"]},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "description": 'The grid\'s version, quoted (e.g. `"42"`): send it back as If-Match when '
    "writing, or as If-None-Match when reading again.",
    "required": True,
    "schema": {"type": "string"},
}

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
    500: "Something went wrong on our side; quote `correlation_id`",
    503: "The database (or, signing in, the throttle's store) is not answering just now; "
    "retry after `Retry-After` seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json errors."""
    return {
        status: {
            "model": PROBLEM_MODELS.get(status, Problem),
            "description": _DESCRIPTIONS[status],
        }
        for status in (401, 422, *statuses)
    }


def _schema_ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """Errors are served as application/problem+json; say so in the OpenAPI document, and
    document what every operation can answer: the 413 of any operation with a body, the 500
    and 503 of all, the X-Request-ID of every response, the Location of a 201 or 202, and the
    Idempotent-Replayed of an operation that takes an Idempotency-Key."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {
                    "description": _DESCRIPTIONS[413],
                    "content": {"application/json": {"schema": _schema_ref(TooLargeProblem)}},
                }
            responses.setdefault(
                "500",
                {
                    "description": _DESCRIPTIONS[500],
                    "content": {"application/json": {"schema": _schema_ref(InternalProblem)}},
                },
            )
            responses.setdefault(
                "503",
                {
                    "description": _DESCRIPTIONS[503],
                    "headers": {"Retry-After": RETRY_AFTER_HEADER},
                    "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}},
                },
            )
            idempotent = any(
                parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key"
                for parameter in operation.get("parameters", [])
            )
            for status, response in responses.items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
                headers = response.setdefault("headers", {})
                if status in ("201", "202"):
                    headers.setdefault("Location", {"$ref": "#/components/headers/Location"})
                if idempotent and status.startswith("2"):
                    headers.setdefault(
                        "Idempotent-Replayed", {"$ref": "#/components/headers/Idempotent-Replayed"}
                    )
                headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
    document["components"]["headers"] = {
        "Location": LOCATION_HEADER,
        "Idempotent-Replayed": REPLAYED_HEADER,
        "X-Request-ID": REQUEST_ID_HEADER,
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (TooLargeProblem, InternalProblem):
        if model.__name__ not in schemas:
            extra_schemas(document, [model])
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
    """OpenAPI ``openapi_extra`` for a route that reads a file as its raw body. The body is
    read whatever its declared type, so application/octet-stream is offered too: the type
    every client generator can send a file as."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "requestBody": {
            "required": True,
            "content": {media_type: binary, "application/octet-stream": binary},
        }
    }


def raw_json_body(description: str) -> dict[str, Any]:
    """OpenAPI ``openapi_extra`` for a route that reads a JSON document as its raw body (one
    it checks itself, piece by piece): any JSON object."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": True,
                        "description": description,
                    }
                }
            },
        }
    }


def name_form_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Name the models FastAPI makes of a route's form and file parameters after the operation
    (`Body_importScores` becomes `ImportScoresForm`), so generated clients read well."""
    schemas = document.get("components", {}).get("schemas", {})
    renamed = {
        name: name.removeprefix("Body_")[:1].upper() + name.removeprefix("Body_")[1:] + "Form"
        for name in schemas
        if name.startswith("Body_")
    }
    for old, new in renamed.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renamed.items()
    }

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for item in node:
                rewrite(item)

    rewrite(document)
    return document


class RowsResponse(Response):
    """JSON of plain rows (dicts of stored values), written once by pydantic-core: the same
    writer response models use, so ids are text and instants ISO 8601 with Z, but nothing is
    validated on the way out. For reads where building a response model per row would cost
    more than the query (a page of pupils, the markbook grid, a report table); the route's
    response_model (or responses) still documents the shape."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return pydantic_core.to_json(content)
