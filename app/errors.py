"""Application errors. Services raise these; the API layer renders each as an RFC 9457 problem.

Each class carries its problem ``type`` slug, title and HTTP status: the one table that maps
errors to problems. Domain rule violations (app.domain.errors.DomainError) are 422s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class AppError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Changed since you read it"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(AppError):
    """Too many attempts (signing in): wait ``retry_after`` seconds; sent as Retry-After."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(AppError):
    """A store the request needs (the sign-in throttle's) is not answering; retry shortly."""

    status, slug, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class InvalidInput(AppError):
    status, slug, title = 422, "validation-error", "Invalid input"

    @classmethod
    def at(cls, field: str, reason: str) -> InvalidInput:
        return cls(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])

    @classmethod
    def of(
        cls,
        errors: Sequence[dict[str, str]],
        *,
        lead: str = "",
        total: int | None = None,
        **extensions: Any,
    ) -> InvalidInput:
        """Several field errors; the detail sums up the first five (of ``total``, if more
        were found than are listed). An error of a bulk row may carry the row's ``key``."""
        total = len(errors) if total is None else total
        summary = "; ".join(
            f"{e['field']}" + (f" ({e['key']})" if e.get("key") else "") + f": {e['reason']}"
            for e in errors[:5]
        )
        if total > 5:
            summary += f"; and {total - 5} more"
        return cls(lead + summary, errors=list(errors), **extensions)


def field_error(error: Mapping[str, Any], prefix: str | None = None) -> dict[str, str]:
    """A pydantic validation error as a problem's field error: where (its location, under
    ``prefix`` such as "body.pupils.3") and why, in words for people."""
    parts = [prefix] if prefix else []
    field = ".".join([*parts, *(str(part) for part in error.get("loc", ()))]) or "body"
    if error.get("type") == "extra_forbidden":
        reason = "unknown field"
    else:
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return {"field": field, "reason": reason}


class OAuthError(AppError):
    """RFC 6749 section 5.2 errors, carried as problems with the OAuth ``error`` code."""

    slug, title = "oauth-error", "Token request refused"

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="markbook"'} if status == 401 else None
        super().__init__(description, headers=headers, error=error, error_description=description)
        self.status = status  # type: ignore[misc]
