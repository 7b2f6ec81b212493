"""Trusts, schools and their assessment calendars."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlmodel import Field, SQLModel

from app.db.base import created_at_field, id_field, updated_at_field
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


class Trust(TrustBase, table=True):
    id: uuid.UUID = id_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


# --- School ------------------------------------------------------------------------------
class SchoolBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    urn: URN
    phase: Phase
    trust_id: uuid.UUID | None = None


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
    # The pupil's page's on-track line (app.domain.on_track): the report template (by code:
    # the school's own, else its trust's) whose attainment rule decides it, null for none;
    # whether pupils and parents see it (staff always do); the school's words for it.
    on_track_template: str | None = Field(default=None, max_length=32)
    on_track_for_pupils: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    on_track_words: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


# --- Assessment point --------------------------------------------------------------------
class AssessmentPointBase(SQLModel):
    code: str = Field(min_length=1, max_length=16, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"})
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(ge=1, le=100, description="Order within the academic year.")
    assessed_on: date = Field(description="The date the point's data is taken as at.")


class AssessmentPoint(AssessmentPointBase, table=True):
    __tablename__ = "assessment_point"
    __table_args__ = (sa.UniqueConstraint("school_id", "academic_year", "code"),)
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    academic_year: int
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
