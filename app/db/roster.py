"""The roster: pupils, their enrolments and characteristics, classes, custom groups.

Every row carries its ``school_id``. Pupils are keyed within a school by the MIS's external id
and by UPN; enrolments by pupil and academic year (history is kept across years); classes by
school, academic year and code.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlmodel import Field, SQLModel

from app.db.base import created_at_field, id_field, updated_at_field
from app.domain.errors import DomainError
from app.domain.pupils import SenStatus, Sex, check_ethnicity, check_name, check_upn


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


def _valid_name(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_name(value, field="name")
    except DomainError as exc:
        raise ValueError(exc.message) from exc


# A name as written by a client or a file (REST pupils, roster sync, CTF, OneRoster): stored
# NFC-normalised, control and bidirectional characters refused (domain.pupils.check_name).
# Only on input: what is read back is shown as stored.
PupilName = Annotated[Name, AfterValidator(_valid_name)]
OptionalPupilName = Annotated[
    str | None, Field(default=None, min_length=1, max_length=100), AfterValidator(_valid_name)
]


# --- Pupil -------------------------------------------------------------------------------
class PupilFields(SQLModel):
    external_id: ExternalId
    upn: UPN
    legal_forename: Name
    legal_surname: Name
    preferred_forename: str | None = Field(default=None, min_length=1, max_length=100)
    preferred_surname: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date | None = Field(
        default=None,
        description="Unknown when the source does not carry it (OneRoster "
        "without demographics.csv).",
    )
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


# --- Custom groups -----------------------------------------------------------------------
class GroupFields(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. 'Summer born'.")
    description: str | None = Field(default=None, max_length=1000)


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


# --- Stage assessments (kept from CTFs for the assessment import) ------------------------


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
