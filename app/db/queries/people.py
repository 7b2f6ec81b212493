"""Users, role grants and integration clients."""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import within


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(sa.select(User).where(col(User.email) == email.lower()))


async def grants_of(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[RoleGrant]]:
    found: dict[uuid.UUID, list[RoleGrant]] = defaultdict(list)
    if user_ids:
        rows = await session.scalars(
            sa.select(RoleGrant)
            .where(col(RoleGrant.user_id).in_(user_ids))
            .order_by(col(RoleGrant.created_at), col(RoleGrant.id))
        )
        for grant in rows:
            found[grant.user_id].append(grant)
    return found


async def count_grants(session: AsyncSession, *, role: str, school_id: uuid.UUID) -> int:
    """How many grants of ``role`` a school has."""
    found = await session.scalar(
        sa.select(sa.func.count()).where(
            col(RoleGrant.role) == role, col(RoleGrant.school_id) == school_id
        )
    )
    return int(found or 0)


def _grant_in_reach(reach: Reach) -> sa.ColumnElement[bool]:
    return within(
        reach, school_column=col(RoleGrant.school_id), trust_column=col(RoleGrant.trust_id)
    )


async def list_users(
    session: AsyncSession,
    reach: Reach,
    *,
    school_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[User]:
    statement = sa.select(User)
    grant_filter = [_grant_in_reach(reach)]
    if school_id is not None:
        grant_filter.append(col(RoleGrant.school_id) == school_id)
    if not reach.everything or school_id is not None:
        holders = sa.select(RoleGrant.user_id).where(*grant_filter)
        statement = statement.where(col(User.id).in_(holders))
    return await paginate(session, statement, order_by=[col(User.id)], cursor=cursor, limit=limit)


async def get_client(session: AsyncSession, client_pk: uuid.UUID) -> IntegrationClient | None:
    return await session.get(IntegrationClient, client_pk)


async def get_client_by_client_id(
    session: AsyncSession, client_id: str
) -> IntegrationClient | None:
    return await session.scalar(
        sa.select(IntegrationClient).where(col(IntegrationClient.client_id) == client_id)
    )


async def list_clients(
    session: AsyncSession, reach: Reach, *, cursor: str | None, limit: int
) -> Page[IntegrationClient]:
    statement = sa.select(IntegrationClient).where(
        within(
            reach,
            school_column=col(IntegrationClient.school_id),
            trust_column=col(IntegrationClient.trust_id),
        )
    )
    return await paginate(
        session, statement, order_by=[col(IntegrationClient.id)], cursor=cursor, limit=limit
    )


async def grants_without_pupil(
    session: AsyncSession, school_id: uuid.UUID, roles: tuple[str, ...]
) -> list[RoleGrant]:
    """A school's grants of these roles (pupil, parent) that name no pupil yet."""
    return list(
        await session.scalars(
            sa.select(RoleGrant).where(
                col(RoleGrant.school_id) == school_id,
                col(RoleGrant.role).in_(roles),
                col(RoleGrant.pupil_id).is_(None),
            )
        )
    )
