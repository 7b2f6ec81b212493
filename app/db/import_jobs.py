"""Roster file imports (CTF, OneRoster) run as jobs: each job's status, progress and result."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.db.base import JSONType, created_at_field, id_field, updated_at_field


class ImportJob(SQLModel, table=True):
    """A roster file import (CTF or OneRoster): its status, progress and result."""

    __tablename__ = "import_job"
    id: uuid.UUID = id_field()
    school_id: uuid.UUID | None = Field(
        default=None, foreign_key="school.id", ondelete="CASCADE", index=True
    )
    trust_id: uuid.UUID | None = Field(
        default=None, foreign_key="trust.id", ondelete="CASCADE", index=True
    )
    kind: str = Field(max_length=16, description="ctf or oneroster")
    filename: str | None = Field(default=None, max_length=255)
    status: str = Field(max_length=16, description="queued, running, succeeded or failed")
    rows_total: int = 0
    rows_done: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_by_type: str = Field(max_length=16)
    created_by_id: uuid.UUID
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
