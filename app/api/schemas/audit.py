"""The audit trail as read through the API. The table is in app/db/audit.py."""

from __future__ import annotations

import uuid

from app.api.schemas.base import PageOf
from app.db.audit import AuditEventBase


class AuditEventRead(AuditEventBase):
    id: uuid.UUID


class AuditEventPage(PageOf[AuditEventRead]):
    pass
