"""Reading definitions: subjects, frameworks, objectives, scales and measures."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import within
from app.db.reports import ReportTemplate

Owned = TypeVar("Owned", Subject, Framework, Scale, Measure, ReportTemplate)


async def list_owned(
    session: AsyncSession,
    reach: Reach,
    model: type[Owned],
    *,
    school_id: uuid.UUID | None,
    trust_id: uuid.UUID | None,
    filters: dict[str, Any],
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Owned]:
    table: Any = model
    statement = sa.select(model).where(
        within(reach, school_column=col(table.school_id), trust_column=col(table.trust_id))
    )
    if school_id is not None:
        used = col(table.school_id) == school_id
        if trust_id is not None:
            used = sa.or_(used, col(table.trust_id) == trust_id)
        statement = statement.where(used)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(table, name) == value)
    if updated_since is not None:
        statement = statement.where(col(table.updated_at) >= updated_since)
    order = [col(table.updated_at), col(table.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def taken(
    session: AsyncSession,
    model: type[Owned],
    owner: Any,
    column: str,
    value: str,
    *,
    besides: uuid.UUID | None,
) -> bool:
    """Whether the owner (trust or school) already has one with this code or name."""
    table: Any = model
    statement = sa.select(table.id).where(
        getattr(table, column) == value,
        col(table.trust_id) == owner.trust_id
        if owner.trust_id is not None
        else col(table.school_id) == owner.school_id,
    )
    if besides is not None:
        statement = statement.where(col(table.id) != besides)
    return (await session.scalar(statement.limit(1))) is not None


async def descriptors_of(
    session: AsyncSession, scale_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Descriptor]]:
    found: dict[uuid.UUID, list[Descriptor]] = defaultdict(list)
    if scale_ids:
        rows = await session.scalars(
            sa.select(Descriptor)
            .where(col(Descriptor.scale_id).in_(list(scale_ids)))
            .order_by(col(Descriptor.scale_id), col(Descriptor.position))
        )
        for descriptor in rows:
            found[descriptor.scale_id].append(descriptor)
    return found


async def objectives_of(session: AsyncSession, framework_id: uuid.UUID) -> list[Objective]:
    rows = await session.scalars(
        sa.select(Objective)
        .where(col(Objective.framework_id) == framework_id)
        .order_by(col(Objective.position))
    )
    return list(rows.all())


async def objective_counts(
    session: AsyncSession, framework_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not framework_ids:
        return {}
    rows = await session.execute(
        sa.select(Objective.framework_id, sa.func.count())
        .where(col(Objective.framework_id).in_(list(framework_ids)), ~col(Objective.archived))
        .group_by(col(Objective.framework_id))
    )
    return {framework_id: count for framework_id, count in rows}


async def list_objectives(
    session: AsyncSession,
    framework_id: uuid.UUID,
    *,
    include_archived: bool,
    curriculum_year: int | None,
    cursor: str | None,
    limit: int,
) -> Page[Objective]:
    statement = sa.select(Objective).where(col(Objective.framework_id) == framework_id)
    if not include_archived:
        statement = statement.where(~col(Objective.archived))
    if curriculum_year is not None:
        statement = statement.where(
            col(Objective.year_from) <= curriculum_year, col(Objective.year_to) >= curriculum_year
        )
    order = [col(Objective.position), col(Objective.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)
