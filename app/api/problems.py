"""RFC 9457 problem details for every error the service returns.

One table (``app.errors``) says which problem each application error is; this module renders
them, and turns framework errors (routing, validation, database conflicts, the unexpected) into
the same shape. Problem ``type`` URIs are stable: ``/problems/<slug>``.
"""

from __future__ import annotations

import logging
import socket
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from app.db.engine import database_unavailable
from app.domain.errors import DomainError
from app.errors import AppError, InvalidInput, field_error
from app.logs import describe, redacted_traceback

log = logging.getLogger("markbook.errors")
PROBLEM_JSON = "application/problem+json"
# How long a client should wait before retrying when the database falters (503).
RETRY_AFTER_SECONDS = 5

_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Changed since you read it"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid input"),
}


class FieldError(BaseModel):
    field: str = Field(description="Where: body.urn, query.limit, body.grants.0.role ...")
    reason: str
    key: str | None = Field(
        default=None,
        description="For a refused row of a bulk write: the row's key (a pupil's MIS id, else "
        "their UPN; a class's code), so it can be found without counting rows.",
    )


class Problem(BaseModel):
    """An RFC 9457 problem. Clients key on ``type``; ``detail`` is for people."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["/problems/validation-error"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    request: Request | None,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        body["request_id"] = getattr(request.state, "request_id", None)
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extensions.items() if v is not None})
    response_headers = dict(headers or {})
    if body.get("request_id"):
        response_headers["X-Request-ID"] = body["request_id"]
    return JSONResponse(body, status_code=status, headers=response_headers, media_type=PROBLEM_JSON)


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        # The loc's second part is a character offset, not a field.
        offset = error.get("loc", ("body", "?"))[-1]
        problem = error.get("ctx", {}).get("error", "malformed")
        return {"field": "body", "reason": f"not valid JSON at character {offset}: {problem}"}
    return field_error(error)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        **exc.extensions,
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    field = exc.field or "body"
    return await _app_error(request, InvalidInput.at(field, exc.message))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problem = InvalidInput.of([_field_error(e) for e in exc.errors()])
    return await _app_error(request, problem)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's word for a body it could not decode (not UTF-8, broken form encoding):
        # the same kind of mistake as malformed JSON, so the same problem.
        error = {
            "field": "body",
            "reason": "the body could not be decoded (send UTF-8 JSON, or a well-formed form)",
        }
        return problem_response(
            request,
            status=422,
            slug="validation-error",
            title="Invalid input",
            detail=f"body: {error['reason']}",
            errors=[error],
        )
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such resource: {request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem_response(
        request,
        status=exc.status_code,
        slug=slug,
        title=title,
        detail=detail,
        headers=headers,
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (RFC 9110: a 405 carries Allow).
    The router's own Allow names only the first route matching the path, and static files
    give none: so ask every route about every method."""
    scope = request.scope
    probe = {
        "type": "http",
        "path": scope["path"],
        "root_path": scope.get("app_root_path", scope.get("root_path", "")),
    }
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):  # the explorer's static files: GET and HEAD
            if route.matches({**probe, "method": "GET"})[0] is not Match.NONE:
                allowed |= {"GET", "HEAD"}
            continue
        allowed |= {m for m in _METHODS if route.matches({**probe, "method": m})[0] is Match.FULL}
    return ", ".join(sorted(allowed))


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference race the service's own checks could not see coming. Logged by
    # kind only: the database's message quotes the clashing key (a UPN, a name).
    log.info("integrity error answered as 409: %s", describe(exc))
    return problem_response(
        request,
        status=409,
        slug="conflict",
        title="Conflict",
        detail="the change conflicts with data stored meanwhile; read it again and retry",
    )


def unavailable_response(request: Request | None) -> JSONResponse:
    """503 with Retry-After: the database is not answering; the request may be retried."""
    return problem_response(
        request,
        status=503,
        slug="service-unavailable",
        title="Service unavailable",
        detail="the database is not answering just now; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        return await _unexpected(request, exc)
    # By kind and code only (SQLAlchemy's message quotes the statement, the driver's may quote
    # data); the client is told only to retry. The request's transaction was rolled back.
    log.warning("database unavailable, answered 503: %s", describe(exc))
    return unavailable_response(request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):  # the database faltering in a way no handler caught by type
        return await _database_error(request, exc)
    correlation_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    # The exception's kind and frames, not its message, which may quote pupils' data.
    log.error(
        "unhandled error %s [request_id=%s]\n%s",
        describe(exc),
        correlation_id,
        redacted_traceback(exc),
    )
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal error",
        detail=f"something went wrong on our side; quote {correlation_id} when reporting it",
        correlation_id=correlation_id,
    )


async def unexpected_response(request: Request, exc: Exception) -> JSONResponse:
    """The answer to an exception no handler took: 503 if the database faltered, else 500."""
    return await _unexpected(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    for faltering in (DBAPIError, PoolTimeout, ConnectionError, socket.gaierror):
        app.add_exception_handler(faltering, _database_error)
    app.add_exception_handler(Exception, _unexpected)
