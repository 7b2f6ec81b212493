"""GraphQL types: views of the services' answers, separate from the tables."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from app.api.graphql.errors import known
from app.api.graphql.limits import charged
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
from app.errors import InvalidInput

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
    band: str | None
    colour: str | None
    position: int


@strawberry.type(description="A scale judgements or values are recorded on.")
class Scale:
    id: uuid.UUID
    name: str
    kind: str
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
    kind: str
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
    role: str
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None


@strawberry.type(description="The caller and what they may reach.")
class Me:
    kind: str
    id: uuid.UUID
    name: str
    email: str | None
    roles: list[Grant]
    scopes: list[str]
    trust_ids: list[uuid.UUID]
    school_ids: list[uuid.UUID]
    everything: bool


@strawberry.type(description="A pupil (only for those who reach the pupil).")
class Pupil:
    id: uuid.UUID
    upn: str | None
    legal_forename: str
    legal_surname: str
    preferred_forename: str | None
    preferred_surname: str | None
    date_of_birth: date
    sex: str | None
    pupil_premium: bool | None
    fsm: bool | None
    sen_status: str | None
    eal: bool | None
    looked_after: bool | None
    ethnicity: str | None
    left_on: date | None

    @classmethod
    def of(cls, row: PupilRow) -> Pupil:
        return _view(cls, row)


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
    phase: str
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
