"""The markbook: objective judgements, working curriculum years and measure values.

Each kind of record is kept twice. An append-only history (``objective_judgement``,
``working_year_history``, ``measure_value_history``) holds every write: who, when, what; it
answers "as at" questions and is the audit. A current table (``judgement_state``,
``working_year``, ``measure_value``) holds one row per cell, written in the same transaction,
so grids and reports never have to find the latest row of a history. ``judgement_summary``
holds, per pupil x subject x assessment point, the figures reports aggregate (DESIGN §8).

``markbook_clock`` numbers each school's markbook writes: every cell written takes the new
number as its ``version``, and a grid's version is the highest among its cells, so a client
holding an old grid can be told exactly which cells changed since.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import UTCDateTime, id_field


def _school() -> Any:
    return Field(foreign_key="school.id", ondelete="CASCADE")


def _pupil() -> Any:
    return Field(foreign_key="pupil.id", ondelete="CASCADE")


def _when() -> Any:
    return Field(sa_type=UTCDateTime, nullable=False)


class MarkbookClock(SQLModel, table=True):
    __tablename__ = "markbook_clock"
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE", primary_key=True)
    version: int = Field(default=0, sa_type=sa.BigInteger)


# --- Objective judgements ----------------------------------------------------------------
class ObjectiveJudgement(SQLModel, table=True):
    """One judgement of one pupil against one objective: never updated, never deleted (but
    with the pupil, on erasure). ``descriptor_id`` null records that the cell was cleared."""

    __tablename__ = "objective_judgement"
    __table_args__ = (
        sa.Index(
            "ix_objective_judgement_cell",
            "pupil_id",
            "objective_id",
            "assessed_on",
            "recorded_at",
        ),
        sa.Index("ix_objective_judgement_pupil_id_subject_id", "pupil_id", "subject_id"),
        sa.Index("ix_objective_judgement_school_id_version", "school_id", "version"),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = _school()
    pupil_id: uuid.UUID = _pupil()
    objective_id: uuid.UUID = Field(foreign_key="objective.id", ondelete="RESTRICT")
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="RESTRICT")
    descriptor_id: uuid.UUID | None = Field(
        default=None, foreign_key="descriptor.id", ondelete="RESTRICT"
    )
    assessed_on: date
    note: str | None = Field(default=None, max_length=1000)
    recorded_at: datetime = _when()
    recorded_by: uuid.UUID = Field(description="The user or integration client that wrote it.")
    version: int = Field(sa_type=sa.BigInteger)


class JudgementState(SQLModel, table=True):
    """The current judgement of each cell (pupil x objective): the latest by date assessed,
    then by time recorded, of its history. ``version`` is the clock value of the last write
    to the cell's history, back-dated writes included."""

    __tablename__ = "judgement_state"
    __table_args__ = (
        sa.Index("ix_judgement_state_school_id_subject_id", "school_id", "subject_id"),
    )
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    objective_id: uuid.UUID = Field(
        foreign_key="objective.id", ondelete="RESTRICT", primary_key=True
    )
    school_id: uuid.UUID = _school()
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="RESTRICT")
    # The standing judgement in the history. No foreign key: history rows go only with their
    # pupil, and so does this row; a key would cost a check on every write and a scan of this
    # table for every history row deleted.
    judgement_id: uuid.UUID
    descriptor_id: uuid.UUID | None = Field(
        default=None, foreign_key="descriptor.id", ondelete="RESTRICT"
    )
    assessed_on: date
    note: str | None = Field(default=None, max_length=1000)
    recorded_at: datetime = _when()
    recorded_by: uuid.UUID
    version: int = Field(sa_type=sa.BigInteger)


class JudgementSummary(SQLModel, table=True):
    """Per pupil x subject x assessment point: the cells judged as at the point's date among
    the objectives of the pupil's working year, their descriptor values summed, and how many
    are secure. Reports aggregate these rather than the history."""

    __tablename__ = "judgement_summary"
    __table_args__ = (
        sa.Index(
            "ix_judgement_summary_school_id_assessment_point_id",
            "school_id",
            "assessment_point_id",
        ),
    )
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="CASCADE", primary_key=True)
    assessment_point_id: uuid.UUID = Field(
        foreign_key="assessment_point.id", ondelete="CASCADE", primary_key=True
    )
    school_id: uuid.UUID = _school()
    curriculum_year: int = Field(description="The working year counted: R is 0.")
    judged: int
    value_sum: Decimal = Field(max_digits=14, decimal_places=3)
    secure: int


# --- Working curriculum years ------------------------------------------------------------
class WorkingYear(SQLModel, table=True):
    """A pupil's working curriculum year in a subject for an academic year, where a teacher or
    leader set one; with no row, the pupil works within their year group's curriculum."""

    __tablename__ = "working_year"
    __table_args__ = (sa.Index("ix_working_year_school_id_version", "school_id", "version"),)
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="CASCADE", primary_key=True)
    academic_year: int = Field(primary_key=True)
    school_id: uuid.UUID = _school()
    curriculum_year: int | None = Field(
        default=None,
        description="R is 0; None: back to the year group's (the row keeps the "
        "version of the change).",
    )
    set_at: datetime = _when()
    set_by: uuid.UUID
    version: int = Field(sa_type=sa.BigInteger)


class WorkingYearHistory(SQLModel, table=True):
    """Every change of a working year; ``curriculum_year`` null: back to the year group's."""

    __tablename__ = "working_year_history"
    __table_args__ = (
        sa.Index("ix_working_year_history_pupil_id_subject_id", "pupil_id", "subject_id", "set_at"),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = _school()
    pupil_id: uuid.UUID = _pupil()
    subject_id: uuid.UUID = Field(foreign_key="subject.id", ondelete="CASCADE")
    academic_year: int
    curriculum_year: int | None = None
    set_at: datetime = _when()
    set_by: uuid.UUID


# --- Measure values ----------------------------------------------------------------------
class ValueColumns(SQLModel):
    """A value in the column its measure's kind uses. Scale values keep the descriptor and a
    copy of its numeric value (``number``) so that reports can average them."""

    number: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    descriptor_id: uuid.UUID | None = Field(
        default=None, foreign_key="descriptor.id", ondelete="RESTRICT"
    )
    text: str | None = Field(default=None, max_length=1000)
    flag: bool | None = None
    value_on: date | None = None
    curriculum_year: int | None = Field(
        default=None, description="For curriculum measures: the working year, R is 0."
    )


class MeasureValue(ValueColumns, table=True):
    """The current value of each pupil x measure x assessment point. A cleared value has no
    row here (its clearing is in the history)."""

    __tablename__ = "measure_value"
    __table_args__ = (
        sa.Index(
            "ix_measure_value_school_id_assessment_point_id_measure_id",
            "school_id",
            "assessment_point_id",
            "measure_id",
        ),
    )
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE", primary_key=True)
    measure_id: uuid.UUID = Field(foreign_key="measure.id", ondelete="RESTRICT", primary_key=True)
    assessment_point_id: uuid.UUID = Field(
        foreign_key="assessment_point.id", ondelete="CASCADE", primary_key=True
    )
    school_id: uuid.UUID = _school()
    recorded_at: datetime = _when()
    recorded_by: uuid.UUID


class MeasureValueHistory(ValueColumns, table=True):
    """Every write of a value, clearing included (all value columns null)."""

    __tablename__ = "measure_value_history"
    __table_args__ = (
        sa.Index(
            "ix_measure_value_history_cell",
            "pupil_id",
            "measure_id",
            "assessment_point_id",
            "recorded_at",
        ),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = _school()
    pupil_id: uuid.UUID = _pupil()
    measure_id: uuid.UUID = Field(foreign_key="measure.id", ondelete="RESTRICT")
    assessment_point_id: uuid.UUID = Field(foreign_key="assessment_point.id", ondelete="CASCADE")
    recorded_at: datetime = _when()
    recorded_by: uuid.UUID
