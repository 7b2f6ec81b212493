"""Users and their roles; integration clients."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import PagingDep, PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.people import (
    IntegrationClientCreate,
    IntegrationClientCredentials,
    IntegrationClientPage,
    IntegrationClientRead,
    IntegrationClientUpdate,
    RoleGrantCreate,
    RoleGrantRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from app.services import people as service

users = APIRouter(prefix="/v1/users", tags=["users"])
clients = APIRouter(prefix="/v1/integration-clients", tags=["integration-clients"])


# --- Users -------------------------------------------------------------------------------
@users.post("", status_code=201, response_model=UserRead, responses=problems(403, 409))
async def create_user(
    user_in: UserCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> UserRead:
    """Add a person with their roles. If the email already has an account outside your reach
    (someone working in two schools, a parent with children at two), the roles are added to
    that account, whose name and password stay its own; an email already within your reach is
    a 409 naming the account."""
    user = await service.create_user(session, principal=principal, user_in=user_in)
    response.headers["Location"] = f"/v1/users/{user.id}"
    return user


@users.get("", response_model=UserPage, responses=problems(403))
async def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    school_id: Annotated[
        uuid.UUID | None, Query(description="Only people with a role here.")
    ] = None,
) -> UserPage:
    page, items = await service.list_users(
        session, principal=principal, school_id=school_id, cursor=paging.cursor, limit=paging.limit
    )
    return UserPage(items=items, next_cursor=page.next_cursor)


@users.get("/{user_id}", response_model=UserRead, responses=problems(404))
async def read_user(user_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> UserRead:
    return await service.get_user(session, principal=principal, user_id=user_id)


@users.patch("/{user_id}", response_model=UserRead, responses=problems(403, 404))
async def update_user(
    user_id: uuid.UUID, user_in: UserUpdate, session: SessionDep, principal: PrincipalDep
) -> UserRead:
    return await service.update_user(session, principal=principal, user_id=user_id, user_in=user_in)


@users.post(
    "/{user_id}/grants",
    status_code=201,
    response_model=RoleGrantRead,
    responses=problems(403, 404, 409),
)
async def add_role_grant(
    user_id: uuid.UUID, grant_in: RoleGrantCreate, session: SessionDep, principal: PrincipalDep
) -> RoleGrantRead:
    grant = await service.add_grant(
        session, principal=principal, user_id=user_id, grant_in=grant_in
    )
    return RoleGrantRead.model_validate(grant)


@users.delete("/{user_id}/grants/{grant_id}", status_code=204, responses=problems(403, 404))
async def remove_role_grant(
    user_id: uuid.UUID, grant_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    await service.remove_grant(session, principal=principal, user_id=user_id, grant_id=grant_id)
    return Response(status_code=204)


# --- Integration clients -----------------------------------------------------------------
@clients.post(
    "", status_code=201, response_model=IntegrationClientCredentials, responses=problems(403)
)
async def create_integration_client(
    client_in: IntegrationClientCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> IntegrationClientCredentials:
    created = await service.create_client(session, principal=principal, client_in=client_in)
    response.headers["Location"] = f"/v1/integration-clients/{created.id}"
    response.headers["Cache-Control"] = "no-store"
    return created


@clients.get("", response_model=IntegrationClientPage, responses=problems(403))
async def list_integration_clients(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> IntegrationClientPage:
    page = await service.list_clients(
        session, principal=principal, cursor=paging.cursor, limit=paging.limit
    )
    return IntegrationClientPage(
        items=[IntegrationClientRead.model_validate(c) for c in page.items],
        next_cursor=page.next_cursor,
    )


@clients.get("/{client_pk}", response_model=IntegrationClientRead, responses=problems(404))
async def read_integration_client(
    client_pk: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> IntegrationClientRead:
    client = await service.get_client(session, principal=principal, client_pk=client_pk)
    return IntegrationClientRead.model_validate(client)


@clients.patch("/{client_pk}", response_model=IntegrationClientRead, responses=problems(403, 404))
async def update_integration_client(
    client_pk: uuid.UUID,
    client_in: IntegrationClientUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> IntegrationClientRead:
    client = await service.update_client(
        session, principal=principal, client_pk=client_pk, client_in=client_in
    )
    return IntegrationClientRead.model_validate(client)


@clients.post(
    "/{client_pk}/secret",
    response_model=IntegrationClientCredentials,
    responses=problems(403, 404),
    summary="Issue a new client secret (the old one stops working)",
)
async def rotate_integration_client_secret(
    client_pk: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> IntegrationClientCredentials:
    response.headers["Cache-Control"] = "no-store"
    return await service.rotate_client_secret(session, principal=principal, client_pk=client_pk)
