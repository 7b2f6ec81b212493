"""Problems that carry members beyond RFC 9457's own, one model each, so that clients read
those members typed. Every one is a ``Problem``; ``type`` says which."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.api.problems import Problem
from app.api.schemas.markbook import CellRead


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
