"""Recording and reading the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app import context
from app.auth.policy import Action, Resource, require_any
from app.auth.principal import Principal
from app.db.audit import AuditEvent
from app.db.queries import audit as queries
from app.db.queries.paging import Page

SECRET_FIELDS = frozenset({"password_hash", "secret_hash"})


def snapshot(entity: SQLModel) -> dict[str, Any]:
    """An entity as JSON, without secrets: what the audit trail keeps as before/after."""
    return entity.model_dump(mode="json", exclude=set(SECRET_FIELDS))


def record(
    session: AsyncSession,
    actor: Principal | None,
    *,
    action: str,
    entity: SQLModel,
    before: dict[str, Any] | None,
    trust_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
    secrets_changed: list[str] | tuple[str, ...] = (),
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit event for a change to ``entity`` in this transaction.

    ``before`` is the snapshot taken before the change (None for a create); the after is the
    entity as it now stands (None for a delete), unless ``after`` is given (an event that
    changes nothing, such as an export, keeps only what it says). Secrets are never kept:
    ``secrets_changed`` names the ones that were set, and nothing more. An update that changed
    nothing is not recorded.
    """
    if after is None:
        after = None if action == "delete" else snapshot(entity)
    if after is not None and secrets_changed:
        after["secrets_changed"] = list(secrets_changed)
    if action == "update" and before == after:
        return
    session.add(
        AuditEvent(
            actor_type=actor.kind if actor else "system",
            actor_id=actor.id if actor else None,
            request_id=context.request_id.get(),
            action=action,
            entity_type=entity.__tablename__,  # type: ignore[attr-defined]
            entity_id=entity.id,  # type: ignore[attr-defined]
            trust_id=trust_id,
            school_id=school_id,
            before=before,
            after=after,
        )
    )


def record_bulk(
    session: AsyncSession,
    actor: Principal,
    *,
    entity_type: str,
    school_id: uuid.UUID,
    trust_id: uuid.UUID | None,
    occurred_at: datetime,
    summary: dict[str, Any],
) -> None:
    """One event for a bulk markbook write (judgements, working years, values), against the
    school: ``summary`` says how much changed; who wrote what, when, is in each record's own
    history."""
    session.add(
        AuditEvent(
            occurred_at=occurred_at,
            actor_type=actor.kind,
            actor_id=actor.id,
            request_id=context.request_id.get(),
            action="update",
            entity_type=entity_type,
            entity_id=school_id,
            trust_id=trust_id,
            school_id=school_id,
            before=None,
            after=summary,
        )
    )


async def list_events(
    session: AsyncSession,
    *,
    principal: Principal,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditEvent]:
    reach = require_any(principal, Resource.AUDIT_EVENT, Action.READ)
    return await queries.list_events(
        session,
        reach,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        cursor=cursor,
        limit=limit,
    )
