"""A pupil's page: what they do well, what comes next, and their targets, per subject, in words
a pupil and their parents read. No codes of descriptors, no numbers: the descriptor's label
says how an objective was judged."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.api.schemas.targets import TargetRead


class PagePupil(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    forename: str = Field(description="Preferred forename, else legal.")
    surname: str = Field(description="Preferred surname, else legal.")


class PageObjective(BaseModel):
    """One objective of the pupil's working curriculum, with its statement in full."""

    objective_id: uuid.UUID
    code: str
    statement: str
    is_key: bool = Field(description="A key (non-negotiable) objective.")
    judged: str | None = Field(
        description="The label of the descriptor it was judged at (e.g. Greater depth); "
        "null if not yet judged."
    )
    judged_on: date | None = Field(description="The day it was judged; null if not yet.")


class OnTrack(BaseModel):
    """Whether the pupil is on track in a subject, in the school's words, by the attainment
    rule of the report template the school chose (app.domain.on_track)."""

    words: str = Field(
        description="e.g. On track, Working towards, Working beyond, Working on their own "
        "curriculum, Not assessed yet: the school's words, else these."
    )
    as_at: str = Field(description="The assessment point it is read at, by name: Autumn.")


class PageSubject(BaseModel):
    """One subject: strengths, next steps and what is not yet judged (app.domain.next_steps),
    within the curriculum the pupil works on, and the pupil's targets in it."""

    subject_id: uuid.UUID
    subject: str = Field(description="The subject's name, e.g. Mathematics.")
    curriculum_year: str | None = Field(
        description="The curriculum the pupil works on, in words: Reception, Year 3. Null if "
        "they are not enrolled that year and nobody set one."
    )
    strengths: list[PageObjective] = Field(
        description="Judged at or beyond the secure descriptor, most recent first."
    )
    next_steps: list[PageObjective] = Field(
        description="Judged, not yet secure: key objectives first, then the framework's order."
    )
    not_yet_judged: list[PageObjective] = Field(
        description="Not judged yet (perhaps not taught yet): never a weakness."
    )
    targets: list[TargetRead] = Field(description="Open targets in this subject.")
    achieved: list[TargetRead] = Field(
        description="Targets achieved in the academic year, most recent first."
    )
    on_track: OnTrack | None = Field(
        default=None,
        description="Secondary: whether the pupil is on track by the school's attainment rule. "
        "Null if the school names no rule for the subject, has no assessment point that year, "
        "or shows it only to staff (for a pupil or parent).",
    )


class PupilPage(BaseModel):
    """A pupil's page for an academic year: every subject of their school (its own and its
    trust's), and targets that belong to no subject."""

    pupil: PagePupil
    academic_year: int = Field(description="Start year: 2025 is 2025/26.")
    subjects: list[PageSubject]
    other_targets: list[TargetRead] = Field(description="Open targets in no subject.")


class MyPupil(BaseModel):
    """A pupil whose page the caller may open."""

    id: uuid.UUID
    school_id: uuid.UUID
    forename: str
    surname: str
    page: str = Field(description="The pupil's page: GET this path.")
    targets: str = Field(description="The pupil's targets: GET this path.")


class MyPupils(BaseModel):
    items: list[MyPupil]
