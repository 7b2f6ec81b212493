"""GraphQL types of a pupil's parts: their enrolments and custom groups (the roster), and their
record (working years, cells, judgements, values) as REST's pupil record reads it, from the same
read models (app.api.schemas.pupil_record) made by the same services."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from app.api.graphql.enums import Band, MeasureKind, TargetStatus
from app.api.schemas.pupil_page import PageObjective, PageSubject, PupilPage
from app.api.schemas.pupil_record import (
    JudgementHistoryItem,
    RecordFigures,
    RecordJudgement,
    RecordValue,
    RecordWorkingYear,
)
from app.api.schemas.targets import TargetRead
from app.db.roster import Enrolment as EnrolmentRow
from app.db.roster import PupilGroup
from app.domain.scales import MeasureKind as Kind


@strawberry.type(description="A pupil on a school's roll for one academic year.")
class Enrolment:
    school_id: uuid.UUID
    academic_year: int = strawberry.field(description="Start year: 2025 is 2025/26.")
    year_group: str = strawberry.field(description="National Curriculum year: N1, N2, R, 1-13.")
    joined_on: date | None
    left_on: date | None

    @classmethod
    def of(cls, row: EnrolmentRow) -> Enrolment:
        return cls(
            school_id=row.school_id,
            academic_year=row.academic_year,
            year_group=row.year_group,
            joined_on=row.joined_on,
            left_on=row.left_on,
        )


@strawberry.type(description="A school's custom group of pupils, such as 'Summer born'.")
class Group:
    id: uuid.UUID
    name: str
    description: str | None

    @classmethod
    def of(cls, row: PupilGroup) -> Group:
        return cls(id=row.id, name=row.name, description=row.description)


@strawberry.type(description="The curriculum year a pupil works within in one subject.")
class WorkingYear:
    subject_id: uuid.UUID
    curriculum_year: str | None = strawberry.field(
        description="R, 1-13; null if the pupil is not enrolled that year and nobody set one."
    )
    is_set: bool = strawberry.field(description="Set by a teacher (false: the year group's).")

    @classmethod
    def of(cls, row: RecordWorkingYear) -> WorkingYear:
        return cls(
            subject_id=row.subject_id, curriculum_year=row.curriculum_year, is_set=row.is_set
        )


@strawberry.type(description="The judgement standing in one of a pupil's cells (an objective).")
class Cell:
    objective_id: uuid.UUID
    objective_code: str
    statement: str
    curriculum_years: str = strawberry.field(description="The objective's year or span: 3-4.")
    framework_id: uuid.UUID
    subject_id: uuid.UUID
    descriptor_id: uuid.UUID
    descriptor_code: str
    label: str = strawberry.field(description="The descriptor's label, e.g. Greater depth.")
    band: Band | None
    colour: str | None
    secure: bool = strawberry.field(
        description="At or above the secure point of the framework's scale."
    )
    assessed_on: date = strawberry.field(description="The day it was judged.")
    recorded_at: datetime
    note: str | None

    @classmethod
    def of(cls, row: RecordJudgement) -> Cell:
        return cls(
            objective_id=row.objective_id,
            objective_code=row.code,
            statement=row.statement,
            curriculum_years=row.curriculum_years,
            framework_id=row.framework_id,
            subject_id=row.subject_id,
            descriptor_id=row.descriptor_id,
            descriptor_code=row.descriptor_code,
            label=row.label,
            band=row.band,
            colour=row.colour,
            secure=row.secure,
            assessed_on=row.assessed_on,
            recorded_at=row.recorded_at,
            note=row.note,
        )


@strawberry.type(description="One write to a pupil's cell: a descriptor, or a clearing.")
class Judgement:
    id: uuid.UUID
    objective_id: uuid.UUID
    objective_code: str
    subject_id: uuid.UUID
    descriptor_id: uuid.UUID | None
    descriptor_code: str | None = strawberry.field(description="Null: the cell was cleared.")
    assessed_on: date
    recorded_at: datetime
    recorded_by: uuid.UUID = strawberry.field(description="The user or client that wrote it.")
    note: str | None

    @classmethod
    def of(cls, row: JudgementHistoryItem) -> Judgement:
        return cls(**row.model_dump())


@strawberry.type(
    description="A measure's current value for a pupil at one assessment point. The value is "
    "in the field of the measure's kind (number, descriptorCode, text, flag or dateValue); "
    "the others are null."
)
class Value:
    measure_id: uuid.UUID
    measure_code: str
    measure_name: str
    kind: MeasureKind
    assessment_point_id: uuid.UUID
    assessment_point_code: str
    academic_year: int
    assessed_on: date = strawberry.field(description="The assessment point's date.")
    number: float | None = strawberry.field(description="NUMBER measures.")
    descriptor_id: uuid.UUID | None = strawberry.field(description="SCALE measures.")
    descriptor_code: str | None = strawberry.field(description="SCALE measures.")
    text: str | None = strawberry.field(description="TEXT measures.")
    flag: bool | None = strawberry.field(description="BOOLEAN measures.")
    date_value: date | None = strawberry.field(description="DATE measures.")
    band: Band | None = strawberry.field(
        description="The descriptor's band, or by the number measure's thresholds; null where "
        "the measure sets none."
    )
    curriculum_year: str | None = strawberry.field(
        description="Curriculum measures: the year the pupil was working within (R, 1-13)."
    )
    recorded_at: datetime

    @classmethod
    def of(cls, row: RecordValue) -> Value:
        kind, value = row.kind, row.value
        return cls(
            measure_id=row.measure_id,
            measure_code=row.code,
            measure_name=row.name,
            kind=kind,
            assessment_point_id=row.assessment_point_id,
            assessment_point_code=row.assessment_point_code,
            academic_year=row.academic_year,
            assessed_on=row.assessed_on,
            number=float(value) if kind is Kind.NUMBER else None,  # type: ignore[arg-type]
            descriptor_id=row.descriptor_id,
            descriptor_code=value if kind is Kind.SCALE else None,  # type: ignore[arg-type]
            text=value if kind is Kind.TEXT else None,  # type: ignore[arg-type]
            flag=value if kind is Kind.BOOLEAN else None,  # type: ignore[arg-type]
            date_value=value if kind is Kind.DATE else None,  # type: ignore[arg-type]
            band=row.band,
            curriculum_year=row.curriculum_year,
            recorded_at=row.recorded_at,
        )


@strawberry.type(
    description="A pupil's figures in one subject at one assessment point, from the judgements "
    "standing on the point's date among the objectives of their working curriculum year."
)
class Figures:
    subject_id: uuid.UUID
    assessment_point_id: uuid.UUID
    assessment_point_code: str
    academic_year: int
    assessed_on: date = strawberry.field(description="The assessment point's date.")
    curriculum_year: str = strawberry.field(
        description="The working curriculum year counted (R, 1-13)."
    )
    judged: int = strawberry.field(description="Objectives of that year judged.")
    secure: int = strawberry.field(
        description="Of those, judged at or above the scale's secure point."
    )
    objectives: int = strawberry.field(description="Objectives covering that year.")
    depth_score: float | None = strawberry.field(
        description="Mean value of the descriptors judged; null with none judged."
    )
    percent_secured: float | None = strawberry.field(
        description="Secure as a % of the objectives judged; null with none judged."
    )
    percent_secured_of_year: float | None = strawberry.field(
        description="Secure as a % of the objectives covering the year; null if none do."
    )

    @classmethod
    def of(cls, row: RecordFigures) -> Figures:
        return cls(**row.model_dump())


@strawberry.type(
    description="A target set for a pupil: an objective (the next step they work on), words "
    "the pupil understands, or both; optionally due by an assessment point."
)
class Target:
    id: uuid.UUID
    subject_id: uuid.UUID | None
    objective_id: uuid.UUID | None
    objective_code: str | None
    statement: str | None = strawberry.field(description="The objective's statement in full.")
    text: str | None
    due_point_id: uuid.UUID | None
    due_point_name: str | None
    due_on: date | None = strawberry.field(description="The due point's date.")
    status: TargetStatus
    set_on: date
    closed_on: date | None = strawberry.field(
        description="The day it was closed, or judged secure (achieved by a judgement)."
    )
    updated_at: datetime

    @classmethod
    def of(cls, row: TargetRead) -> Target:
        return cls(
            **row.model_dump(exclude={"pupil_id", "school_id", "set_by", "closed_by", "status"}),
            status=row.status,
        )


@strawberry.type(
    name="PageObjective",
    description="An objective of a pupil's working curriculum on their page: its statement "
    "in full and, if judged, the label of the descriptor (never a code or number).",
)
class PageObjectiveType:
    objective_id: uuid.UUID
    code: str
    statement: str
    is_key: bool
    judged: str | None = strawberry.field(description="e.g. Greater depth; null: not yet.")
    judged_on: date | None

    @classmethod
    def of(cls, row: PageObjective) -> PageObjectiveType:
        return cls(**row.model_dump())


@strawberry.type(
    name="OnTrack",
    description="Whether a pupil is on track in a subject, in the school's words, by the "
    "attainment rule of the report template the school chose (as GET /v1/pupils/{id}/page).",
)
class OnTrackType:
    words: str = strawberry.field(
        description="e.g. On track, Working towards, Working beyond: the school's words."
    )
    as_at: str = strawberry.field(description="The assessment point it is read at: Autumn.")


@strawberry.type(
    name="PageSubject",
    description="One subject of a pupil's page: strengths, next steps and what is not yet "
    "judged within the curriculum they work on, and their targets in it.",
)
class PageSubjectType:
    subject_id: uuid.UUID
    subject: str
    curriculum_year: str | None = strawberry.field(
        description="The curriculum worked on, in words: Reception, Year 3."
    )
    strengths: list[PageObjectiveType]
    next_steps: list[PageObjectiveType]
    not_yet_judged: list[PageObjectiveType]
    targets: list[Target] = strawberry.field(description="Open targets.")
    achieved: list[Target] = strawberry.field(description="Achieved this academic year.")
    on_track: OnTrackType | None = strawberry.field(
        description="Secondary: on track by the school's attainment rule; null if the school "
        "names no rule for the subject, or shows it only to staff (for a pupil or parent)."
    )

    @classmethod
    def of(cls, row: PageSubject) -> PageSubjectType:
        return cls(
            subject_id=row.subject_id,
            subject=row.subject,
            curriculum_year=row.curriculum_year,
            strengths=[PageObjectiveType.of(o) for o in row.strengths],
            next_steps=[PageObjectiveType.of(o) for o in row.next_steps],
            not_yet_judged=[PageObjectiveType.of(o) for o in row.not_yet_judged],
            targets=[Target.of(t) for t in row.targets],
            achieved=[Target.of(t) for t in row.achieved],
            on_track=None
            if row.on_track is None
            else OnTrackType(words=row.on_track.words, as_at=row.on_track.as_at),
        )


@strawberry.type(
    name="PupilPage",
    description="A pupil's page, as GET /v1/pupils/{id}/page gives it.",
)
class PupilPageType:
    academic_year: int
    subjects: list[PageSubjectType]
    other_targets: list[Target] = strawberry.field(description="Open targets in no subject.")

    @classmethod
    def of(cls, row: PupilPage) -> PupilPageType:
        return cls(
            academic_year=row.academic_year,
            subjects=[PageSubjectType.of(s) for s in row.subjects],
            other_targets=[Target.of(t) for t in row.other_targets],
        )
