"""Reading pupils' records: whether the caller reaches each pupil, the judgements standing in
their cells (now, or as at a date), their measure values, and the history of their cells.

Each read is one statement for the pupils asked about, whatever their number and the number
of cells: the REST record asks for one pupil, GraphQL's DataLoaders for a batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.markbook import JudgementState, JudgementSummary, MeasureValue, ObjectiveJudgement
from app.db.queries.bulk import among
from app.db.queries.judgements import standing_rank
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import pupils_within
from app.db.queries.reports import year_objectives
from app.db.roster import Pupil
from app.db.tenancy import AssessmentPoint, School


async def pupils_reached(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], reaches: Sequence[Reach]
) -> dict[uuid.UUID, tuple[Pupil, tuple[bool, ...]]]:
    """Each of the pupils that any of ``reaches`` covers, with whether each reach covers them
    (in the order of ``reaches``); pupils none covers (or that do not exist) are left out."""
    if not pupil_ids or not reaches:
        return {}

    def covered(reach: Reach) -> sa.ColumnElement[bool]:
        return pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id))

    statement = sa.select(
        Pupil, *(sa.case((covered(r), sa.true()), else_=sa.false()) for r in reaches)
    ).where(
        among(session, col(Pupil.id), set(pupil_ids)),
        sa.or_(*(covered(r) for r in reaches)),
    )
    return {
        row[0].id: (row[0], tuple(bool(flag) for flag in row[1:]))
        for row in await session.execute(statement)
    }


async def pupil_reached(
    session: AsyncSession, pupil_id: uuid.UUID, *, judgements: Reach, values: Reach
) -> tuple[Pupil, bool, bool] | None:
    """The pupil, and whether each reach (judgement read, value read) covers them; None if
    neither does (or there is no such pupil)."""
    found = (await pupils_reached(session, [pupil_id], [judgements, values])).get(pupil_id)
    if found is None:
        return None
    pupil, (sees_judgements, sees_values) = found
    return pupil, sees_judgements, sees_values


async def subject_ids_of_schools(
    session: AsyncSession, school_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The subjects each school uses (its own and its trust's), in the school's order."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {school_id: [] for school_id in school_ids}
    if not school_ids:
        return found
    statement = (
        sa.select(School.id, Subject.id)
        .join(
            Subject,
            sa.or_(
                col(Subject.school_id) == col(School.id),
                sa.and_(
                    col(School.trust_id).is_not(None),
                    col(Subject.trust_id) == col(School.trust_id),
                ),
            ),
        )
        .where(col(School.id).in_(list(school_ids)))
        .order_by(col(School.id), col(Subject.position), col(Subject.code), col(Subject.id))
    )
    for school_id, subject_id in await session.execute(statement):
        found[school_id].append(subject_id)
    return found


def _current(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], subject_id: uuid.UUID | None
) -> sa.Subquery:
    state = JudgementState.__table__.c  # type: ignore[attr-defined]
    statement = sa.select(
        state.pupil_id,
        state.school_id,
        state.objective_id,
        state.subject_id,
        state.descriptor_id,
        state.assessed_on,
        state.recorded_at,
        state.note,
    ).where(among(session, state.pupil_id, set(pupil_ids)))
    if subject_id is not None:
        statement = statement.where(state.subject_id == subject_id)
    return statement.subquery("cell")


def _as_at(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    as_at: date,
    subject_id: uuid.UUID | None,
) -> sa.Subquery:
    """Per cell, the judgement standing as at the date (app.domain.markbook.standing): the
    latest assessed on or before it, ties going to the one recorded later."""
    history = ObjectiveJudgement.__table__.c  # type: ignore[attr-defined]
    ranked = sa.select(
        history.pupil_id,
        history.school_id,
        history.objective_id,
        history.subject_id,
        history.descriptor_id,
        history.assessed_on,
        history.recorded_at,
        history.note,
        standing_rank(history.pupil_id, history.objective_id),
    ).where(among(session, history.pupil_id, set(pupil_ids)), history.assessed_on <= as_at)
    if subject_id is not None:
        ranked = ranked.where(history.subject_id == subject_id)
    cells = ranked.subquery("ranked")
    return (
        sa.select(
            cells.c.pupil_id,
            cells.c.school_id,
            cells.c.objective_id,
            cells.c.subject_id,
            cells.c.descriptor_id,
            cells.c.assessed_on,
            cells.c.recorded_at,
            cells.c.note,
        )
        .where(cells.c.rank == 1)
        .subquery("cell")
    )


async def standing_judgements(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    as_at: date | None,
    *,
    subject_id: uuid.UUID | None = None,
    reach: Reach | None = None,
) -> list[dict[str, Any]]:
    """The judgements standing in the pupils' cells (now, or as at ``as_at``; of one subject
    if ``subject_id`` is given; only pupils ``reach`` covers, if given) that hold a
    descriptor, with their pupil, objective and descriptor, in subject and objective order.
    ``secure_value`` is the value of the framework scale's secure descriptor (None if it has
    none)."""
    if not pupil_ids:
        return []
    cell = (
        _current(session, pupil_ids, subject_id)
        if as_at is None
        else _as_at(session, pupil_ids, as_at, subject_id)
    )
    secure = aliased(Descriptor, name="secure")
    statement = (
        sa.select(
            cell.c.pupil_id,
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
    if reach is not None:
        statement = statement.where(
            pupils_within(reach, pupil_column=cell.c.pupil_id, school_column=cell.c.school_id)
        )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def current_values(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    as_at: date | None,
    *,
    point_id: uuid.UUID | None = None,
    reach: Reach | None = None,
) -> list[Any]:
    """The pupils' current measure values, at points assessed on or before ``as_at`` (all
    points if None; only ``point_id`` if given; only pupils ``reach`` covers, if given), by
    point date, then measure: rows of the value (with its pupil), its measure, its descriptor
    (scale values; else None) and its point's code, academic year and date."""
    if not pupil_ids:
        return []
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
        .where(among(session, col(MeasureValue.pupil_id), set(pupil_ids)))
        .order_by(
            col(AssessmentPoint.assessed_on),
            col(AssessmentPoint.position),
            col(Measure.position),
            col(Measure.code),
        )
    )
    if as_at is not None:
        statement = statement.where(col(AssessmentPoint.assessed_on) <= as_at)
    if point_id is not None:
        statement = statement.where(col(MeasureValue.assessment_point_id) == point_id)
    if reach is not None:
        statement = statement.where(
            pupils_within(
                reach,
                pupil_column=col(MeasureValue.pupil_id),
                school_column=col(MeasureValue.school_id),
            )
        )
    return list(await session.execute(statement))


async def figures(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    academic_year: int,
    *,
    subject_id: uuid.UUID | None = None,
    as_at: date | None = None,
    reach: Reach | None = None,
) -> list[dict[str, Any]]:
    """The pupils' figures at each assessment point of ``academic_year`` (assessed on or
    before ``as_at``, if given), from the maintained summaries (of one subject if
    ``subject_id`` is given; only pupils ``reach`` covers, if given): the curriculum year
    counted, the objectives judged, their values summed, how many are secure, and how many
    objectives cover that year (``objectives``). By point date, then subject."""
    if not pupil_ids:
        return []
    summary = JudgementSummary.__table__.c  # type: ignore[attr-defined]
    among_pupils = among(session, summary.pupil_id, set(pupil_ids))
    curriculum = year_objectives(
        sa.select(col(Pupil.school_id)).where(among(session, col(Pupil.id), set(pupil_ids)))
    )
    statement = (
        sa.select(
            summary.pupil_id,
            summary.subject_id,
            summary.assessment_point_id,
            col(AssessmentPoint.code).label("assessment_point_code"),
            col(AssessmentPoint.academic_year),
            col(AssessmentPoint.assessed_on),
            summary.curriculum_year,
            summary.judged,
            summary.value_sum,
            summary.secure,
            sa.func.coalesce(curriculum.c.objectives, 0).label("objectives"),
        )
        .select_from(JudgementSummary.__table__)  # type: ignore[attr-defined]
        .join(AssessmentPoint, col(AssessmentPoint.id) == summary.assessment_point_id)
        .join(Subject, col(Subject.id) == summary.subject_id)
        .outerjoin(
            curriculum,
            sa.and_(
                curriculum.c.school_id == summary.school_id,
                curriculum.c.subject_id == summary.subject_id,
                curriculum.c.year == summary.curriculum_year,
            ),
        )
        .where(among_pupils, col(AssessmentPoint.academic_year) == academic_year)
        .order_by(
            col(AssessmentPoint.assessed_on),
            col(AssessmentPoint.position),
            col(Subject.position),
            col(Subject.code),
        )
    )
    if subject_id is not None:
        statement = statement.where(summary.subject_id == subject_id)
    if as_at is not None:
        statement = statement.where(col(AssessmentPoint.assessed_on) <= as_at)
    if reach is not None:
        statement = statement.where(
            pupils_within(reach, pupil_column=summary.pupil_id, school_column=summary.school_id)
        )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


# --- History -----------------------------------------------------------------------------
_HISTORY_ORDER: list[sa.ColumnElement[Any]] = [
    col(ObjectiveJudgement.recorded_at),
    col(ObjectiveJudgement.id),
]


def _history() -> sa.Select[Any]:
    return (
        sa.select(
            col(ObjectiveJudgement.id),
            col(ObjectiveJudgement.pupil_id),
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
    )


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
    statement = _history().where(col(ObjectiveJudgement.pupil_id) == pupil_id)
    if objective_id is not None:
        statement = statement.where(col(ObjectiveJudgement.objective_id) == objective_id)
    if subject_id is not None:
        statement = statement.where(col(ObjectiveJudgement.subject_id) == subject_id)
    return await paginate(
        session, statement, order_by=_HISTORY_ORDER, cursor=cursor, limit=limit, descending=True
    )


async def cell_histories(
    session: AsyncSession, cells: Collection[tuple[uuid.UUID, uuid.UUID]], reach: Reach
) -> list[dict[str, Any]]:
    """Every judgement recorded in each cell (pupil, objective) of a pupil ``reach`` covers,
    clearings included, newest first (in the order ``judgement_history`` pages them)."""
    if not cells:
        return []
    statement = _history().where(
        among(session, col(ObjectiveJudgement.pupil_id), {p for p, _ in cells}),
        col(ObjectiveJudgement.objective_id).in_(list({o for _, o in cells})),
        pupils_within(
            reach,
            pupil_column=col(ObjectiveJudgement.pupil_id),
            school_column=col(ObjectiveJudgement.school_id),
        ),
    )
    order = [column.desc() for column in _HISTORY_ORDER]
    rows = (await session.execute(statement.order_by(*order))).mappings()
    wanted = set(cells)
    return [dict(row) for row in rows if (row["pupil_id"], row["objective_id"]) in wanted]


async def all_judgements(session: AsyncSession, pupil_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every judgement recorded for the pupil, clearings included, oldest first: one
    statement (for a subject access export)."""
    statement = _history().where(col(ObjectiveJudgement.pupil_id) == pupil_id)
    rows = await session.execute(statement.order_by(*_HISTORY_ORDER))
    return [dict(row) for row in rows.mappings()]
