"""Reading and writing measure values: the definitions a write needs, current values by cell,
pages of current values and of a pupil's history."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Measure
from app.db.markbook import MeasureValue, MeasureValueHistory
from app.db.queries.bulk import among
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import pupils_within
from app.db.roster import ClassPupil, Pupil
from app.db.tenancy import AssessmentPoint

VALUE = MeasureValue.__table__  # type: ignore[attr-defined]
HISTORY = MeasureValueHistory.__table__  # type: ignore[attr-defined]
KEY = ("pupil_id", "measure_id", "assessment_point_id")
PUPIL = Pupil.__table__  # type: ignore[attr-defined]
VALUE_COLUMNS = ("number", "descriptor_id", "text", "flag", "value_on", "curriculum_year")

Cell = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # pupil, measure, assessment point
_CHUNK = 5_000  # ids per IN list: far below either database's limit on bound parameters


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def measures(session: AsyncSession, measure_ids: Collection[uuid.UUID]) -> list[Measure]:
    if not measure_ids:
        return []
    return list(
        await session.scalars(sa.select(Measure).where(col(Measure.id).in_(list(measure_ids))))
    )


async def points(
    session: AsyncSession, point_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, AssessmentPoint]:
    if not point_ids:
        return {}
    rows = await session.scalars(
        sa.select(AssessmentPoint).where(col(AssessmentPoint.id).in_(list(point_ids)))
    )
    return {point.id: point for point in rows}


async def current(
    session: AsyncSession, school_id: uuid.UUID, cells: Iterable[Cell]
) -> dict[Cell, dict[str, Any]]:
    """The current value of each cell that has one (value columns only), by cell.

    Reads the cells' pupils x measures x points (few measures and points, many pupils) in one
    statement and keeps the cells asked for."""
    wanted = set(cells)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(*(VALUE.c[name] for name in (*KEY, *VALUE_COLUMNS))).where(
            VALUE.c.school_id == school_id,
            among(session, VALUE.c.pupil_id, {cell[0] for cell in wanted}),
            VALUE.c.measure_id.in_(list({cell[1] for cell in wanted})),
            VALUE.c.assessment_point_id.in_(list({cell[2] for cell in wanted})),
        )
    )
    found: dict[Cell, dict[str, Any]] = {}
    for row in rows:
        cell = row[:3]
        if cell in wanted:
            found[cell] = dict(zip(VALUE_COLUMNS, row[3:], strict=True))
    return found


async def delete_cells(session: AsyncSession, cells: Sequence[Cell]) -> None:
    """Delete the current values of ``cells`` (a cleared value has no current row)."""
    key = sa.tuple_(*(VALUE.c[name] for name in KEY))
    # Three bound parameters a cell: stay under SQLite's and asyncpg's limits.
    for chunk in _chunks(list(cells), 3_000):
        await session.execute(sa.delete(VALUE).where(key.in_(list(chunk))))


# --- Pages ---------------------------------------------------------------------------------
async def list_values(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    assessment_point_id: uuid.UUID | None,
    measure_id: uuid.UUID | None,
    pupil_id: uuid.UUID | None,
    class_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[MeasureValue]:
    """A school's current values within the reach, oldest change first (so a client syncing
    with ``updated_since`` pages forward through what changed)."""
    statement = sa.select(MeasureValue).where(
        col(MeasureValue.school_id) == school_id,
        pupils_within(
            reach,
            pupil_column=col(MeasureValue.pupil_id),
            school_column=col(MeasureValue.school_id),
        ),
    )
    if assessment_point_id is not None:
        statement = statement.where(col(MeasureValue.assessment_point_id) == assessment_point_id)
    if measure_id is not None:
        statement = statement.where(col(MeasureValue.measure_id) == measure_id)
    if pupil_id is not None:
        statement = statement.where(col(MeasureValue.pupil_id) == pupil_id)
    if class_id is not None:
        statement = statement.where(
            col(MeasureValue.pupil_id).in_(
                sa.select(ClassPupil.pupil_id).where(col(ClassPupil.class_id) == class_id)
            )
        )
    if updated_since is not None:
        statement = statement.where(col(MeasureValue.recorded_at) >= updated_since)
    order = [
        col(MeasureValue.recorded_at),
        col(MeasureValue.pupil_id),
        col(MeasureValue.measure_id),
        col(MeasureValue.assessment_point_id),
    ]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def pupil_history(
    session: AsyncSession,
    pupil_id: uuid.UUID,
    *,
    measure_id: uuid.UUID | None,
    assessment_point_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[MeasureValueHistory]:
    """Every write of a pupil's values, newest first."""
    order = [col(MeasureValueHistory.recorded_at), col(MeasureValueHistory.id)]
    statement = sa.select(MeasureValueHistory).where(col(MeasureValueHistory.pupil_id) == pupil_id)
    if measure_id is not None:
        statement = statement.where(col(MeasureValueHistory.measure_id) == measure_id)
    if assessment_point_id is not None:
        statement = statement.where(
            col(MeasureValueHistory.assessment_point_id) == assessment_point_id
        )
    return await paginate(
        session, statement, order_by=order, cursor=cursor, limit=limit, descending=True
    )
