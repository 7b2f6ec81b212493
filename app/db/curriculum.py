"""Definitions: subjects, frameworks of objectives, scales of descriptors, measures.

Each is owned by a trust (shared by its schools) or by one school: exactly one of
``trust_id`` and ``school_id`` is set. Nothing that judgements or values may point at is ever
deleted: objectives, descriptors and measures are archived instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import created_at_field, id_field, updated_at_field
from app.domain.scales import Band, MeasureKind, ScaleKind

ONE_OWNER = "(trust_id IS NULL) <> (school_id IS NULL)"
Code = Annotated[str, Field(min_length=1, max_length=100)]


class Owner(SQLModel):
    trust_id: uuid.UUID | None = Field(default=None, description="Shared by the trust's schools.")
    school_id: uuid.UUID | None = Field(default=None, description="One school's own.")


def _owner_columns() -> tuple[Any, Any]:
    trust = Field(default=None, foreign_key="trust.id", ondelete="CASCADE", index=True)
    school = Field(default=None, foreign_key="school.id", ondelete="CASCADE", index=True)
    return trust, school


# --- Subject -----------------------------------------------------------------------------
class SubjectFields(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. Mathematics.")
    code: str = Field(min_length=1, max_length=16, description="e.g. MA.")
    position: int = Field(default=1, ge=1, le=1000)


class Subject(SubjectFields, Owner, table=True):
    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="one_owner"),
        sa.UniqueConstraint("trust_id", "code"),
        sa.UniqueConstraint("school_id", "code"),
    )
    id: uuid.UUID = id_field()
    trust_id: uuid.UUID | None = _owner_columns()[0]
    school_id: uuid.UUID | None = _owner_columns()[1]
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


# --- Scale and descriptors ---------------------------------------------------------------
class DescriptorFields(SQLModel):
    code: str = Field(min_length=1, max_length=16, description="e.g. GD.")
    label: str = Field(min_length=1, max_length=100, description="e.g. Greater depth.")
    value: Decimal = Field(max_digits=9, decimal_places=3, description="Rises with position.")
    band: Band | None = Field(default=None, description="below, at or above expected.")
    colour: str | None = Field(default=None, max_length=7, description="#RRGGBB.")


class ScaleFields(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    kind: ScaleKind
    description: str | None = Field(default=None, max_length=1000)
    secure_from: str | None = Field(
        default=None,
        max_length=16,
        description="Depth scales: the descriptor code from which an objective is secure.",
    )


class Scale(ScaleFields, Owner, table=True):
    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="one_owner"),
        sa.UniqueConstraint("trust_id", "name"),
        sa.UniqueConstraint("school_id", "name"),
    )
    id: uuid.UUID = id_field()
    trust_id: uuid.UUID | None = _owner_columns()[0]
    school_id: uuid.UUID | None = _owner_columns()[1]
    kind: str = Field(max_length=16)  # type: ignore[assignment]
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Descriptor(DescriptorFields, table=True):
    __table_args__ = (sa.UniqueConstraint("scale_id", "code"),)
    id: uuid.UUID = id_field()
    scale_id: uuid.UUID = Field(foreign_key="scale.id", ondelete="CASCADE", index=True)
    band: str | None = Field(default=None, max_length=8)  # type: ignore[assignment]
    position: int
    archived: bool = False


# --- Framework and objectives ------------------------------------------------------------
class FrameworkFields(SQLModel):
    name: str = Field(min_length=1, max_length=200, description="e.g. Mathematics (NC 2014).")
    source: str = Field(
        default="school",
        min_length=1,
        max_length=100,
        description="Where it comes from: school, National Curriculum, a scheme's name.",
    )
    description: str | None = Field(default=None, max_length=2000)
    subject_id: uuid.UUID
    scale_id: uuid.UUID | None = Field(
        default=None,
        description="The depth scale its objectives are judged on (the owner's or its trust's).",
    )


class Framework(FrameworkFields, Owner, table=True):
    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="one_owner"),
        sa.UniqueConstraint("trust_id", "name"),
        sa.UniqueConstraint("school_id", "name"),
    )
    id: uuid.UUID = id_field()
    trust_id: uuid.UUID | None = _owner_columns()[0]
    school_id: uuid.UUID | None = _owner_columns()[1]
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="RESTRICT", index=True)
    scale_id: uuid.UUID | None = Field(
        default=None, foreign_key="scale.id", ondelete="RESTRICT", index=True
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ObjectiveFields(SQLModel):
    code: Code
    statement: str = Field(min_length=1, max_length=2000)
    curriculum_years: str = Field(
        max_length=5,
        description="The year the objective belongs to, or a span: R, 1-13, or e.g. 3-4.",
        schema_extra={"examples": ["3-4"]},
    )
    strand: str | None = Field(default=None, max_length=200)
    sub_strand: str | None = Field(default=None, max_length=200)
    is_key: bool = Field(default=False, description="A key (non-negotiable) objective.")


class Objective(ObjectiveFields, table=True):
    __table_args__ = (
        sa.UniqueConstraint("framework_id", "code"),
        sa.Index("ix_objective_framework_id_position", "framework_id", "position"),
    )
    id: uuid.UUID = id_field()
    framework_id: uuid.UUID = Field(foreign_key="framework.id", ondelete="CASCADE")
    year_from: int = Field(description="First NC year as a number: R is 0.")
    year_to: int
    position: int
    archived: bool = False
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field(index=False)


# --- Measures (data columns) -------------------------------------------------------------
class MeasureFields(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. Reading TA.")
    code: str = Field(min_length=1, max_length=32, description="e.g. READ-TA.")
    kind: MeasureKind
    subject_id: uuid.UUID | None = None
    scale_id: uuid.UUID | None = Field(default=None, description="For scale measures.")
    minimum: Decimal | None = Field(default=None, max_digits=9, decimal_places=3)
    maximum: Decimal | None = Field(default=None, max_digits=9, decimal_places=3)
    decimals: int | None = Field(default=None, ge=0, le=4)
    expected_from: Decimal | None = Field(default=None, max_digits=9, decimal_places=3)
    above_from: Decimal | None = Field(default=None, max_digits=9, decimal_places=3)
    records_working_year: bool = Field(
        default=False,
        description="Values also record the curriculum year the pupil is working within.",
    )
    position: int = Field(default=1, ge=1, le=1000)


class Measure(MeasureFields, Owner, table=True):
    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="one_owner"),
        sa.UniqueConstraint("trust_id", "code"),
        sa.UniqueConstraint("school_id", "code"),
    )
    id: uuid.UUID = id_field()
    trust_id: uuid.UUID | None = _owner_columns()[0]
    school_id: uuid.UUID | None = _owner_columns()[1]
    kind: str = Field(max_length=16)  # type: ignore[assignment]
    subject_id: uuid.UUID | None = Field(
        default=None, foreign_key="subject.id", ondelete="RESTRICT", index=True
    )
    scale_id: uuid.UUID | None = Field(
        default=None, foreign_key="scale.id", ondelete="RESTRICT", index=True
    )
    archived: bool = False
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
