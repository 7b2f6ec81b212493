"""Application errors. Services raise these; the API layer renders each as an RFC 9457 problem.

Each class carries its problem ``type`` slug, title and HTTP status: the one table that maps
errors to problems. Domain rule violations (app.domain.errors.DomainError) are 422s.
"""

from __future__ import annotations

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


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class InvalidInput(AppError):
    status, slug, title = 422, "validation-error", "Invalid input"

    @classmethod
    def at(cls, field: str, reason: str) -> InvalidInput:
        return cls(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


class OAuthError(AppError):
    """RFC 6749 section 5.2 errors, carried as problems with the OAuth ``error`` code."""

    slug, title = "oauth-error", "Token request refused"

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="markbook"'} if status == 401 else None
        super().__init__(description, headers=headers, error=error, error_description=description)
        self.status = status  # type: ignore[misc]
