"""A subject access export: everything Markbook holds about one pupil, in one document."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from app.api.schemas.audit import AuditEventRead
from app.api.schemas.pupil_record import JudgementHistoryItem, RecordValue
from app.api.schemas.roster import PupilRead


class ExportSchool(BaseModel):
    id: uuid.UUID
    name: str
    urn: str


class ExportClass(BaseModel):
    id: uuid.UUID
    academic_year: int
    code: str
    name: str
    subject: str | None


class ExportGroup(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None


class ExportStageAssessment(BaseModel):
    """A statutory assessment result the pupil brought with them (from a CTF)."""

    stage: str
    subject: str
    method: str | None
    component: str | None
    result: str
    result_qualifier: str | None
    year: int | None
    result_on: date | None
    source: str
    created_at: datetime


class ExportValueWrite(BaseModel):
    """One write of a measure value (a clearing: every value field null)."""

    measure_id: uuid.UUID
    measure_code: str
    assessment_point_id: uuid.UUID
    assessment_point_code: str
    academic_year: int
    number: Decimal | None
    descriptor_id: uuid.UUID | None
    descriptor_code: str | None
    text: str | None
    flag: bool | None
    value_on: date | None
    curriculum_year: str | None = Field(description="R, 1-13: the year worked within.")
    recorded_at: datetime
    recorded_by: uuid.UUID = Field(description="The user or integration client that wrote it.")


class ExportWorkingYear(BaseModel):
    """One setting of the pupil's working curriculum year in a subject."""

    subject_id: uuid.UUID
    academic_year: int
    curriculum_year: str | None = Field(description="Null: back to the year group's.")
    set_at: datetime
    set_by: uuid.UUID


class ExportGrant(BaseModel):
    """An account given the pupil's own record (a pupil's or parent's)."""

    user_id: uuid.UUID
    role: str


class SubjectAccessExport(BaseModel):
    """Everything held about one pupil, for a subject access request (UK GDPR article 15):
    their record, enrolments, classes and groups, statutory results, every judgement and value
    ever recorded (who, when, note), working years, the accounts given their record, and the
    audit events about them. Lists are oldest first."""

    exported_at: datetime
    school: ExportSchool
    pupil: PupilRead
    classes: list[ExportClass]
    groups: list[ExportGroup]
    stage_assessments: list[ExportStageAssessment]
    judgements: list[JudgementHistoryItem] = Field(
        description="Every judgement recorded, clearings included (descriptor null)."
    )
    values: list[RecordValue] = Field(description="The current value at each point.")
    value_history: list[ExportValueWrite] = Field(description="Every value written.")
    working_years: list[ExportWorkingYear]
    record_access: list[ExportGrant]
    audit_events: list[AuditEventRead]
