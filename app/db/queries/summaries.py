"""The per pupil x subject x assessment point summaries that reports aggregate: what stood
in the pupils' cells as at each point, counted by the database, and the summaries put."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.markbook import JudgementSummary
from app.db.queries.bulk import write_rows
from app.db.queries.judgements import HISTORY, OBJECTIVE, STATE, standing_rank
from app.db.tenancy import AssessmentPoint

SUMMARY = JudgementSummary.__table__  # type: ignore[attr-defined]


async def points_on_or_after(
    session: AsyncSession, school_id: uuid.UUID, day: Any, academic_year: int | None = None
) -> list[AssessmentPoint]:
    """The school's assessment points dated on or after ``day`` (of one academic year, if
    given): the points whose "as at" state a judgement of that day can change."""
    statement = sa.select(AssessmentPoint).where(
        col(AssessmentPoint.school_id) == school_id, col(AssessmentPoint.assessed_on) >= day
    )
    if academic_year is not None:
        statement = statement.where(col(AssessmentPoint.academic_year) == academic_year)
    return list(await session.scalars(statement))


async def standing_counts(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    points: Collection[AssessmentPoint],
) -> list[Any]:
    """For each pupil, subject and point: how many cells had each descriptor standing as at
    the point's date, by the objectives' curriculum years (so that the caller can count only
    the pupil's working year). One statement; the grouping is done by the database."""
    if not pupil_ids or not subject_ids or not points:
        return []
    point = sa.select(
        col(AssessmentPoint.id).label("point_id"),
        col(AssessmentPoint.assessed_on).label("point_on"),
    ).where(col(AssessmentPoint.id).in_([p.id for p in points]))
    point = point.subquery()
    ranked = (
        sa.select(
            HISTORY.c.pupil_id,
            HISTORY.c.subject_id,
            HISTORY.c.objective_id,
            HISTORY.c.descriptor_id,
            point.c.point_id,
            standing_rank(HISTORY.c.pupil_id, HISTORY.c.objective_id, point.c.point_id),
        )
        .join(point, HISTORY.c.assessed_on <= point.c.point_on)
        .where(
            HISTORY.c.pupil_id.in_(list(pupil_ids)),
            HISTORY.c.subject_id.in_(list(subject_ids)),
        )
        .subquery()
    )
    statement = (
        sa.select(
            ranked.c.pupil_id,
            ranked.c.subject_id,
            ranked.c.point_id,
            OBJECTIVE.c.year_from,
            OBJECTIVE.c.year_to,
            ranked.c.descriptor_id,
            sa.func.count().label("cells"),
        )
        .join(OBJECTIVE, OBJECTIVE.c.id == ranked.c.objective_id)
        .where(ranked.c.rank == 1, ranked.c.descriptor_id.is_not(None))
        .group_by(
            ranked.c.pupil_id,
            ranked.c.subject_id,
            ranked.c.point_id,
            OBJECTIVE.c.year_from,
            OBJECTIVE.c.year_to,
            ranked.c.descriptor_id,
        )
    )
    return list(await session.execute(statement))


async def replace_summaries(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    point_ids: Collection[uuid.UUID],
    rows: list[dict[str, Any]],
) -> None:
    """Put the summaries of these pupils x subjects x points: those not in ``rows`` go."""
    ordered = list(pupil_ids)
    for start in range(0, len(ordered), 5_000):
        await session.execute(
            sa.delete(SUMMARY).where(
                SUMMARY.c.pupil_id.in_(ordered[start : start + 5_000]),
                SUMMARY.c.subject_id.in_(list(subject_ids)),
                SUMMARY.c.assessment_point_id.in_(list(point_ids)),
            )
        )
    await write_rows(session, SUMMARY, rows)


async def judged_pupils(
    session: AsyncSession,
    school_id: uuid.UUID,
    pupil_ids: Collection[uuid.UUID] | None = None,
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The pupils (of those given, if any) with judgements in each subject of the school."""
    statement = (
        sa.select(STATE.c.subject_id, STATE.c.pupil_id)
        .where(STATE.c.school_id == school_id)
        .distinct()
    )
    if pupil_ids is not None:
        statement = statement.where(STATE.c.pupil_id.in_(list(pupil_ids)))
    rows = await session.execute(statement)
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    for subject_id, pupil_id in rows:
        found.setdefault(subject_id, set()).add(pupil_id)
    return found
