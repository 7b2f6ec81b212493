"""Every table, imported in one place so metadata is complete (Alembic, tests)."""

from app.db.audit import AuditEvent
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.roster import (
    ClassPupil,
    ClassTeacher,
    Enrolment,
    IdempotencyRecord,
    ImportJob,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    StageAssessment,
    TeachingGroup,
)
from app.db.tenancy import AssessmentPoint, School, Trust

__all__ = [
    "AssessmentPoint",
    "AuditEvent",
    "ClassPupil",
    "ClassTeacher",
    "Enrolment",
    "IdempotencyRecord",
    "ImportJob",
    "IntegrationClient",
    "Pupil",
    "PupilGroup",
    "PupilGroupMember",
    "RoleGrant",
    "School",
    "StageAssessment",
    "TeachingGroup",
    "Trust",
    "User",
]
