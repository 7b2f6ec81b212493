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
from app.db.tenancy import School

# The schools a trust-wide grant reaches, and the school a school grant names (for its trust).
_TRUST_SCHOOL = School.__table__.alias("trust_school")
_GRANT_SCHOOL = School.__table__.alias("grant_school")


def _user_as_caller() -> sa.Select:
    user, grant = User.__table__, RoleGrant.__table__
    return (
        sa.select(
            user.c.display_name,
            user.c.email,
            user.c.is_active,
            user.c.credentials_version,
            grant.c.id.label("grant_id"),
            grant.c.role,
            grant.c.trust_id,
            grant.c.school_id,
            grant.c.pupil_id,
            _TRUST_SCHOOL.c.id.label("trust_school_id"),
            _GRANT_SCHOOL.c.trust_id.label("school_trust_id"),
        )
        .select_from(
            user.outerjoin(grant, grant.c.user_id == user.c.id)
            .outerjoin(_TRUST_SCHOOL, _TRUST_SCHOOL.c.trust_id == grant.c.trust_id)
            .outerjoin(_GRANT_SCHOOL, _GRANT_SCHOOL.c.id == grant.c.school_id)
        )
        .where(user.c.id == sa.bindparam("caller_id"))
        .order_by(grant.c.created_at, grant.c.id)
    )


def _client_as_caller() -> sa.Select:
    client = IntegrationClient.__table__
    return (
        sa.select(
            client.c.name,
            client.c.scopes,
            client.c.trust_id,
            client.c.school_id,
            client.c.is_active,
            client.c.credentials_version,
            _TRUST_SCHOOL.c.id.label("trust_school_id"),
            _GRANT_SCHOOL.c.trust_id.label("school_trust_id"),
        )
        .select_from(
            client.outerjoin(
                _TRUST_SCHOOL, _TRUST_SCHOOL.c.trust_id == client.c.trust_id
            ).outerjoin(_GRANT_SCHOOL, _GRANT_SCHOOL.c.id == client.c.school_id)
        )
        .where(client.c.id == sa.bindparam("caller_id"))
    )


# Built once: every authenticated request runs one of them, and a statement built afresh
# costs its construction and its cache key (SQLAlchemy memoizes both per statement object).
_USER_AS_CALLER = _user_as_caller()
_CLIENT_AS_CALLER = _client_as_caller()


async def user_as_caller(session: AsyncSession, user_id: uuid.UUID) -> list[sa.Row]:
    """A signed-in person as the policy needs them, in one statement: the account, each of its
    grants (oldest first), and per grant the schools it reaches. One row per grant and school
    of a trust grant's trust (a grant reaching none gives one row, its school columns null); an
    account without grants gives one row with null grant columns; an unknown id gives none.
    Columns: display_name, email, is_active, credentials_version, grant_id, role, trust_id,
    school_id, pupil_id, trust_school_id (a school of the grant's trust), school_trust_id (the
    trust of the grant's school)."""
    return list(await session.execute(_USER_AS_CALLER, {"caller_id": user_id}))


async def client_as_caller(session: AsyncSession, client_pk: uuid.UUID) -> list[sa.Row]:
    """An integration client as the policy needs it, in one statement: the client, and the
    schools its trust holds (one row each; one row if none) or its school's trust. Columns:
    name, scopes, trust_id, school_id, is_active, credentials_version, trust_school_id,
    school_trust_id. An unknown id gives no rows."""
    return list(await session.execute(_CLIENT_AS_CALLER, {"caller_id": client_pk}))


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
