"""Writing judgements: each appended to its cell's history, and the cell's current row put.
What stands in a cell is ranked here by the domain's rule (app.domain.markbook.standing)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.curriculum import Objective
from app.db.markbook import JudgementState, ObjectiveJudgement
from app.db.queries.bulk import write_rows
from app.db.queries.definitions import FRAMEWORK

HISTORY = ObjectiveJudgement.__table__  # type: ignore[attr-defined]
STATE = JudgementState.__table__  # type: ignore[attr-defined]
OBJECTIVE = Objective.__table__  # type: ignore[attr-defined]
STATE_COLUMNS = [c.name for c in STATE.columns]


def standing_rank(*partition: sa.ColumnElement[Any]) -> sa.Label[int]:
    """Each history row's place in its cell (``partition``) by the rule of what stands
    (app.domain.markbook.standing): later assessed first, then later recorded. Rank 1 stands."""
    return (
        sa.func.row_number()
        .over(
            partition_by=partition,
            order_by=(
                HISTORY.c.assessed_on.desc(),
                HISTORY.c.recorded_at.desc(),
                HISTORY.c.version.desc(),
            ),
        )
        .label("rank")
    )


async def objectives_to_judge(
    session: AsyncSession, objective_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """Each objective with what a judgement of it needs: its framework's owner, subject and
    scale, and whether it is archived."""
    if not objective_ids:
        return {}
    statement = sa.select(
        OBJECTIVE.c.id,
        OBJECTIVE.c.archived,
        OBJECTIVE.c.framework_id,
        FRAMEWORK.c.subject_id,
        FRAMEWORK.c.scale_id,
        FRAMEWORK.c.school_id,
        FRAMEWORK.c.trust_id,
    ).join(FRAMEWORK, FRAMEWORK.c.id == OBJECTIVE.c.framework_id)
    found: dict[uuid.UUID, Any] = {}
    ordered = list(objective_ids)
    for start in range(0, len(ordered), 5_000):
        chunk = statement.where(OBJECTIVE.c.id.in_(ordered[start : start + 5_000]))
        found.update({row.id: row for row in (await session.execute(chunk))})
    return found


async def write_judgements(
    session: AsyncSession, history: list[dict[str, Any]], states: list[dict[str, Any]]
) -> None:
    """Append the judgements to the history and put the cells' new current rows."""
    await write_rows(session, HISTORY, history)
    key = ("pupil_id", "objective_id")
    await write_rows(
        session,
        STATE,
        states,
        conflict=key,
        update=[name for name in STATE_COLUMNS if name not in key],
    )


async def has_judgements(session: AsyncSession, school_id: uuid.UUID) -> bool:
    found = await session.scalar(
        sa.select(HISTORY.c.id).where(HISTORY.c.school_id == school_id).limit(1)
    )
    return found is not None
