"""Pupils' targets: what a teacher has set a pupil to work on next.

One row per target, changed in place; every change (set, edited, closed, achieved by a
judgement) is an audit event with the row before and after, so the target's history is its
audit trail. A target is ``open`` until a teacher closes it (``closed``) or, for a target on an
objective, the objective is judged secure (``achieved``, dated the day it was judged).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import created_at_field, id_field, updated_at_field

TARGET_TEXT_MAX = 500


class PupilTarget(SQLModel, table=True):
    __tablename__ = "pupil_target"
    __table_args__ = (
        sa.CheckConstraint(
            "objective_id IS NOT NULL OR text IS NOT NULL", name="objective_or_text"
        ),
        sa.CheckConstraint("status IN ('open', 'closed', 'achieved')", name="status"),
        sa.Index("ix_pupil_target_pupil_id_status", "pupil_id", "status"),
        sa.Index("ix_pupil_target_school_id_updated_at", "school_id", "updated_at"),
    )
    id: uuid.UUID = id_field()
    school_id: uuid.UUID = Field(foreign_key="school.id", ondelete="CASCADE")
    pupil_id: uuid.UUID = Field(foreign_key="pupil.id", ondelete="CASCADE")
    subject_id: uuid.UUID | None = Field(
        default=None, foreign_key="subject.id", ondelete="RESTRICT"
    )
    objective_id: uuid.UUID | None = Field(
        default=None, foreign_key="objective.id", ondelete="RESTRICT"
    )
    text: str | None = Field(default=None, max_length=TARGET_TEXT_MAX)
    due_point_id: uuid.UUID | None = Field(
        default=None, foreign_key="assessment_point.id", ondelete="SET NULL"
    )
    status: str = Field(default="open", max_length=8)
    set_on: date
    set_by: uuid.UUID = Field(description="The user or integration client that set it.")
    closed_on: date | None = None
    closed_by: uuid.UUID | None = Field(
        default=None, description="Who closed it, or whose judgement achieved it."
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field(index=False)
