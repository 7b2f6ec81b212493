"""The roster: pupils, their enrolments and characteristics, classes, custom groups.

Every row carries its ``school_id``. Pupils are keyed within a school by the MIS's external id
and by UPN; enrolments by pupil and academic year (history is kept across years); classes by
school, academic year and code.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BeforeValidator, EmailStr, model_validator
from sqlmodel import Field, SQLModel

from app.db.base import Input, JSONType, created_at_field, id_field, updated_at_field
from app.domain.errors import DomainError
from app.domain.pupils import SenStatus, Sex, YearGroup, check_ethnicity, check_upn


def _valid_upn(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_upn(value).value
    except DomainError as exc:
        raise ValueError(exc.message) from exc


def _valid_ethnicity(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_ethnicity(value)
    except DomainError as exc:
        raise ValueError(exc.message) from exc


def _year_group(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return YearGroup.parse(value)
        except DomainError as exc:
            raise ValueError(exc.message) from exc
    return value


UPN = Annotated[
    str | None,
    Field(
        default=None,
        max_length=13,
        description="Unique pupil number: 13 characters, check letter first. A temporary UPN "
        "(ending in a letter) is accepted and flagged.",
        schema_extra={"examples": ["B801200005001"]},
    ),
    AfterValidator(_valid_upn),
]
Ethnicity = Annotated[
    str | None,
    Field(default=None, max_length=4, description="DfE ethnicity code, e.g. WBRI."),
    AfterValidator(_valid_ethnicity),
]
ExternalId = Annotated[
    str | None,
    Field(
        default=None, min_length=1, max_length=100, description="The MIS's own id for the pupil."
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=100)]
YearGroupIn = Annotated[
    YearGroup,
    BeforeValidator(_year_group),
    Field(description="NC year group: N1, N2, R or 1-13 ('07', 'Y7' and 'Year 7' are read too)."),
]


# --- Pupil -------------------------------------------------------------------------------
class PupilFields(SQLModel):
    external_id: ExternalId
    upn: UPN
    legal_forename: Name
    legal_surname: Name
    preferred_forename: str | None = Field(default=None, min_length=1, max_length=100)
    preferred_surname: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date
    sex: Sex | None = None
    pupil_premium: bool | None = Field(default=None, description="Disadvantaged (PP).")
    fsm: bool | None = Field(default=None, description="Eligible for free school meals.")
    sen_status: SenStatus | None = Field(default=None, description="N, K (SEN support), E (EHCP).")
    eal: bool | None = Field(default=None, description="English as an additional language.")
    looked_after: bool | None = None
    ethnicity: Ethnicity


PUPIL_FIELDS: tuple[str, ...] = tuple(PupilFields.model_fields)


class Pupil(PupilFields, table=True):
    __table_args__ = (
        sa.UniqueConstraint("school_id", "external_id"),
        sa.UniqueConstraint("school_id", "upn"),
        sa.CheckConstraint("external_id IS NOT NULL OR upn IS NOT NULL", name="has_key"),
        sa.Index("ix_pupil_school_id_updated_at_id", "school_id", "updated_at", "id"),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    external_id: str | None = Field(default=None, max_length=100)
    upn: str | None = Field(default=None, max_length=13)
    upn_temporary: bool = False
    sex: str | None = Field(default=None, max_length=1)
    sen_status: str | None = Field(default=None, max_length=1)
    ethnicity: str | None = Field(default=None, max_length=4)
    left_on: date | None = Field(default=None, description="Left the school (no longer on roll).")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field(index=False)


class PupilCreate(PupilFields, Input):
    @model_validator(mode="after")
    def _has_key(self) -> PupilCreate:
        if self.external_id is None and self.upn is None:
            raise ValueError("give external_id or upn (or both): the pupil needs a key")
        return self


class PupilUpdate(Input):
    # Omit a field to leave it as it is; null clears an optional one.
    external_id: ExternalId
    upn: UPN
    legal_forename: Name = None  # type: ignore[assignment]
    legal_surname: Name = None  # type: ignore[assignment]
    preferred_forename: str | None = Field(default=None, min_length=1, max_length=100)
    preferred_surname: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date = None  # type: ignore[assignment]
    sex: Sex | None = None
    pupil_premium: bool | None = None
    fsm: bool | None = None
    sen_status: SenStatus | None = None
    eal: bool | None = None
    looked_after: bool | None = None
    ethnicity: Ethnicity
    left_on: date | None = None


class EnrolmentRead(SQLModel):
    id: uuid.UUID
    pupil_id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    year_group: YearGroup
    joined_on: date | None
    left_on: date | None
    updated_at: datetime


class PupilRead(PupilFields):
    id: uuid.UUID
    school_id: uuid.UUID
    upn_temporary: bool
    left_on: date | None
    enrolments: list[EnrolmentRead] = Field(default_factory=list, description="By year.")
    created_at: datetime
    updated_at: datetime


# --- Enrolment ---------------------------------------------------------------------------
class Enrolment(SQLModel, table=True):
    """A pupil on a school's roll for one academic year, in one NC year group."""

    __table_args__ = (
        sa.UniqueConstraint("pupil_id", "academic_year"),
        sa.Index("ix_enrolment_school_id_academic_year", "school_id", "academic_year"),
        sa.Index("ix_enrolment_school_id_updated_at_id", "school_id", "updated_at", "id"),
    )
    id: uuid.UUID = id_field()
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE")
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    academic_year: int
    year_group: str = Field(max_length=2)
    joined_on: date | None = None
    left_on: date | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field(index=False)


class EnrolmentPut(Input):
    year_group: YearGroupIn
    joined_on: date | None = None
    left_on: date | None = None


# --- Class (teaching group) --------------------------------------------------------------
ClassCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The class's code in the school's MIS or timetable, e.g. 7A/Ma1.",
    ),
]


class ClassFields(SQLModel):
    code: ClassCode
    name: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=100)


class ClassCreate(ClassFields, Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
    teacher_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    pupil_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class ClassUpdate(Input):
    code: ClassCode = None  # type: ignore[assignment]
    name: str = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=100)
    teacher_ids: list[uuid.UUID] = Field(
        default=None, max_length=50, description="Replaces the class's teachers."
    )
    pupil_ids: list[uuid.UUID] = Field(
        default=None, max_length=1000, description="Replaces the class's pupils."
    )


class TeachingGroup(ClassFields, table=True):
    """A class: pupils taught together by one or more teachers in one academic year."""

    __tablename__ = "teaching_group"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "academic_year", "code"),
        sa.Index("ix_teaching_group_school_id_updated_at_id", "school_id", "updated_at", "id"),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    academic_year: int
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field(index=False)


class ClassTeacher(SQLModel, table=True):
    __tablename__ = "class_teacher"
    class_id: uuid.UUID = Field(
        foreign_key="teaching_group.id", ondelete="CASCADE", primary_key=True
    )
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", primary_key=True)
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", index=True)


class ClassPupil(SQLModel, table=True):
    __tablename__ = "class_pupil"
    __table_args__ = (sa.Index("ix_class_pupil_pupil_id", "pupil_id"),)
    class_id: uuid.UUID = Field(
        foreign_key="teaching_group.id", ondelete="CASCADE", primary_key=True
    )
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", index=True)


class ClassRead(ClassFields):
    id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    teacher_ids: list[uuid.UUID]
    pupil_ids: list[uuid.UUID] = Field(description="Only the pupils within your reach.")
    created_at: datetime
    updated_at: datetime


# --- Custom groups -----------------------------------------------------------------------
class GroupFields(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. 'Summer born'.")
    description: str | None = Field(default=None, max_length=1000)


class GroupCreate(GroupFields, Input):
    pupil_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000)


class GroupUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    pupil_ids: list[uuid.UUID] = Field(
        default=None, max_length=10_000, description="Replaces the group's members."
    )


class PupilGroup(GroupFields, table=True):
    """A school-defined group of pupils, such as 'Summer born' or 'Catch-up 2026'."""

    __tablename__ = "pupil_group"
    __table_args__ = (sa.UniqueConstraint("school_id", "name"),)
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class PupilGroupMember(SQLModel, table=True):
    __tablename__ = "pupil_group_member"
    __table_args__ = (sa.Index("ix_pupil_group_member_pupil_id", "pupil_id"),)
    group_id: uuid.UUID = Field(foreign_key="pupil_group.id", ondelete="CASCADE", primary_key=True)
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", index=True)


class GroupRead(GroupFields):
    id: uuid.UUID
    school_id: uuid.UUID
    pupil_ids: list[uuid.UUID] = Field(description="Only the pupils within your reach.")
    created_at: datetime
    updated_at: datetime


# --- Stage assessments (kept from CTFs for the assessment import) ------------------------
class StageAssessmentIn(Input):
    stage: str = Field(min_length=1, max_length=16, description="e.g. KS1, KS2, EYFSP, PHON.")
    subject: str = Field(min_length=1, max_length=16)
    method: str | None = Field(default=None, max_length=16, description="e.g. TA, TT.")
    component: str | None = Field(default=None, max_length=32)
    result: str = Field(min_length=1, max_length=32)
    result_qualifier: str | None = Field(default=None, max_length=16)
    year: int | None = Field(default=None, ge=1990, le=2099)
    result_on: date | None = None


class StageAssessment(SQLModel, table=True):
    """A statutory assessment result a pupil brought with them (CTF ``StageAssessments``)."""

    __tablename__ = "stage_assessment"
    id: uuid.UUID = id_field()
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", index=True)
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    stage: str = Field(max_length=16)
    subject: str = Field(max_length=16)
    method: str | None = Field(default=None, max_length=16)
    component: str | None = Field(default=None, max_length=32)
    result: str = Field(max_length=32)
    result_qualifier: str | None = Field(default=None, max_length=16)
    year: int | None = None
    result_on: date | None = None
    source: str = Field(max_length=16, description="Where it came from, e.g. ctf.")
    created_at: datetime = created_at_field()


# --- Bulk sync ---------------------------------------------------------------------------
class ClassSyncRow(ClassFields, Input):
    teacher_emails: list[EmailStr] | None = Field(
        default=None,
        max_length=50,
        description="The class's teachers, as users of the school by email; omit to leave "
        "them as they are.",
    )
    school_urn: str | None = Field(
        default=None, description="Which school (trust-wide sync only).", max_length=6
    )


class PupilSyncRow(Input):
    """One pupil in a sync. Keyed by external_id, else UPN. Characteristics left out (or
    null) are left as stored; ``classes`` and ``groups`` left out leave memberships alone."""

    external_id: ExternalId
    upn: UPN
    legal_forename: Name
    legal_surname: Name
    preferred_forename: str | None = Field(default=None, min_length=1, max_length=100)
    preferred_surname: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date
    sex: Sex | None = None
    pupil_premium: bool | None = None
    fsm: bool | None = None
    sen_status: SenStatus | None = None
    eal: bool | None = None
    looked_after: bool | None = None
    ethnicity: Ethnicity
    year_group: YearGroupIn
    joined_on: date | None = None
    left_on: date | None = None
    classes: list[ClassCode] | None = Field(
        default=None,
        max_length=50,
        description="Codes of this year's classes; replaces the pupil's class memberships.",
    )
    groups: list[str] | None = Field(
        default=None, max_length=50, description="Names of custom groups; replaces memberships."
    )
    stage_assessments: list[StageAssessmentIn] | None = Field(default=None, max_length=500)
    school_urn: str | None = Field(
        default=None, description="Which school (trust-wide sync only).", max_length=6
    )

    @model_validator(mode="after")
    def _has_key(self) -> PupilSyncRow:
        if self.external_id is None and self.upn is None:
            raise ValueError("give external_id or upn (or both): the pupil needs a key")
        return self


MAX_SYNC_PUPILS = 10_000
SyncMode = Literal["all_or_nothing", "partial"]


class RosterSync(Input):
    """A roster sync: classes first, then pupils with their enrolment for ``academic_year``."""

    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
    mode: SyncMode = Field(
        default="all_or_nothing",
        description="all_or_nothing: one bad row stores nothing. partial: good rows are stored "
        "and bad ones reported.",
    )
    full: bool = Field(
        default=False,
        description="The payload is the whole roster: pupils on roll this year but missing "
        "from it are marked as left (never deleted).",
    )
    classes: list[ClassSyncRow] = Field(default_factory=list, max_length=5_000)
    pupils: list[PupilSyncRow] = Field(default_factory=list, max_length=MAX_SYNC_PUPILS)


class RosterSyncEnvelope(Input):
    """RosterSync with its rows still unread: the service reads each row on its own, so that
    in partial mode one bad row does not sink the rest."""

    academic_year: int = Field(ge=2000, le=2099)
    mode: SyncMode = "all_or_nothing"
    full: bool = False
    classes: list[dict[str, Any]] = Field(default_factory=list, max_length=5_000)
    pupils: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_SYNC_PUPILS)


class RowResult(SQLModel):
    index: int = Field(description="Position of the row in the payload (from 0).")
    key: str = Field(description="external_id or UPN, as sent.")
    status: str = Field(description="created, updated, unchanged, left or rejected.")
    id: uuid.UUID | None = None
    errors: list[dict[str, str]] | None = None


class SyncResult(SQLModel):
    academic_year: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    left: int
    left_pupil_ids: list[uuid.UUID] = Field(description="Marked as left by a full sync.")
    classes_created: int
    classes_updated: int
    pupils: list[RowResult]
    classes: list[RowResult]


# --- Import jobs and idempotency ---------------------------------------------------------
class ImportJob(SQLModel, table=True):
    """A roster file import (CTF or OneRoster): its status, progress and result."""

    __tablename__ = "import_job"
    id: uuid.UUID = id_field()
    school_id: uuid.UUID | None = Field(
        default=None, foreign_key="school.id", ondelete="CASCADE", index=True
    )
    trust_id: uuid.UUID | None = Field(
        default=None, foreign_key="trust.id", ondelete="CASCADE", index=True
    )
    kind: str = Field(max_length=16, description="ctf or oneroster")
    filename: str | None = Field(default=None, max_length=255)
    status: str = Field(max_length=16, description="queued, running, succeeded or failed")
    rows_total: int = 0
    rows_done: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_by_type: str = Field(max_length=16)
    created_by_id: uuid.UUID
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ImportJobRead(SQLModel):
    id: uuid.UUID
    school_id: uuid.UUID | None
    trust_id: uuid.UUID | None
    kind: str
    filename: str | None
    status: str
    rows_total: int
    rows_done: int
    result: dict[str, Any] | None
    problem: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


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
