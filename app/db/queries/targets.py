"""Reading and writing pupils' targets; achieving those on objectives judged secure."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.curriculum import Objective, Subject
from app.db.markbook import JudgementState
from app.db.queries.bulk import among
from app.db.targets import PupilTarget
from app.db.tenancy import AssessmentPoint
from app.domain.targets import TargetStatus

TARGET = PupilTarget.__table__  # type: ignore[attr-defined]
STATE = JudgementState.__table__  # type: ignore[attr-defined]


def _read() -> sa.Select[Any]:
    return (
        sa.select(
            PupilTarget,
            col(Objective.code).label("objective_code"),
            col(Objective.statement),
            col(AssessmentPoint.name).label("due_point_name"),
            col(AssessmentPoint.assessed_on).label("due_on"),
        )
        .outerjoin(Objective, col(Objective.id) == col(PupilTarget.objective_id))
        .outerjoin(AssessmentPoint, col(AssessmentPoint.id) == col(PupilTarget.due_point_id))
    )


async def targets_of(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    *,
    statuses: Collection[TargetStatus] | None = None,
    closed_since: date | None = None,
    target_ids: Collection[uuid.UUID] | None = None,
) -> list[Any]:
    """The pupils' targets (of the statuses given; closed ones only if closed on or after
    ``closed_since``), open ones by due date then date set, the rest most recently closed
    first: rows of the target, its objective's code and statement, and its due point's name
    and date. One statement, however many pupils."""
    if not pupil_ids:
        return []
    statement = _read().where(among(session, col(PupilTarget.pupil_id), set(pupil_ids)))
    if statuses is not None:
        statement = statement.where(col(PupilTarget.status).in_([str(s) for s in statuses]))
    if closed_since is not None:
        statement = statement.where(
            sa.or_(col(PupilTarget.closed_on).is_(None), col(PupilTarget.closed_on) >= closed_since)
        )
    if target_ids is not None:
        statement = statement.where(col(PupilTarget.id).in_(list(target_ids)))
    statement = statement.order_by(
        col(PupilTarget.closed_on).desc().nulls_first(),
        col(AssessmentPoint.assessed_on).nulls_last(),
        col(PupilTarget.set_on),
        col(PupilTarget.created_at),
        col(PupilTarget.id),
    )
    return list(await session.execute(statement))


async def get_target(session: AsyncSession, target_id: uuid.UUID) -> PupilTarget | None:
    return await session.get(PupilTarget, target_id)


async def school_subjects(session: AsyncSession, subject_ids: Collection[uuid.UUID]) -> list[Any]:
    """The subjects, by id: their names and owners."""
    if not subject_ids:
        return []
    statement = sa.select(Subject).where(col(Subject.id).in_(list(subject_ids)))
    return list(await session.scalars(statement))


async def get_point(session: AsyncSession, point_id: uuid.UUID) -> AssessmentPoint | None:
    return await session.get(AssessmentPoint, point_id)


async def achieve(
    session: AsyncSession,
    cells: Collection[tuple[uuid.UUID, uuid.UUID]],
    *,
    by: uuid.UUID,
    at: datetime,
) -> list[Any]:
    """Mark achieved the open targets on the cells (pupil, objective), dated the day the
    judgement standing in the cell was assessed: one statement for all the cells. Returns the
    targets achieved (id, pupil, objective, date)."""
    if not cells:
        return []
    assessed_on = (
        sa.select(STATE.c.assessed_on)
        .where(STATE.c.pupil_id == TARGET.c.pupil_id, STATE.c.objective_id == TARGET.c.objective_id)
        .scalar_subquery()
    )
    statement = (
        sa.update(TARGET)
        .where(
            TARGET.c.status == str(TargetStatus.OPEN),
            sa.tuple_(TARGET.c.pupil_id, TARGET.c.objective_id).in_(list(cells)),
        )
        .values(
            status=str(TargetStatus.ACHIEVED),
            closed_on=assessed_on,
            closed_by=by,
            updated_at=at,
        )
        .returning(TARGET.c.id, TARGET.c.pupil_id, TARGET.c.objective_id, TARGET.c.closed_on)
    )
    return list(await session.execute(statement))
