"""GraphQL types: views of the services' answers, separate from the tables."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from app.api.graphql.enums import (
    Band,
    ClientScope,
    MeasureKind,
    Phase,
    PrincipalKind,
    Role,
    ScaleKind,
    SenStatus,
    Sex,
)
from app.api.graphql.errors import known
from app.api.graphql.limits import charged
from app.api.graphql.pupil_types import (
    Cell,
    Enrolment,
    Figures,
    Group,
    Judgement,
    PupilPageType,
    Target,
    Value,
    WorkingYear,
)
from app.api.graphql.report_types import (
    ReportDefinitionInput,
    ReportTable,
    ReportTemplate,
    read,
    school_report,
    trust_report,
)
from app.db.roster import Pupil as PupilRow
from app.db.roster import TeachingGroup
from app.db.tenancy import AssessmentPoint as PointRow
from app.db.tenancy import School as SchoolRow
from app.db.tenancy import Trust as TrustRow
from app.domain.calendar import AcademicYear
from app.domain.errors import DomainError
from app.errors import InvalidInput
from app.services.batches import PupilAccess

# The most rows one list field answers (the list is cut there; ask with `first`).
MAX_FIRST = 500
First = Annotated[
    int, strawberry.argument(description=f"How many to answer (at most {MAX_FIRST}).")
]
After = Annotated[str | None, strawberry.argument(description="endCursor of the page before.")]
Node = TypeVar("Node")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type(description="A page of a list: ask for the next with `after: endCursor`.")
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo
    total_count: int


def _cursor(row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(row_id.bytes).decode().rstrip("=")


def page(
    info: strawberry.Info,
    rows: Sequence[Any],
    first: int,
    after: str | None,
    view: Callable[[Any], Node],
) -> Connection[Node]:
    """A page of ``rows`` (all of one parent's, loaded in one batch) after the row named by
    ``after``: the same rows in the same order every time, so the cursor is the row's id.
    The page's nodes count against the query's row budget."""
    if not 0 <= first <= MAX_FIRST:
        raise known(InvalidInput.at("first", f"give a number from 0 to {MAX_FIRST}"))
    start = 0
    if after is not None:
        cursors = [_cursor(r.id) for r in rows]
        if after not in cursors:
            raise known(InvalidInput.at("after", "not a cursor of this list"))
        start = cursors.index(after) + 1
    chosen = charged(info, rows[start : start + first])
    edges = [Edge(cursor=_cursor(r.id), node=view(r)) for r in chosen]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + first < len(rows),
            end_cursor=edges[-1].cursor if edges else after,
        ),
        total_count=len(rows),
    )


def _view(cls: type[Any], row: Any) -> Any:
    """A type's fields copied from a row (the fields the type declares, nothing else)."""
    return cls(**{name: getattr(row, name) for name in cls.__annotations__})


@strawberry.type(description="A statement pupils are judged against, for some curriculum years.")
class Objective:
    id: uuid.UUID
    code: str
    statement: str
    curriculum_years: str
    year_from: int
    year_to: int
    strand: str | None
    sub_strand: str | None
    is_key: bool
    position: int


@strawberry.type(description="A framework of objectives for a subject.")
class Framework:
    id: uuid.UUID
    name: str
    source: str
    description: str | None
    scale_id: uuid.UUID | None

    @strawberry.field(description="Its current objectives, in order.")
    async def objectives(
        self, info: strawberry.Info, first: First = 100, after: After = None
    ) -> Connection[Objective]:
        rows = await info.context.loaders.objectives_of_framework.load(self.id)
        return page(info, rows, first, after, lambda o: _view(Objective, o))


@strawberry.type
class Subject:
    id: uuid.UUID
    code: str
    name: str
    position: int
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None

    @strawberry.field(description="Its frameworks you may read.")
    async def frameworks(self, info: strawberry.Info) -> list[Framework]:
        rows = await info.context.loaders.frameworks_of_subject.load(self.id)
        return [_view(Framework, f) for f in charged(info, rows)]


@strawberry.type(description="A step of a scale, e.g. Greater depth.")
class Descriptor:
    id: uuid.UUID
    code: str
    label: str
    value: Decimal
    band: Band | None
    colour: str | None
    position: int


@strawberry.type(description="A scale judgements or values are recorded on.")
class Scale:
    id: uuid.UUID
    name: str
    kind: ScaleKind
    description: str | None
    secure_from: str | None
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None

    @strawberry.field(description="Its current descriptors, lowest first.")
    async def descriptors(self, info: strawberry.Info) -> list[Descriptor]:
        rows = await info.context.loaders.descriptors_of_scale.load(self.id)
        return [_view(Descriptor, d) for d in charged(info, rows)]


@strawberry.type(
    description="Something recorded for pupils at assessment points (a test score, a TA)."
)
class Measure:
    id: uuid.UUID
    code: str
    name: str
    kind: MeasureKind
    subject_id: uuid.UUID | None
    scale_id: uuid.UUID | None
    minimum: Decimal | None
    maximum: Decimal | None
    decimals: int | None
    expected_from: Decimal | None
    above_from: Decimal | None
    records_working_year: bool
    position: int


@strawberry.type(description="A role the caller holds, and where.")
class Grant:
    role: Role
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None
    pupil_id: uuid.UUID | None = strawberry.field(
        description="Pupil and parent grants: the pupil whose record the grant opens."
    )
    pupil_name: str | None = strawberry.field(
        description="That pupil's name as they go by it (preferred, else legal)."
    )


@strawberry.type(description="The caller and what they may reach.")
class Me:
    kind: PrincipalKind
    id: uuid.UUID
    name: str
    email: str | None
    roles: list[Grant]
    scopes: list[ClientScope]
    trust_ids: list[uuid.UUID]
    school_ids: list[uuid.UUID]
    everything: bool


ROSTER_ONLY = "Null for those who read only the pupil's record (pupils, parents, markbook clients)."
ACADEMIC_YEAR_HELP = "Start year (2025 is 2025/26); default: this academic year."


def _academic_year(given: int | None) -> int:
    """The academic year asked for (this one if none), checked by the calendar's rule."""
    try:
        year = AcademicYear.containing(date.today()) if given is None else AcademicYear(given)
    except DomainError as exc:
        raise known(InvalidInput.at("academicYear", exc.message)) from exc
    return year.start_year


@strawberry.type(
    description="A pupil you reach. Their roster details (characteristics, enrolments, classes, "
    "groups) are for those with pupil rights; their record (working years, cells, judgements, "
    "values) for those who may read it, as GET /v1/pupils/{id}/record decides (pupils and "
    "parents: their own). A part you may not read is null."
)
class Pupil:
    id: uuid.UUID
    school_id: uuid.UUID
    forename: str = strawberry.field(description="Preferred forename, else legal.")
    surname: str = strawberry.field(description="Preferred surname, else legal.")
    upn: str | None = strawberry.field(description=ROSTER_ONLY)
    legal_forename: str | None = strawberry.field(description=ROSTER_ONLY)
    legal_surname: str | None = strawberry.field(description=ROSTER_ONLY)
    preferred_forename: str | None
    preferred_surname: str | None
    date_of_birth: date | None = strawberry.field(description=ROSTER_ONLY)
    sex: Sex | None
    pupil_premium: bool | None
    fsm: bool | None
    sen_status: SenStatus | None
    eal: bool | None
    looked_after: bool | None
    ethnicity: str | None = strawberry.field(description="DfE ethnicity code, e.g. WBRI.")
    left_on: date | None = strawberry.field(description="Left the school (no longer on roll).")
    # Whether the roster details are shown; what else the caller reaches of the pupil, once
    # known (a pupil found through a class is loaded without it).
    roster: strawberry.Private[bool]
    access: strawberry.Private[PupilAccess | None] = None

    @classmethod
    def of(cls, row: PupilRow, access: PupilAccess | None = None) -> Pupil:
        """A pupil reached through a class (``access`` None: with pupil rights), or with the
        parts ``access`` says."""
        roster = access is None or access.roster
        shown = {name: getattr(row, name) if roster else None for name in _ROSTER_FIELDS}
        return cls(
            id=row.id,
            school_id=row.school_id,
            forename=row.preferred_forename or row.legal_forename,
            surname=row.preferred_surname or row.legal_surname,
            roster=roster,
            access=access,
            **shown,
        )

    async def _reached(self, info: strawberry.Info) -> PupilAccess | None:
        if self.access is None:
            self.access = await info.context.loaders.pupil_access.load(self.id)
        return self.access

    @strawberry.field(description="The pupil's enrolments, oldest year first. " + ROSTER_ONLY)
    async def enrolments(self, info: strawberry.Info) -> list[Enrolment] | None:
        if not self.roster:
            return None
        rows = await info.context.loaders.enrolments_of_pupil.load(self.id)
        return [Enrolment.of(e) for e in charged(info, rows)]

    @strawberry.field(description="The classes the pupil is in, latest year first. " + ROSTER_ONLY)
    async def classes(
        self,
        info: strawberry.Info,
        academic_year: Annotated[
            int | None, strawberry.argument(description="Only this year's (2025 is 2025/26).")
        ] = None,
    ) -> list[SchoolClass] | None:
        if not self.roster:
            return None
        rows = await info.context.loaders.classes_of_pupil.load(self.id)
        chosen = [c for c in rows if academic_year is None or c.academic_year == academic_year]
        return [SchoolClass.of(c) for c in charged(info, chosen)]

    @strawberry.field(description="The custom groups the pupil belongs to. " + ROSTER_ONLY)
    async def groups(self, info: strawberry.Info) -> list[Group] | None:
        if not self.roster:
            return None
        rows = await info.context.loaders.groups_of_pupil.load(self.id)
        return [Group.of(g) for g in charged(info, rows)]

    @strawberry.field(
        description="The curriculum year the pupil works within in each subject of their "
        "school (the one a teacher set, else their year group's); null if you may not read "
        "their judgements."
    )
    async def working_years(
        self,
        info: strawberry.Info,
        academic_year: Annotated[
            int | None, strawberry.argument(description=ACADEMIC_YEAR_HELP)
        ] = None,
    ) -> list[WorkingYear] | None:
        year = _academic_year(academic_year)
        reached = await self._reached(info)
        if reached is None or not reached.judgements:
            return None
        rows = await info.context.loaders.working_years_of_pupil.load((self.id, year))
        return None if rows is None else [WorkingYear.of(w) for w in charged(info, rows)]

    @strawberry.field(
        description="The judgements standing in the pupil's cells of a subject (cleared cells "
        "left out), in objective order: now, or as they stood on a date (the latest assessed "
        "on or before it). Null if you may not read their judgements."
    )
    async def cells(
        self,
        info: strawberry.Info,
        subject_id: uuid.UUID,
        as_at: Annotated[
            date | None, strawberry.argument(description="A past date; omit for now.")
        ] = None,
    ) -> list[Cell] | None:
        reached = await self._reached(info)
        if reached is None or not reached.judgements:
            return None
        rows = await info.context.loaders.cells_of_pupil.load((self.id, subject_id, as_at))
        return [Cell.of(c) for c in charged(info, rows)]

    @strawberry.field(
        description="The pupil's figures at each assessment point of an academic year, subject "
        "by subject (or in one subject), by point date: the working year counted, objectives "
        "judged and secure, depth score and % secured. Null if you may not read their "
        "judgements."
    )
    async def figures(
        self,
        info: strawberry.Info,
        subject_id: Annotated[
            uuid.UUID | None, strawberry.argument(description="Only this subject's.")
        ] = None,
        academic_year: Annotated[
            int | None, strawberry.argument(description=ACADEMIC_YEAR_HELP)
        ] = None,
    ) -> list[Figures] | None:
        year = _academic_year(academic_year)
        reached = await self._reached(info)
        if reached is None or not reached.judgements:
            return None
        rows = await info.context.loaders.figures_of_pupil.load((self.id, subject_id, year))
        return [Figures.of(f) for f in charged(info, rows)]

    @strawberry.field(
        description="Every judgement recorded in one of the pupil's cells, newest first "
        "(clearings too). Null if you may not read their judgements."
    )
    async def judgements(
        self, info: strawberry.Info, objective_id: uuid.UUID
    ) -> list[Judgement] | None:
        reached = await self._reached(info)
        if reached is None or not reached.judgements:
            return None
        rows = await info.context.loaders.judgements_of_pupil.load((self.id, objective_id))
        return [Judgement.of(j) for j in charged(info, rows)]

    @strawberry.field(
        description="The pupil's current measure values, by point date, then measure. Null if "
        "you may not read their values."
    )
    async def values(
        self,
        info: strawberry.Info,
        point_id: Annotated[
            uuid.UUID | None,
            strawberry.argument(description="Only this assessment point's; omit for all."),
        ] = None,
    ) -> list[Value] | None:
        reached = await self._reached(info)
        if reached is None or not reached.values:
            return None
        rows = await info.context.loaders.values_of_pupil.load((self.id, point_id))
        return [Value.of(v) for v in charged(info, rows)]

    @strawberry.field(
        description="The pupil's page, as GET /v1/pupils/{id}/page gives it: per subject, "
        "strengths, next steps and what is not yet judged within the curriculum they work on, "
        "and their targets. Null if you may not read their judgements."
    )
    async def page(
        self,
        info: strawberry.Info,
        academic_year: Annotated[
            int | None, strawberry.argument(description=ACADEMIC_YEAR_HELP)
        ] = None,
    ) -> PupilPageType | None:
        year = _academic_year(academic_year)
        found = await info.context.loaders.page_of_pupil.load((self.id, year))
        if found is None:
            return None
        charged(info, found.subjects)
        return PupilPageType.of(found)

    @strawberry.field(
        description="The pupil's targets, as GET /v1/pupils/{id}/targets lists them: open ones "
        "by due date, then closed and achieved ones. Null if you may not read them."
    )
    async def targets(self, info: strawberry.Info) -> list[Target] | None:
        rows = await info.context.loaders.targets_of_pupil.load(self.id)
        return None if rows is None else [Target.of(t) for t in charged(info, rows)]


_ROSTER_FIELDS = (
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
    "sex",
    "pupil_premium",
    "fsm",
    "sen_status",
    "eal",
    "looked_after",
    "ethnicity",
    "left_on",
)


@strawberry.type(name="Class", description="A class (teaching group) of an academic year.")
class SchoolClass:
    id: uuid.UUID
    code: str
    name: str
    subject: str | None
    academic_year: int

    @strawberry.field(description="The class's pupils you reach (a teacher: those they teach).")
    async def pupils(
        self, info: strawberry.Info, first: First = 100, after: After = None
    ) -> Connection[Pupil]:
        rows = await info.context.loaders.pupils_of_class.load(self.id)
        return page(info, rows, first, after, Pupil.of)

    @classmethod
    def of(cls, row: TeachingGroup) -> SchoolClass:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            subject=row.subject,
            academic_year=row.academic_year,
        )


@strawberry.type(description="A date in a school's year that data is taken as at.")
class AssessmentPoint:
    id: uuid.UUID
    code: str
    name: str
    position: int
    assessed_on: date
    academic_year: int

    @classmethod
    def of(cls, row: PointRow) -> AssessmentPoint:
        return _view(cls, row)


@strawberry.type
class School:
    id: uuid.UUID
    name: str
    urn: str
    phase: Phase
    trust_id: uuid.UUID | None

    @strawberry.field(description="The school's assessment points, year by year.")
    async def assessment_points(
        self, info: strawberry.Info, academic_year: int | None = None
    ) -> list[AssessmentPoint]:
        rows = await info.context.loaders.points_of_school.load(self.id)
        chosen = [p for p in rows if academic_year is None or p.academic_year == academic_year]
        return [AssessmentPoint.of(p) for p in charged(info, chosen)]

    @strawberry.field(description="The school's subjects and its trust's, as you may read them.")
    async def subjects(self, info: strawberry.Info) -> list[Subject]:
        rows = await info.context.loaders.subjects_of_school.load((self.id, self.trust_id))
        return [_view(Subject, s) for s in charged(info, rows)]

    @strawberry.field(description="The school's scales and its trust's.")
    async def scales(self, info: strawberry.Info) -> list[Scale]:
        rows = await info.context.loaders.scales_of_school.load((self.id, self.trust_id))
        return [_view(Scale, s) for s in charged(info, rows)]

    @strawberry.field(description="The school's measures and its trust's.")
    async def measures(self, info: strawberry.Info) -> list[Measure]:
        rows = await info.context.loaders.measures_of_school.load((self.id, self.trust_id))
        return [_view(Measure, m) for m in charged(info, rows)]

    @strawberry.field(description="The school's classes, latest year first.")
    async def classes(
        self,
        info: strawberry.Info,
        academic_year: int | None = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[SchoolClass]:
        rows = await info.context.loaders.classes_of_school.load(self.id)
        chosen = [c for c in rows if academic_year is None or c.academic_year == academic_year]
        return page(info, chosen, first, after, SchoolClass.of)

    @strawberry.field(
        description="A report over the school's pupils you reach (governors: small groups "
        "suppressed, as in REST); null if you may run no reports here. The schools of a "
        "query asking with the same definition are run together, in one go."
    )
    async def report(
        self, info: strawberry.Info, definition: ReportDefinitionInput
    ) -> ReportTable | None:
        return await school_report(info, self.id, read(definition))

    @strawberry.field(
        description="The report templates the school may run (its own and its trust's) that "
        "you may read; null if you may read none here."
    )
    async def report_templates(self, info: strawberry.Info) -> list[ReportTemplate] | None:
        rows = await info.context.loaders.templates_of_school.load((self.id, self.trust_id))
        return (
            None
            if rows is None
            else [*map(ReportTemplate.listed(school_id=self.id), charged(info, rows))]
        )

    @classmethod
    def of(cls, row: SchoolRow) -> School:
        return cls(id=row.id, name=row.name, urn=row.urn, phase=row.phase, trust_id=row.trust_id)


@strawberry.type
class Trust:
    id: uuid.UUID
    name: str

    @strawberry.field(description="The trust's schools you may see.")
    async def schools(
        self, info: strawberry.Info, first: First = 100, after: After = None
    ) -> Connection[School]:
        rows = await info.context.loaders.schools_of_trust.load(self.id)
        return page(info, rows, first, after, School.of)

    @strawberry.field(
        description="A report across the trust's schools you may report on, from the pupils "
        "of all of them; null if you may run no reports here."
    )
    async def report(
        self, info: strawberry.Info, definition: ReportDefinitionInput
    ) -> ReportTable | None:
        return await trust_report(info, self.id, read(definition))

    @strawberry.field(
        description="The trust's own report templates (shared with its schools) that you may "
        "read, each run across the trust; null if you may read none here."
    )
    async def report_templates(self, info: strawberry.Info) -> list[ReportTemplate] | None:
        rows = await info.context.loaders.templates_of_trust.load(self.id)
        return (
            None
            if rows is None
            else [*map(ReportTemplate.listed(trust_id=self.id), charged(info, rows))]
        )

    @classmethod
    def of(cls, row: TrustRow) -> Trust:
        return cls(id=row.id, name=row.name)
