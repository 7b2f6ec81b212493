"""Trusts, schools and assessment points."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import within
from app.db.tenancy import AssessmentPoint, School, Trust


async def get_trust(session: AsyncSession, trust_id: uuid.UUID) -> Trust | None:
    return await session.get(Trust, trust_id)


async def get_school(session: AsyncSession, school_id: uuid.UUID) -> School | None:
    return await session.get(School, school_id)


async def get_schools(session: AsyncSession, school_ids: Collection[uuid.UUID]) -> list[School]:
    """The schools (those that exist), in one statement."""
    if not school_ids:
        return []
    return list(await session.scalars(sa.select(School).where(col(School.id).in_(school_ids))))


async def get_assessment_point(
    session: AsyncSession, point_id: uuid.UUID
) -> AssessmentPoint | None:
    return await session.get(AssessmentPoint, point_id)


async def urn_taken(session: AsyncSession, urn: str, *, besides: uuid.UUID | None = None) -> bool:
    statement = sa.select(School.id).where(col(School.urn) == urn)
    if besides is not None:
        statement = statement.where(col(School.id) != besides)
    return (await session.scalar(statement.limit(1))) is not None


async def list_trusts(
    session: AsyncSession,
    reach: Reach,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Trust]:
    statement = sa.select(Trust).where(within(reach, trust_column=col(Trust.id)))
    if updated_since is not None:
        statement = statement.where(col(Trust.updated_at) >= updated_since)
    return await paginate(
        session,
        statement,
        order_by=[col(Trust.updated_at), col(Trust.id)],
        cursor=cursor,
        limit=limit,
    )


async def list_schools(
    session: AsyncSession,
    reach: Reach,
    *,
    trust_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[School]:
    statement = sa.select(School).where(within(reach, school_column=col(School.id)))
    if trust_id is not None:
        statement = statement.where(col(School.trust_id) == trust_id)
    if updated_since is not None:
        statement = statement.where(col(School.updated_at) >= updated_since)
    return await paginate(
        session,
        statement,
        order_by=[col(School.updated_at), col(School.id)],
        cursor=cursor,
        limit=limit,
    )


async def school_ids_of_trusts(
    session: AsyncSession, trust_ids: set[uuid.UUID]
) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    if not trust_ids:
        return {}
    rows = await session.execute(
        sa.select(School.trust_id, School.id).where(col(School.trust_id).in_(trust_ids))
    )
    found: dict[uuid.UUID, set[uuid.UUID]] = {trust_id: set() for trust_id in trust_ids}
    for trust_id, school_id in rows:
        found[trust_id].add(school_id)
    return {trust_id: frozenset(ids) for trust_id, ids in found.items()}


async def list_assessment_points(
    session: AsyncSession,
    school_id: uuid.UUID,
    *,
    academic_year: int | None,
    cursor: str | None,
    limit: int,
) -> Page[AssessmentPoint]:
    statement = sa.select(AssessmentPoint).where(col(AssessmentPoint.school_id) == school_id)
    if academic_year is not None:
        statement = statement.where(col(AssessmentPoint.academic_year) == academic_year)
    order = [
        col(AssessmentPoint.academic_year),
        col(AssessmentPoint.position),
        col(AssessmentPoint.id),
    ]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def assessment_point_codes(
    session: AsyncSession, school_id: uuid.UUID, academic_year: int
) -> set[str]:
    rows = await session.scalars(
        sa.select(AssessmentPoint.code).where(
            col(AssessmentPoint.school_id) == school_id,
            col(AssessmentPoint.academic_year) == academic_year,
        )
    )
    return set(rows.all())


async def get_school_by_urn(session: AsyncSession, urn: str) -> School | None:
    return await session.scalar(sa.select(School).where(col(School.urn) == urn))
