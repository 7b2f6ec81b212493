"""Every table, imported in one place so metadata is complete (Alembic, tests)."""

from app.db.audit import AuditEvent
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.idempotency import IdempotencyRecord
from app.db.import_jobs import ImportJob
from app.db.markbook import (
    JudgementState,
    JudgementSummary,
    MarkbookClock,
    MeasureValue,
    MeasureValueHistory,
    ObjectiveJudgement,
    WorkingYear,
    WorkingYearHistory,
)
from app.db.people import IntegrationClient, RefreshToken, RoleGrant, User
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import (
    ClassPupil,
    ClassTeacher,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    StageAssessment,
    TeachingGroup,
)
from app.db.targets import PupilTarget
from app.db.tenancy import AssessmentPoint, School, Trust

__all__ = [
    "AssessmentPoint",
    "AuditEvent",
    "ClassPupil",
    "ClassTeacher",
    "Descriptor",
    "Enrolment",
    "Framework",
    "IdempotencyRecord",
    "ImportJob",
    "IntegrationClient",
    "JudgementState",
    "JudgementSummary",
    "MarkbookClock",
    "Measure",
    "MeasureValue",
    "MeasureValueHistory",
    "Objective",
    "ObjectiveJudgement",
    "Pupil",
    "PupilGroup",
    "PupilGroupMember",
    "PupilTarget",
    "RefreshToken",
    "ReportTemplate",
    "ReportTemplateVersion",
    "RoleGrant",
    "Scale",
    "School",
    "StageAssessment",
    "Subject",
    "TeachingGroup",
    "Trust",
    "User",
    "WorkingYear",
    "WorkingYearHistory",
]
