"""Pupils' targets: set for one pupil or many of a class, changed and closed, read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.rest.roster import IdempotencyKey
from app.api.schemas.targets import ClassTargetsIn, TargetIn, TargetRead, TargetsSet, TargetUpdate
from app.domain.targets import TargetStatus
from app.services import idempotency
from app.services import targets as service

router = APIRouter(tags=["targets"])


@router.post(
    "/v1/pupils/{pupil_id}/targets",
    status_code=201,
    response_model=TargetRead,
    responses=problems(403, 404),
)
async def set_pupil_target(
    pupil_id: uuid.UUID,
    target_in: TargetIn,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> TargetRead:
    """Set a target for a pupil: an objective of their school (achieved by itself when it is
    judged secure), words the pupil understands, or both; optionally due by an assessment
    point. Teachers for the pupils they teach, leaders for their school's; pupils and parents
    read their targets but may not set them (403)."""
    target = await service.set_target(
        session, principal=principal, pupil_id=pupil_id, target_in=target_in
    )
    response.headers["Location"] = f"/v1/targets/{target.id}"
    return target


@router.get(
    "/v1/pupils/{pupil_id}/targets", response_model=list[TargetRead], responses=problems(404)
)
async def list_pupil_targets(
    pupil_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[
        TargetStatus | None, Query(description="Only targets of this status.")
    ] = None,
) -> list[TargetRead]:
    """The pupil's targets: open ones by due date, then closed and achieved ones, most
    recently closed first."""
    return await service.list_targets(
        session, principal=principal, pupil_id=pupil_id, status=status
    )


@router.post(
    "/v1/classes/{class_id}/targets",
    status_code=201,
    response_model=TargetsSet,
    responses=problems(403, 404),
)
async def set_class_targets(
    class_id: uuid.UUID,
    targets_in: ClassTargetsIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the same target for many pupils of a class (those named in `pupil_ids`, else every
    pupil of the class the caller may set targets for), all or nothing: one target each. An
    objective already secure for a pupil is refused (422), as a target is a next step. Send an
    `Idempotency-Key` to make a retry safe: it gets the first answer, not a second set."""
    body = await request.body()
    answer, replayed = await service.class_targets_request(
        session,
        principal=principal,
        class_id=class_id,
        targets_in=targets_in,
        idempotency_key=idempotency_key,
        request_fingerprint=idempotency.fingerprint(
            request.method, request.url.path, request.url.query, body
        ),
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, status_code=201, headers=headers)


@router.get("/v1/targets/{target_id}", response_model=TargetRead, responses=problems(404))
async def read_target(
    target_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> TargetRead:
    return await service.read_target(session, principal=principal, target_id=target_id)


@router.patch("/v1/targets/{target_id}", response_model=TargetRead, responses=problems(403, 404))
async def update_target(
    target_id: uuid.UUID, update: TargetUpdate, session: SessionDep, principal: PrincipalDep
) -> TargetRead:
    """Change a target's words or due point, close it, mark it achieved or open it again.
    Every change is kept in the audit trail (GET /v1/audit-events?entity_type=pupil_target)."""
    return await service.update_target(
        session, principal=principal, target_id=target_id, update=update
    )
