"""Roster file imports (CTF, OneRoster) through the API: a job as read back. The table is in
app/db/import_jobs.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlmodel import SQLModel

from app.api.schemas.base import Output
from app.api.schemas.problems import Problem
from app.api.schemas.roster import RowResult
from app.domain.grades import GradeMapping


class ImportJobResult(Output):
    """What a finished import stored: the counts, the rows refused, and what is worth telling
    the uploader about the file. (Defaults read jobs stored before some counts were kept.)"""

    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Pupil rows refused.")
    left: int
    classes_created: int = 0
    classes_rejected: int = Field(default=0, description="Class rows refused.")
    rejected_rows: list[RowResult] = []
    warnings: list[str] = Field(
        default=[],
        description="What the import did that the uploader should know: parts of the file "
        "read with a fallback or skipped, slips tolerated (naming the file and row), classes "
        "stored without a teacher who has no account yet.",
    )
    grade_mapping: GradeMapping | None = Field(
        default=None, description="OneRoster: how grades were read as NC year groups."
    )


class ImportJobRead(SQLModel, Output):
    id: uuid.UUID
    school_id: uuid.UUID | None
    trust_id: uuid.UUID | None
    kind: Literal["ctf", "oneroster"]
    filename: str | None
    status: Literal["queued", "running", "succeeded", "failed"]
    rows_total: int
    rows_done: int
    result: ImportJobResult | None = Field(description="Succeeded: what was stored.")
    problem: Problem | None = Field(description="Failed: why, as the import's problem.")
    created_at: datetime
    updated_at: datetime
