"""Reading one pupil's record: whether the caller reaches the pupil, the judgements standing
in their cells (now, or as at a date), their measure values, and the history of their cells.

Each read is one statement for the one pupil, whatever the number of cells.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.markbook import JudgementState, MeasureValue, ObjectiveJudgement
from app.db.queries.judgements import standing_rank
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import pupils_within
from app.db.roster import Pupil
from app.db.tenancy import AssessmentPoint


async def pupil_reached(
    session: AsyncSession, pupil_id: uuid.UUID, *, judgements: Reach, values: Reach
) -> tuple[Pupil, bool, bool] | None:
    """The pupil, and whether each reach (judgement read, value read) covers them; None if
    neither does (or there is no such pupil)."""

    def covered(reach: Reach) -> sa.ColumnElement[bool]:
        return pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id))

    statement = sa.select(
        Pupil,
        sa.case((covered(judgements), sa.true()), else_=sa.false()),
        sa.case((covered(values), sa.true()), else_=sa.false()),
    ).where(col(Pupil.id) == pupil_id, sa.or_(covered(judgements), covered(values)))
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    pupil, sees_judgements, sees_values = row
    return pupil, bool(sees_judgements), bool(sees_values)


async def subject_ids_of_school(
    session: AsyncSession, school_id: uuid.UUID, trust_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """The subjects a school uses (its own and its trust's), in the school's order."""
    used = col(Subject.school_id) == school_id
    if trust_id is not None:
        used = sa.or_(used, col(Subject.trust_id) == trust_id)
    statement = sa.select(Subject.id).where(used).order_by(col(Subject.position), col(Subject.code))
    return list(await session.scalars(statement))


def _current(pupil_id: uuid.UUID) -> sa.Subquery:
    state = JudgementState.__table__.c  # type: ignore[attr-defined]
    return (
        sa.select(
            state.objective_id,
            state.subject_id,
            state.descriptor_id,
            state.assessed_on,
            state.recorded_at,
            state.note,
        )
        .where(state.pupil_id == pupil_id)
        .subquery("cell")
    )


def _as_at(pupil_id: uuid.UUID, as_at: date) -> sa.Subquery:
    """Per cell, the judgement standing as at the date (app.domain.markbook.standing): the
    latest assessed on or before it, ties going to the one recorded later."""
    history = ObjectiveJudgement.__table__.c  # type: ignore[attr-defined]
    ranked = (
        sa.select(
            history.objective_id,
            history.subject_id,
            history.descriptor_id,
            history.assessed_on,
            history.recorded_at,
            history.note,
            standing_rank(history.pupil_id, history.objective_id),
        )
        .where(history.pupil_id == pupil_id, history.assessed_on <= as_at)
        .subquery("ranked")
    )
    return (
        sa.select(
            ranked.c.objective_id,
            ranked.c.subject_id,
            ranked.c.descriptor_id,
            ranked.c.assessed_on,
            ranked.c.recorded_at,
            ranked.c.note,
        )
        .where(ranked.c.rank == 1)
        .subquery("cell")
    )


async def standing_judgements(
    session: AsyncSession, pupil_id: uuid.UUID, as_at: date | None
) -> list[dict[str, Any]]:
    """The judgements standing in the pupil's cells (now, or as at ``as_at``) that hold a
    descriptor, with their objective and descriptor, in subject and objective order.
    ``secure_value`` is the value of the framework scale's secure descriptor (None if it has
    none)."""
    cell = _current(pupil_id) if as_at is None else _as_at(pupil_id, as_at)
    secure = aliased(Descriptor, name="secure")
    statement = (
        sa.select(
            cell.c.objective_id,
            col(Objective.framework_id),
            cell.c.subject_id,
            col(Objective.code),
            col(Objective.statement),
            col(Objective.curriculum_years),
            cell.c.descriptor_id,
            col(Descriptor.code).label("descriptor_code"),
            col(Descriptor.label),
            col(Descriptor.band),
            col(Descriptor.colour),
            col(Descriptor.value),
            col(secure.value).label("secure_value"),
            cell.c.assessed_on,
            cell.c.recorded_at,
            cell.c.note,
        )
        .select_from(cell)
        .join(Objective, col(Objective.id) == cell.c.objective_id)
        .join(Framework, col(Framework.id) == col(Objective.framework_id))
        .join(Subject, col(Subject.id) == cell.c.subject_id)
        .join(Descriptor, col(Descriptor.id) == cell.c.descriptor_id)
        .outerjoin(Scale, col(Scale.id) == col(Framework.scale_id))
        .outerjoin(
            secure,
            sa.and_(
                col(secure.scale_id) == col(Scale.id), col(secure.code) == col(Scale.secure_from)
            ),
        )
        .order_by(
            col(Subject.position),
            col(Subject.code),
            col(Framework.name),
            col(Objective.position),
            col(Objective.code),
        )
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def current_values(
    session: AsyncSession, pupil_id: uuid.UUID, as_at: date | None
) -> list[Any]:
    """The pupil's current measure values, at points assessed on or before ``as_at`` (all
    points if None), by point date, then measure: rows of the value, its measure, its
    descriptor (scale values; else None) and its point's code, academic year and date."""
    statement = (
        sa.select(
            MeasureValue,
            Measure,
            Descriptor,
            col(AssessmentPoint.code).label("assessment_point_code"),
            col(AssessmentPoint.academic_year),
            col(AssessmentPoint.assessed_on),
        )
        .join(Measure, col(Measure.id) == col(MeasureValue.measure_id))
        .join(AssessmentPoint, col(AssessmentPoint.id) == col(MeasureValue.assessment_point_id))
        .outerjoin(Descriptor, col(Descriptor.id) == col(MeasureValue.descriptor_id))
        .where(col(MeasureValue.pupil_id) == pupil_id)
        .order_by(
            col(AssessmentPoint.assessed_on),
            col(AssessmentPoint.position),
            col(Measure.position),
            col(Measure.code),
        )
    )
    if as_at is not None:
        statement = statement.where(col(AssessmentPoint.assessed_on) <= as_at)
    return list(await session.execute(statement))


# --- History -----------------------------------------------------------------------------
_HISTORY_ORDER: list[sa.ColumnElement[Any]] = [
    col(ObjectiveJudgement.recorded_at),
    col(ObjectiveJudgement.id),
]


async def judgement_history(
    session: AsyncSession,
    pupil_id: uuid.UUID,
    *,
    objective_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[dict[str, Any]]:
    """Every judgement recorded for the pupil, clearings included, newest first."""
    statement = (
        sa.select(
            col(ObjectiveJudgement.id),
            col(ObjectiveJudgement.objective_id),
            col(Objective.code).label("objective_code"),
            col(ObjectiveJudgement.subject_id),
            col(ObjectiveJudgement.descriptor_id),
            col(Descriptor.code).label("descriptor_code"),
            col(ObjectiveJudgement.assessed_on),
            col(ObjectiveJudgement.recorded_at),
            col(ObjectiveJudgement.recorded_by),
            col(ObjectiveJudgement.note),
        )
        .join(Objective, col(Objective.id) == col(ObjectiveJudgement.objective_id))
        .outerjoin(Descriptor, col(Descriptor.id) == col(ObjectiveJudgement.descriptor_id))
        .where(col(ObjectiveJudgement.pupil_id) == pupil_id)
    )
    if objective_id is not None:
        statement = statement.where(col(ObjectiveJudgement.objective_id) == objective_id)
    if subject_id is not None:
        statement = statement.where(col(ObjectiveJudgement.subject_id) == subject_id)
    return await paginate(
        session, statement, order_by=_HISTORY_ORDER, cursor=cursor, limit=limit, descending=True
    )
