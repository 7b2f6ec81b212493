"""Pupils' working curriculum years: those teachers have set (and their history)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.markbook import WorkingYear, WorkingYearHistory
from app.db.queries.bulk import write_rows
from app.db.queries.roster import year_groups
from app.domain.markbook import WorkingYearView
from app.domain.markbook import working_years as resolve

WORKING_YEAR = WorkingYear.__table__  # type: ignore[attr-defined]
WORKING_YEAR_HISTORY = WorkingYearHistory.__table__  # type: ignore[attr-defined]


async def set_working_years(
    session: AsyncSession,
    academic_year: int,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYear]:
    """The working years teachers have set, by (pupil, subject), for the academic year."""
    if not pupil_ids:
        return {}
    statement = sa.select(WorkingYear).where(
        col(WorkingYear.academic_year) == academic_year,
        col(WorkingYear.pupil_id).in_(list(pupil_ids)),
    )
    if subject_ids is not None:
        statement = statement.where(col(WorkingYear.subject_id).in_(list(subject_ids)))
    return {(w.pupil_id, w.subject_id): w for w in await session.scalars(statement)}


async def working_years(
    session: AsyncSession,
    academic_year: int,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView]:
    """Each (pupil, subject)'s working curriculum year in the academic year, by the domain's
    rule (app.domain.markbook.working_year): the one a teacher set, else their year group's."""
    chosen = await set_working_years(session, academic_year, pupil_ids, subject_ids)
    groups = await year_groups(session, academic_year, pupil_ids)
    return resolve(chosen, groups, pupil_ids, subject_ids)


async def changed_working_years(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    since_version: int,
) -> list[WorkingYear]:
    if not pupil_ids or not subject_ids:
        return []
    return list(
        await session.scalars(
            sa.select(WorkingYear).where(
                col(WorkingYear.pupil_id).in_(list(pupil_ids)),
                col(WorkingYear.subject_id).in_(list(subject_ids)),
                col(WorkingYear.version) > since_version,
            )
        )
    )


async def write_working_years(
    session: AsyncSession, current: list[dict[str, Any]], history: list[dict[str, Any]]
) -> None:
    key = ("pupil_id", "subject_id", "academic_year")
    await write_rows(
        session,
        WORKING_YEAR,
        current,
        conflict=key,
        update=[c.name for c in WORKING_YEAR.columns if c.name not in key],
    )
    await write_rows(session, WORKING_YEAR_HISTORY, history)
