"""The audit trail: who changed what, when, with the before and after."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, UTCDateTime, id_field, utcnow


class AuditEventBase(SQLModel):
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_type: str = Field(max_length=16, description="user, client or system")
    actor_id: uuid.UUID | None = None
    request_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=16, description="create, update, delete or export")
    entity_type: str = Field(max_length=48)
    entity_id: uuid.UUID
    trust_id: uuid.UUID | None = None
    school_id: uuid.UUID | None = None
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class AuditEvent(AuditEventBase, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_school_id_occurred_at", "school_id", "occurred_at"),
        sa.Index("ix_audit_event_trust_id_occurred_at", "trust_id", "occurred_at"),
        sa.Index("ix_audit_event_entity_type_entity_id", "entity_type", "entity_id"),
    )
    id: uuid.UUID = id_field()
