"""RFC 9457 problems as the document describes them: ``Problem``, the ``type``s it can have,
and the problems that carry members of their own, one model each, so that clients read those
members typed. app/api/problems.py renders them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.base import no_defaults
from app.api.schemas.markbook import CellRead


class ProblemType(StrEnum):
    """Every problem ``type`` the service answers with: clients key on these."""

    BAD_REQUEST = "/problems/bad-request"
    UNAUTHORIZED = "/problems/unauthorized"
    FORBIDDEN = "/problems/forbidden"
    NOT_FOUND = "/problems/not-found"
    METHOD_NOT_ALLOWED = "/problems/method-not-allowed"
    NOT_ACCEPTABLE = "/problems/not-acceptable"
    CONFLICT = "/problems/conflict"
    PRECONDITION_FAILED = "/problems/precondition-failed"
    PAYLOAD_TOO_LARGE = "/problems/payload-too-large"
    UNSUPPORTED_MEDIA_TYPE = "/problems/unsupported-media-type"
    VALIDATION_ERROR = "/problems/validation-error"
    OAUTH_ERROR = "/problems/oauth-error"
    HTTP_ERROR = "/problems/http-error"
    INTERNAL_ERROR = "/problems/internal-error"
    SERVICE_UNAVAILABLE = "/problems/service-unavailable"


class FieldError(BaseModel):
    # Members without a value are left out, not sent as null.
    model_config = ConfigDict(json_schema_extra=no_defaults)

    field: str = Field(description="Where: body.urn, query.limit, body.grants.0.role ...")
    reason: str
    key: str | None = Field(
        default=None,
        description="For a refused row of a bulk write: the row's key (a pupil's MIS id, else "
        "their UPN; a class's code), so it can be found without counting rows.",
    )


class Problem(BaseModel):
    """An RFC 9457 problem. Clients key on ``type``; ``detail`` is for people. Problems with
    members of their own have models of their own (below)."""

    # Members without a value are left out, not sent as null.
    model_config = ConfigDict(json_schema_extra=no_defaults)

    type: ProblemType = Field(examples=["/problems/validation-error"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ValidationProblem(Problem):
    """422: ``errors`` names each field and why; a refused bulk write may say more."""

    error_count: int | None = Field(
        default=None,
        description="Bulk writes: how many errors were found (``errors`` lists the first of them).",
    )
    rows_with_errors: list[int] | None = Field(
        default=None, description="Score files: the file's row numbers that have errors."
    )
    max_depth: int | None = Field(
        default=None, description="A body nested too deep: the deepest nesting read."
    )


class TooLargeProblem(Problem):
    """413: the body is over the limit."""

    max_bytes: int | None = Field(default=None, description="The limit, in bytes.")


class ChangedWorkingYear(BaseModel):
    pupil_id: uuid.UUID
    subject_id: uuid.UUID
    curriculum_year: str | None = Field(description="R or 1-13; null: the year group's.")
    version: int


class StaleGridProblem(Problem):
    """412: the grid changed since the version sent as If-Match. Nothing was written; the
    cells and working years changed since are listed, with the grid's version now."""

    cells: list[CellRead] = Field(description="The cells written since, as they stand now.")
    working_years: list[ChangedWorkingYear] = Field(
        description="Pupils' working curriculum years set since."
    )
    version: int = Field(description="The grid's version now: read it again, then write.")


OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
]


class TokenProblem(Problem):
    """400 or 401 from the token endpoint: an RFC 6749 (section 5.2) error as a problem."""

    error: OAuthErrorCode = Field(description="The OAuth error code.")
    error_description: str


class InternalProblem(Problem):
    """500: something went wrong on the service's side; quote ``correlation_id``."""

    correlation_id: str
