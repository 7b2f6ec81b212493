"""Roster file imports (CTF, OneRoster) through the API: a job as read back. The table is in
app/db/import_jobs.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel


class ImportJobRead(SQLModel):
    id: uuid.UUID
    school_id: uuid.UUID | None
    trust_id: uuid.UUID | None
    kind: str
    filename: str | None
    status: str
    rows_total: int
    rows_done: int
    result: dict[str, Any] | None
    problem: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
