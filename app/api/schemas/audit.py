"""The audit trail as read through the API. The table is in app/db/audit.py."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlmodel import Field

from app.api.schemas.base import Output, PageOf
from app.db.audit import AuditEventBase


class AuditEventRead(AuditEventBase, Output):
    id: uuid.UUID
    actor_type: Literal["user", "client", "system"] = Field(  # type: ignore[assignment]
        description="Who made the change: a user, an integration client, or the system."
    )
    action: Literal["create", "update", "delete", "export"] = Field(  # type: ignore[assignment]
        description="What was done to the entity (export: a subject access export of a pupil)."
    )


class AuditEventPage(PageOf[AuditEventRead]):
    pass
