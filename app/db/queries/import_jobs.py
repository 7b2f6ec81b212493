"""Import jobs' stored details: the jobs that still hold them, and their removal by age."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.base import JSONType
from app.db.import_jobs import ImportJob


async def jobs_with_details(session: AsyncSession, school_id: uuid.UUID) -> list[ImportJob]:
    """The school's import jobs that still hold their details (a file name, rejected rows,
    warnings, a problem's words): those the retention sweep has not reached yet."""
    rows = await session.scalars(
        sa.select(ImportJob).where(
            col(ImportJob.school_id) == school_id, col(ImportJob.filename).is_not(None)
        )
    )
    return list(rows)


async def unfinished_jobs(session: AsyncSession, *, changed_before: datetime) -> list[ImportJob]:
    """Jobs, of every school, still queued or running that were last changed before a moment."""
    rows = await session.scalars(
        sa.select(ImportJob).where(
            col(ImportJob.status).in_(("queued", "running")),
            col(ImportJob.updated_at) < changed_before,
        )
    )
    return list(rows)


def _merged(session: AsyncSession, column: Any, patch: dict[str, Any]) -> sa.ColumnElement[Any]:
    """The JSON object in ``column`` with ``patch``'s members set (anything else as it is)."""
    text = json.dumps(patch)
    if session.get_bind().dialect.name == "postgresql":
        is_object = sa.func.jsonb_typeof(column) == "object"
        merged = column.op("||")(sa.cast(sa.literal(text), postgresql.JSONB))
    else:
        is_object = sa.func.json_type(column) == "object"
        merged = sa.func.json_patch(column, text)
    return sa.case((is_object, sa.type_coerce(merged, JSONType)), else_=column)


async def drop_details_before(
    session: AsyncSession, cutoff: datetime, *, result: dict[str, Any], problem: dict[str, Any]
) -> int:
    """Of every job created before ``cutoff`` that still holds its details, forget the file
    name and set ``result``'s and ``problem``'s members over theirs (counts and status stay):
    one statement. Returns how many jobs."""
    outcome = await session.execute(
        sa.update(ImportJob)
        .where(col(ImportJob.created_at) < cutoff, col(ImportJob.filename).is_not(None))
        .values(
            filename=None,
            result=_merged(session, col(ImportJob.result), result),
            problem=_merged(session, col(ImportJob.problem), problem),
        )
        .execution_options(synchronize_session=False)
    )
    return int(outcome.rowcount or 0)  # type: ignore[attr-defined]
