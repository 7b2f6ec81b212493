"""The audit trail, for leaders and administrators."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Instant, PagingDep, PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.audit import AuditEventPage, AuditEventRead
from app.services import audit as service

router = APIRouter(prefix="/v1/audit-events", tags=["audit"])


@router.get("", response_model=AuditEventPage, responses=problems(403))
async def list_audit_events(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    entity_type: Annotated[
        str | None, Query(max_length=48, pattern=r"^[a-z_]+$", description="e.g. school")
    ] = None,
    entity_id: uuid.UUID | None = None,
    since: Annotated[Instant | None, Query(description="Events at or after this instant.")] = None,
) -> AuditEventPage:
    page = await service.list_events(
        session,
        principal=principal,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return AuditEventPage(
        items=[AuditEventRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
