"""Stored answers to requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, created_at_field, id_field


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to a request sent with an ``Idempotency-Key``, so a retry gets the
    same answer instead of doing the work twice."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("principal_id", "key"),)
    id: uuid.UUID = id_field()
    principal_id: uuid.UUID
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path and body.")
    status_code: int
    response: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = created_at_field()
