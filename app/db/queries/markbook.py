"""Reading and writing the markbook: the clock, pupils in reach, working years, cells."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.markbook import MarkbookClock, WorkingYear
from app.db.queries.reach import pupils_within
from app.db.roster import Enrolment, Pupil

CLOCK = MarkbookClock.__table__  # type: ignore[attr-defined]


async def tick(session: AsyncSession, school_id: uuid.UUID) -> int:
    """Advance the school's markbook clock and return the new version.

    The row stays locked until the transaction ends, so a school's markbook writes run one
    after another: each sees every earlier one, and versions never interleave.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(CLOCK)
        .values(school_id=school_id, version=1)
        .on_conflict_do_update(index_elements=["school_id"], set_={"version": CLOCK.c.version + 1})
        .returning(CLOCK.c.version)
    )
    return int((await session.execute(statement)).scalar_one())


async def pupils_reached(
    session: AsyncSession, reach: Reach, school_id: uuid.UUID, pupil_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``pupil_ids`` are pupils of the school within the reach."""
    if not pupil_ids:
        return set()
    found: set[uuid.UUID] = set()
    ordered = list(set(pupil_ids))
    for start in range(0, len(ordered), 5_000):
        rows = await session.scalars(
            sa.select(Pupil.id).where(
                col(Pupil.id).in_(ordered[start : start + 5_000]),
                col(Pupil.school_id) == school_id,
                pupils_within(
                    reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)
                ),
            )
        )
        found.update(rows)
    return found


async def year_groups(
    session: AsyncSession, academic_year: int, pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each pupil's year group in the academic year (pupils not enrolled that year are left
    out)."""
    if not pupil_ids:
        return {}
    rows = await session.execute(
        sa.select(Enrolment.pupil_id, Enrolment.year_group).where(
            col(Enrolment.academic_year) == academic_year,
            col(Enrolment.pupil_id).in_(list(pupil_ids)),
        )
    )
    return {pupil_id: year_group for pupil_id, year_group in rows.tuples()}


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


def row_dicts(rows: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in rows.mappings()]
