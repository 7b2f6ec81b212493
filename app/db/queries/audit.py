"""Reading the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.audit import AuditEvent
from app.db.queries.paging import Page, paginate


async def list_events(
    session: AsyncSession,
    reach: Reach,
    *,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditEvent]:
    statement = sa.select(AuditEvent)
    if not reach.everything:
        statement = statement.where(
            sa.or_(
                col(AuditEvent.school_id).in_(reach.school_ids),
                sa.and_(
                    col(AuditEvent.school_id).is_(None),
                    col(AuditEvent.trust_id).in_(reach.trust_ids),
                ),
            )
        )
    if entity_type is not None:
        statement = statement.where(col(AuditEvent.entity_type) == entity_type)
    if entity_id is not None:
        statement = statement.where(col(AuditEvent.entity_id) == entity_id)
    if since is not None:
        statement = statement.where(col(AuditEvent.occurred_at) >= since)
    order = [col(AuditEvent.occurred_at), col(AuditEvent.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)
