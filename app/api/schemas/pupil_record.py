"""What a pupil's record reads as: the pupil, their working years, the judgements standing in
their cells and their measure values; and the history of their judgements."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.domain.pupils import YearGroup
from app.domain.scales import Band, MeasureKind


class RecordPupil(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    forename: str = Field(description="Preferred forename, else legal.")
    surname: str = Field(description="Preferred surname, else legal.")
    year_group: YearGroup | None = Field(
        description="Year group in the record's academic year; null if not enrolled that year."
    )


class RecordWorkingYear(BaseModel):
    subject_id: uuid.UUID
    curriculum_year: str | None = Field(
        description="The curriculum year worked within (R, 1-13); null if not enrolled and "
        "nobody set one."
    )
    is_set: bool = Field(description="Set by a teacher (false: the year group's).")


class RecordJudgement(BaseModel):
    """The judgement standing in one cell (pupil x objective)."""

    objective_id: uuid.UUID
    framework_id: uuid.UUID
    subject_id: uuid.UUID
    code: str = Field(description="The objective's code.")
    statement: str
    curriculum_years: str = Field(description="The objective's year or span, e.g. 4 or 3-4.")
    descriptor_id: uuid.UUID
    descriptor_code: str
    label: str
    band: Band | None
    colour: str | None
    secure: bool = Field(
        description="The descriptor's value is at or above the framework scale's secure point."
    )
    assessed_on: date
    recorded_at: datetime
    note: str | None


class RecordValue(BaseModel):
    """A measure's current value at one assessment point."""

    measure_id: uuid.UUID
    code: str = Field(description="The measure's code.")
    name: str
    kind: MeasureKind
    assessment_point_id: uuid.UUID
    assessment_point_code: str
    academic_year: int
    assessed_on: date = Field(description="The assessment point's date.")
    value: bool | int | float | date | str = Field(
        description="By the measure's kind: number a JSON number, scale the descriptor's code, "
        "text a string, boolean true/false, date an ISO date."
    )
    descriptor_id: uuid.UUID | None = Field(description="Scale measures: the descriptor.")
    band: Band | None = Field(
        description="below / at / above expected: the descriptor's band, or by the number "
        "measure's thresholds; null where the measure sets none."
    )
    curriculum_year: str | None = Field(
        description="Curriculum measures: the year the pupil was working within (R, 1-13)."
    )
    recorded_at: datetime


class RecordFigures(BaseModel):
    """A pupil's figures in one subject at one assessment point, from the judgements standing
    on the point's date among the objectives of their working curriculum year."""

    subject_id: uuid.UUID
    assessment_point_id: uuid.UUID
    assessment_point_code: str
    academic_year: int
    assessed_on: date = Field(description="The assessment point's date.")
    curriculum_year: str = Field(description="The working curriculum year counted (R, 1-13).")
    judged: int = Field(description="Objectives of that year judged.")
    secure: int = Field(description="Of those, judged at or above the scale's secure point.")
    objectives: int = Field(description="Objectives (not archived) covering that year.")
    depth_score: float | None = Field(
        description="Mean value of the descriptors judged; null with none judged."
    )
    percent_secured: float | None = Field(
        description="Secure as a % of the objectives judged; null with none judged."
    )
    percent_secured_of_year: float | None = Field(
        description="Secure as a % of the objectives covering the year; null if none do."
    )


class PupilRecord(BaseModel):
    """One pupil's record, as far as the caller may see it. ``judgements``, ``figures`` and
    ``working_years`` are null when the caller may read the pupil's values but not their
    judgements; ``values`` is null when they may read judgements but not values."""

    pupil: RecordPupil
    academic_year: int = Field(description="Start year: 2025 is 2025/26.")
    as_at: date | None = Field(description="Judgements as they stood on this date; null: now.")
    working_years: list[RecordWorkingYear] | None
    judgements: list[RecordJudgement] | None = Field(
        description="Cells with a standing descriptor (cleared cells are left out)."
    )
    values: list[RecordValue] | None
    figures: list[RecordFigures] | None = Field(
        description="The pupil's figures in each subject at the assessment points of the "
        "academic year (to ``as_at``, if given), with the judgements; null with them."
    )


class JudgementHistoryItem(BaseModel):
    """One write to one of a pupil's cells: a descriptor, or a clearing (descriptor null)."""

    id: uuid.UUID
    objective_id: uuid.UUID
    objective_code: str
    subject_id: uuid.UUID
    descriptor_id: uuid.UUID | None
    descriptor_code: str | None = Field(description="Null: the cell was cleared.")
    assessed_on: date
    recorded_at: datetime
    recorded_by: uuid.UUID = Field(description="The user or integration client that wrote it.")
    note: str | None


class JudgementHistoryPage(BaseModel):
    items: list[JudgementHistoryItem]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )
