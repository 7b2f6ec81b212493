"""Every table, imported in one place so metadata is complete (Alembic, tests)."""

from app.db.audit import AuditEvent
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.tenancy import AssessmentPoint, School, Trust

__all__ = [
    "AssessmentPoint",
    "AuditEvent",
    "IntegrationClient",
    "RoleGrant",
    "School",
    "Trust",
    "User",
]
