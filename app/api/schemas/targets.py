"""Pupils' targets through the API: set (for one pupil or many of a class), changed, closed,
and read. The table is in app/db/targets.py; the rules in app/domain/targets.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.api.schemas.base import Input
from app.domain.targets import MAX_TEXT_LENGTH, TargetStatus

_TEXT = Field(
    default=None,
    max_length=MAX_TEXT_LENGTH,
    description="The target in words the pupil understands (one line, no control "
    "characters). Needed unless an objective is given.",
)
_DUE = Field(
    default=None,
    description="An assessment point of the pupil's school the target is due by.",
)


class TargetIn(Input):
    """A target: an objective of the pupil's school (the next step they work on), words, or
    both (the words then say the objective in the pupil's terms)."""

    objective_id: uuid.UUID | None = Field(
        default=None,
        description="An objective of one of the school's (or its trust's) frameworks; the "
        "target is achieved by itself when the objective is judged secure.",
    )
    subject_id: uuid.UUID | None = Field(
        default=None,
        description="For a target in words only: the subject it belongs to (one of the "
        "school's). With an objective: its subject (or leave it out).",
    )
    text: str | None = _TEXT
    due_point_id: uuid.UUID | None = _DUE


class ClassTargetsIn(TargetIn):
    """The same target for many pupils of a class at once, all or nothing."""

    pupil_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=200,
        description="Pupils of the class; default: every pupil of the class the caller may "
        "set targets for.",
    )


class TargetUpdate(Input):
    """Change a target: only the fields sent change. Its objective stays (set a new target
    for another)."""

    text: str | None = _TEXT
    due_point_id: uuid.UUID | None = _DUE
    status: TargetStatus | None = Field(
        default=None,
        description="open, closed (no longer worked on) or achieved. Closing dates it today, "
        "by the caller; opening clears that.",
    )


class TargetRead(BaseModel):
    """A pupil's target, with the objective's statement in full and the due point's name."""

    id: uuid.UUID
    pupil_id: uuid.UUID
    school_id: uuid.UUID
    subject_id: uuid.UUID | None
    objective_id: uuid.UUID | None
    objective_code: str | None
    statement: str | None = Field(description="The objective's statement in full.")
    text: str | None
    due_point_id: uuid.UUID | None
    due_point_name: str | None = Field(description="e.g. Spring.")
    due_on: date | None = Field(description="The due point's date.")
    status: TargetStatus
    set_on: date
    set_by: uuid.UUID
    closed_on: date | None = Field(
        description="The day it was closed, or judged secure (achieved by a judgement)."
    )
    closed_by: uuid.UUID | None
    updated_at: datetime


class TargetsSet(BaseModel):
    """Targets set by one request, one per pupil, in the order the pupils were named."""

    items: list[TargetRead]
