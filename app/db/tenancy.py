"""Trusts, schools and their assessment calendars."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlmodel import Field, SQLModel

from app.db.base import Input, created_at_field, id_field, updated_at_field
from app.domain.calendar import AcademicYear
from app.domain.errors import DomainError
from app.domain.schools import Phase, check_urn


def _valid_urn(value: str) -> str:
    try:
        return check_urn(value)
    except DomainError as exc:
        raise ValueError(exc.message) from exc


URN = Annotated[
    str,
    Field(
        description="DfE unique reference number: six digits.",
        schema_extra={"pattern": r"^[1-9][0-9]{5}$", "examples": ["100000"]},
    ),
    AfterValidator(_valid_urn),
]


# --- Trust -------------------------------------------------------------------------------
class TrustBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)


class TrustCreate(TrustBase, Input):
    pass


class TrustUpdate(Input):
    # Optional but not nullable: omit a field to leave it as it is.
    name: str = Field(default=None, min_length=1, max_length=200)


class Trust(TrustBase, table=True):
    id: uuid.UUID = id_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class TrustRead(TrustBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


# --- School ------------------------------------------------------------------------------
class SchoolBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    urn: URN
    phase: Phase
    trust_id: uuid.UUID | None = None


class SchoolCreate(SchoolBase, Input):
    pass


class SchoolUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=200)
    urn: URN = None  # type: ignore[assignment]
    phase: Phase = None  # type: ignore[assignment]
    trust_id: uuid.UUID | None = Field(default=None, description="null: a standalone school.")


class School(SchoolBase, table=True):
    __table_args__ = (
        sa.UniqueConstraint("urn"),
        sa.CheckConstraint("report_threshold >= 3", name="report_threshold_at_least_3"),
    )
    id: uuid.UUID = id_field()
    urn: str = Field(max_length=6)  # type: ignore[assignment]
    phase: str = Field(max_length=32)  # type: ignore[assignment]
    trust_id: uuid.UUID | None = Field(
        default=None, foreign_key="trust.id", ondelete="RESTRICT", index=True
    )
    # Reports shown to those who may not see pupils (governors) suppress any figure counting
    # fewer pupils than this (DESIGN: need to know); never below 3.
    report_threshold: int = Field(default=6, sa_column_kwargs={"server_default": "6"})
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class SchoolRead(SchoolBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


# --- Assessment point --------------------------------------------------------------------
class AssessmentPointBase(SQLModel):
    code: str = Field(min_length=1, max_length=16, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(ge=1, le=100, description="Order within the academic year.")
    assessed_on: date = Field(description="The date the point's data is taken as at.")


class AssessmentPointCreate(AssessmentPointBase, Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")


class AssessmentPointUpdate(Input):
    # Optional but not nullable: omit a field to leave it as it is.
    code: str = Field(
        default=None, min_length=1, max_length=16, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"}
    )
    name: str = Field(default=None, min_length=1, max_length=100)
    position: int = Field(default=None, ge=1, le=100)
    assessed_on: date = None  # type: ignore[assignment]


class AssessmentPoint(AssessmentPointBase, table=True):
    __tablename__ = "assessment_point"
    __table_args__ = (sa.UniqueConstraint("school_id", "academic_year", "code"),)
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    academic_year: int
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class AssessmentPointRead(AssessmentPointBase):
    id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    academic_year_label: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, point: AssessmentPoint) -> AssessmentPointRead:
        return cls.model_validate(
            point, update={"academic_year_label": AcademicYear(point.academic_year).label}
        )


class DefaultCalendarRequest(Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
