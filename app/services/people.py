"""People and integrations: users with role grants, and integration clients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.people import (
    IntegrationClientCreate,
    IntegrationClientCredentials,
    IntegrationClientUpdate,
    RoleGrantCreate,
    RoleGrantRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.auth import guards
from app.auth.policy import Action, Reach, Resource, may_grant, reach, require, require_any
from app.auth.principal import Principal
from app.auth.secrets import hash_secret_async, new_client_id, new_client_secret
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.queries import people as queries
from app.db.queries import roster, tenancy
from app.db.queries.paging import Page
from app.domain.roles import Role
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.audit import record, snapshot


# --- Users -------------------------------------------------------------------------------
def _audit_scope(
    found: Reach, grants: Sequence[RoleGrant | RoleGrantCreate]
) -> dict[str, uuid.UUID | None]:
    """File a change to a person under a school or trust the changer reaches, so that they (and
    whoever manages that scope) find it in the audit trail."""
    for grant in grants:
        if guards.covers_scope(found, grant) and (grant.trust_id or grant.school_id):
            return _grant_scope(grant)
    return {"trust_id": None, "school_id": None}


async def read_users(
    session: AsyncSession, principal: Principal, users: list[User]
) -> list[UserRead]:
    """People with the roles the caller can see: a person's roles elsewhere stay private."""
    readable = reach(principal, Resource.USER, Action.READ)
    grants = await queries.grants_of(session, [u.id for u in users])
    return [
        UserRead.model_validate(
            user,
            update={
                "grants": [
                    RoleGrantRead.model_validate(g)
                    for g in grants.get(user.id, [])
                    if guards.covers_scope(readable, g)
                ]
            },
        )
        for user in users
    ]


async def _check_grantable(
    session: AsyncSession, principal: Principal, grant_in: RoleGrantCreate, field: str
) -> None:
    """A grant may only be given within the giver's own reach, and only of a role they may give."""
    writable = reach(principal, Resource.USER, Action.WRITE)
    if grant_in.trust_id is not None:
        exists = await tenancy.get_trust(session, grant_in.trust_id) is not None
    elif grant_in.school_id is not None:
        exists = await tenancy.get_school(session, grant_in.school_id) is not None
    else:
        exists = True
    if not guards.covers_scope(writable, grant_in) or not exists:
        raise InvalidInput.at(field, "no such trust or school within your reach")
    if not may_grant(principal, grant_in.role):
        raise Forbidden(f"you may not give the role {grant_in.role}")
    # A pupil's or parent's grant names whose record they see: a pupil of the grant's school.
    # The same words whether the pupil is elsewhere or nowhere, so nothing leaks. Without a
    # pupil the grant is allowed, but reaches no record until one is named.
    if grant_in.pupil_id is not None and grant_in.school_id is not None:
        school_only = Reach(school_ids=frozenset({grant_in.school_id}))
        if await roster.get_pupil(session, school_only, grant_in.pupil_id) is None:
            raise InvalidInput.at(f"{field}.pupil_id", "no such pupil in this school")


def _credentials_changed(holder: User | IntegrationClient) -> None:
    """What the holder's tokens stand for changed (password or secret, roles or scopes, status):
    their bearer and refresh tokens stop working, and they sign in again."""
    holder.credentials_version += 1


def _grant_key(grant: RoleGrant | RoleGrantCreate) -> tuple[object, ...]:
    """What makes two grants the same: a parent of two pupils holds one grant for each."""
    return (str(grant.role), grant.trust_id, grant.school_id, grant.pupil_id)


def _grant_scope(grant: RoleGrant) -> dict[str, uuid.UUID | None]:
    return {"trust_id": grant.trust_id, "school_id": grant.school_id}


async def create_user(
    session: AsyncSession, *, principal: Principal, user_in: UserCreate
) -> UserRead:
    """Add a person. Anyone but a system administrator must give them a role within their own
    reach at once, so that nobody creates accounts they could not see again."""
    writable = require_any(principal, Resource.USER, Action.WRITE)
    if not user_in.grants and not writable.everything:
        raise InvalidInput.at("body.grants", "give the new user at least one role")
    for index, grant_in in enumerate(user_in.grants):
        await _check_grantable(session, principal, grant_in, f"body.grants.{index}")
    email = str(user_in.email).lower()
    user = await queries.get_user_by_email(session, email)
    if user is not None:
        held = (await queries.grants_of(session, [user.id])).get(user.id, [])
        readable = reach(principal, Resource.USER, Action.READ)
        if readable.everything or any(guards.covers_scope(readable, g) for g in held):
            raise Conflict(
                f"{email} already has an account here: give them a role with "
                f"POST /v1/users/{user.id}/grants"
            )
    else:
        user = User(
            email=email,
            display_name=user_in.display_name,
            password_hash=await hash_secret_async(user_in.password) if user_in.password else None,
        )
        session.add(user)
        await session.flush()
        record(
            session,
            principal,
            action="create",
            entity=user,
            before=None,
            **_audit_scope(writable, user_in.grants),
        )
    # A person already known elsewhere (a teacher in two schools, a parent with children at
    # two) keeps one account: the roles are added to it, and its name and password stay
    # theirs. The answer is a 201 either way: nobody learns where else they hold roles.
    grants: list[RoleGrant] = []
    for grant_in in user_in.grants:
        if _grant_key(grant_in) in {_grant_key(g) for g in grants}:
            continue
        grants.append(RoleGrant.model_validate(grant_in, update={"user_id": user.id}))
    session.add_all(grants)
    for grant in grants:
        record(
            session, principal, action="create", entity=grant, before=None, **_grant_scope(grant)
        )
    await session.flush()
    return (await read_users(session, principal, [user]))[0]


async def _visible_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, action: Action
) -> tuple[User, list[RoleGrant]]:
    """A person the caller reaches through at least one of their roles. Changing the person
    themself (name, password, disabling) takes reach over every role they hold: a school
    leader must not take over an account that also administers a trust."""
    user = await queries.get_user(session, user_id)
    grants = (await queries.grants_of(session, [user_id])).get(user_id, []) if user else []
    readable = reach(principal, Resource.USER, Action.READ)
    if user is None or not (
        readable.everything or any(guards.covers_scope(readable, g) for g in grants)
    ):
        raise NotFound("user not found")
    if action is Action.WRITE:
        writable = reach(principal, Resource.USER, Action.WRITE)
        if not all(
            guards.covers_scope(writable, g) and may_grant(principal, Role(g.role)) for g in grants
        ):
            raise Forbidden("this person holds roles outside your reach; ask who manages those")
    return user, grants


async def get_user(session: AsyncSession, *, principal: Principal, user_id: uuid.UUID) -> UserRead:
    user, _ = await _visible_user(session, principal, user_id, Action.READ)
    return (await read_users(session, principal, [user]))[0]


async def update_user(
    session: AsyncSession, *, principal: Principal, user_id: uuid.UUID, user_in: UserUpdate
) -> UserRead:
    user, grants = await _visible_user(session, principal, user_id, Action.WRITE)
    changes = user_in.model_dump(exclude_unset=True)
    if user.id == principal.id and changes.get("is_active") is False:
        raise InvalidInput.at("body.is_active", "you cannot disable your own account")
    before = snapshot(user)
    if "password" in changes or changes.get("is_active", user.is_active) != user.is_active:
        _credentials_changed(user)
    if "password" in changes:
        password = changes.pop("password")
        user.password_hash = await hash_secret_async(password) if password else None
    user.sqlmodel_update(changes)
    record(
        session,
        principal,
        action="update",
        entity=user,
        before=before,
        secrets_changed=["password"] if "password" in user_in.model_fields_set else [],
        **_audit_scope(reach(principal, Resource.USER, Action.WRITE), grants),
    )
    await session.flush()
    return (await read_users(session, principal, [user]))[0]


async def list_users(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[Page[User], list[UserRead]]:
    readable = require_any(principal, Resource.USER, Action.READ)
    page = await queries.list_users(
        session, readable, school_id=school_id, cursor=cursor, limit=limit
    )
    return page, await read_users(session, principal, page.items)


async def add_grant(
    session: AsyncSession, *, principal: Principal, user_id: uuid.UUID, grant_in: RoleGrantCreate
) -> RoleGrant:
    user, grants = await _visible_user(session, principal, user_id, Action.READ)
    await _check_grantable(session, principal, grant_in, "body")
    if any(_grant_key(existing) == _grant_key(grant_in) for existing in grants):
        raise Conflict("the user already holds this role here")
    grant = RoleGrant.model_validate(grant_in, update={"user_id": user.id})
    session.add(grant)
    _credentials_changed(user)
    record(session, principal, action="create", entity=grant, before=None, **_grant_scope(grant))
    await session.flush()
    return grant


async def remove_grant(
    session: AsyncSession, *, principal: Principal, user_id: uuid.UUID, grant_id: uuid.UUID
) -> None:
    user, grants = await _visible_user(session, principal, user_id, Action.READ)
    readable = reach(principal, Resource.USER, Action.READ)
    grant = next((g for g in grants if g.id == grant_id and guards.covers_scope(readable, g)), None)
    if grant is None:
        raise NotFound("role grant not found")
    scope = _grant_scope(grant)
    writable = reach(principal, Resource.USER, Action.WRITE)
    if not guards.covers_scope(writable, grant) or not may_grant(principal, Role(grant.role)):
        raise Forbidden("you may not remove this role")
    if grant.user_id == principal.id and grant.role in {"system_admin", "trust_admin"}:
        raise InvalidInput.at("grant_id", "you cannot remove your own administrator role")
    # A leader may not leave their school without one: someone else is made leader first.
    if (
        grant.user_id == principal.id
        and grant.role == "school_leader"
        and grant.school_id is not None
        and await queries.count_grants(session, role="school_leader", school_id=grant.school_id)
        <= 1
    ):
        raise Conflict("this is the school's last leader grant: make someone else leader first")
    before = snapshot(grant)
    await session.delete(grant)
    _credentials_changed(user)
    record(session, principal, action="delete", entity=grant, before=before, **scope)
    await session.flush()


# --- Integration clients -----------------------------------------------------------------
def _client_scope(client: IntegrationClient) -> dict[str, uuid.UUID | None]:
    return {"trust_id": client.trust_id, "school_id": client.school_id}


async def create_client(
    session: AsyncSession, *, principal: Principal, client_in: IntegrationClientCreate
) -> IntegrationClientCredentials:
    """Register an integration. Its secret is returned once and stored only as a hash."""
    writable = require_any(principal, Resource.INTEGRATION_CLIENT, Action.WRITE)
    if not writable.covers(trust_id=client_in.trust_id, school_id=client_in.school_id):
        raise InvalidInput.at("body", "no such trust or school within your reach")
    exists = (
        await tenancy.get_trust(session, client_in.trust_id)
        if client_in.trust_id
        else await tenancy.get_school(session, client_in.school_id)  # type: ignore[arg-type]
    )
    if exists is None:
        raise InvalidInput.at("body", "no such trust or school within your reach")
    secret = new_client_secret()
    client = IntegrationClient(
        name=client_in.name,
        scopes=sorted({str(s) for s in client_in.scopes}),
        trust_id=client_in.trust_id,
        school_id=client_in.school_id,
        client_id=new_client_id(),
        secret_hash=await hash_secret_async(secret),
    )
    session.add(client)
    record(session, principal, action="create", entity=client, before=None, **_client_scope(client))
    await session.flush()
    return IntegrationClientCredentials.model_validate(client, update={"client_secret": secret})


async def _visible_client(
    session: AsyncSession, principal: Principal, client_pk: uuid.UUID, action: Action
) -> IntegrationClient:
    client = await queries.get_client(session, client_pk)
    if client is None:
        raise NotFound("integration client not found")
    require(
        principal,
        Resource.INTEGRATION_CLIENT,
        action,
        what="integration client",
        **_client_scope(client),
    )
    return client


async def get_client(
    session: AsyncSession, *, principal: Principal, client_pk: uuid.UUID
) -> IntegrationClient:
    return await _visible_client(session, principal, client_pk, Action.READ)


async def update_client(
    session: AsyncSession,
    *,
    principal: Principal,
    client_pk: uuid.UUID,
    client_in: IntegrationClientUpdate,
) -> IntegrationClient:
    client = await _visible_client(session, principal, client_pk, Action.WRITE)
    changes = client_in.model_dump(exclude_unset=True)
    if "scopes" in changes:
        changes["scopes"] = sorted({str(s) for s in changes["scopes"]})
    before = snapshot(client)
    if changes.get("scopes", client.scopes) != client.scopes or (
        changes.get("is_active", client.is_active) != client.is_active
    ):
        _credentials_changed(client)
    client.sqlmodel_update(changes)
    record(
        session, principal, action="update", entity=client, before=before, **_client_scope(client)
    )
    await session.flush()
    return client


async def rotate_client_secret(
    session: AsyncSession, *, principal: Principal, client_pk: uuid.UUID
) -> IntegrationClientCredentials:
    client = await _visible_client(session, principal, client_pk, Action.WRITE)
    before = snapshot(client)
    secret = new_client_secret()
    client.secret_hash = await hash_secret_async(secret)
    _credentials_changed(client)
    record(
        session,
        principal,
        action="update",
        entity=client,
        before=before,
        secrets_changed=["client_secret"],
        **_client_scope(client),
    )
    await session.flush()
    return IntegrationClientCredentials.model_validate(client, update={"client_secret": secret})


async def list_clients(
    session: AsyncSession, *, principal: Principal, cursor: str | None, limit: int
) -> Page[IntegrationClient]:
    readable = require_any(principal, Resource.INTEGRATION_CLIENT, Action.READ)
    return await queries.list_clients(session, readable, cursor=cursor, limit=limit)


async def create_system_admin(
    session: AsyncSession, *, email: str, display_name: str, password: str
) -> User:
    """Bootstrap (CLI): make ``email`` a system administrator, creating the account if needed
    and setting its password."""
    user_in = UserCreate(email=email, display_name=display_name, password=password)
    normalised = str(user_in.email).lower()
    user = await queries.get_user_by_email(session, normalised)
    if user is None:
        user = User(email=normalised, display_name=user_in.display_name)
        session.add(user)
        record(session, None, action="create", entity=user, before=None)
        await session.flush()
    else:
        before = snapshot(user)
        user.is_active = True
        _credentials_changed(user)
        record(session, None, action="update", entity=user, before=before)
    user.password_hash = await hash_secret_async(password)
    grants = (await queries.grants_of(session, [user.id])).get(user.id, [])
    if not any(g.role == Role.SYSTEM_ADMIN for g in grants):
        grant = RoleGrant(user_id=user.id, role=Role.SYSTEM_ADMIN)
        session.add(grant)
        _credentials_changed(user)
        record(session, None, action="create", entity=grant, before=None)
    await session.flush()
    return user
