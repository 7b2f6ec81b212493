"""GraphQL's reports: the definition as a typed input, the table as a typed answer, and report
templates with their versions, each runnable for the school or trust they are listed under.

The input mirrors the definition REST takes (app/domain/reports.py says what each part means)
and becomes exactly that definition, read by the same ``parse_definition``; its closed sets are
GraphQL enums made from the domain's own enums, so a name added there appears here. A
definition that cannot run is a BAD_INPUT error naming the field in GraphQL's terms
(``definition.metrics[0].measures``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types.arguments import InputContext

from app.api.graphql.errors import known
from app.api.graphql.limits import charged
from app.db.reports import ReportTemplate as TemplateRow
from app.db.reports import ReportTemplateVersion as VersionRow
from app.domain import reports as domain
from app.domain.reports import ReportDefinition
from app.errors import AppError, InvalidInput, NotFound
from app.reports.charts import chart_specs
from app.services import reports


def _enum(source: Iterable[Enum], name: str, description: str) -> Any:
    """A GraphQL enum of the domain's names (PERCENT_AT_OR_ABOVE for percent_at_or_above),
    each standing for the domain's value."""
    return strawberry.enum(
        Enum(name, {member.name: member.value for member in source}),  # type: ignore[misc]
        description=description,
    )


ReportMetric = _enum(
    domain.Metric, "ReportMetric", "A report's figure (the README's Reports section says each)."
)
ReportDimension = _enum(
    domain.Dimension,
    "ReportDimension",
    "What a report breaks pupils down by: rows crossed by SUBJECT, YEAR_GROUP, CLASS, SCHOOL; "
    "key groups listed under each row.",
)
ReportFilterOp = _enum(domain.FilterOp, "ReportFilterOp", "Keep the values named, or the rest.")
ReportPointAt = _enum(
    domain.RelativePoint,
    "ReportPointAt",
    "A point by its place in the academic year: the first, middle or last, or the latest "
    "dated on or before today.",
)
ReportOutOfYear = _enum(
    domain.OutOfYear,
    "ReportOutOfYear",
    "Pupils working within an earlier year's curriculum: their own category (never below), "
    "or placed by their category in the curriculum they work within.",
)


# --- The definition ---------------------------------------------------------------------------
def _present(**values: Any) -> dict[str, Any]:
    """The values given (a definition leaves out what it does not set)."""
    return {name: value for name, value in values.items() if value is not None}


@strawberry.input(description="A figure: a column per point (a progress figure: one).")
class ReportMetricInput:
    metric: ReportMetric  # type: ignore[valid-type]
    measures: list[str] | None = strawberry.field(
        default=None,
        description="Measure figures: the measures by code or id, one per subject.",
    )
    subjects: list[str] | None = strawberry.field(
        default=None, description="COMBINED_AT_OR_ABOVE: the subjects, by code."
    )
    from_: int | None = strawberry.field(
        default=None, name="from", description="Progress: the point compared from (index)."
    )
    to: int | None = strawberry.field(
        default=None, description="Progress: the point compared to (index)."
    )
    label: str | None = None
    decimals: int | None = None

    def raw(self) -> dict[str, Any]:
        return _present(
            metric=self.metric.value,
            measures=self.measures,
            subjects=self.subjects,
            label=self.label,
            decimals=self.decimals,
            **{"from": self.from_, "to": self.to},
        )


@strawberry.input(
    description="A column's point, one of: its code, its place in the academic year, or a date "
    "(one school, read from the markbook's history)."
)
class ReportPointInput:
    code: str | None = None
    at: ReportPointAt | None = None  # type: ignore[valid-type]
    as_at: date | None = None

    def raw(self) -> dict[str, Any]:
        return _present(
            code=self.code,
            at=self.at and self.at.value,
            as_at=self.as_at and self.as_at.isoformat(),
        )


@strawberry.input(description="Keep only the pupils whose value is (or is not) one of these.")
class ReportFilterInput:
    values: list[str]
    dimension: ReportDimension | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="What to filter on; or customGroup."
    )
    custom_group: str | None = strawberry.field(
        default=None, description="A custom group's name, instead of dimension."
    )
    op: ReportFilterOp = ReportFilterOp.IN  # type: ignore[valid-type]

    def raw(self) -> dict[str, Any]:
        if self.dimension is not None:
            dimension = self.dimension.value
        else:
            dimension = domain.CUSTOM_GROUP_PREFIX + (self.custom_group or "")
        return {"dimension": dimension, "op": self.op.value, "values": self.values}


@strawberry.input(description="% of the year's curriculum secured from which a pupil is at.")
class SecuredThresholdsInput:
    at: float
    above: float | None = None


@strawberry.input(
    description="A subject's rule for below / at / above: a measure (a scale's descriptor "
    "bands, a number's expected/above thresholds) or % secured thresholds."
)
class AttainmentRuleInput:
    subject: str
    measure: str | None = None
    secured: SecuredThresholdsInput | None = None
    point: int | None = strawberry.field(
        default=None, description="Only at this point (index); else at every point."
    )

    def raw(self) -> dict[str, Any]:
        secured = self.secured and _present(at=self.secured.at, above=self.secured.above)
        return _present(
            subject=self.subject, measure=self.measure, secured=secured, point=self.point
        )


@strawberry.input(
    description="A report definition, as POST /v1/schools/{id}/reports takes it: figures "
    "(metrics), rows (dimensions, then key groups under each), columns (points), filters and "
    "each subject's attainment rule."
)
class ReportDefinitionInput:
    metrics: list[ReportMetricInput]
    points: list[ReportPointInput]
    dimensions: list[ReportDimension] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Rows, crossed: SUBJECT, YEAR_GROUP, CLASS, SCHOOL."
    )
    groups: list[ReportDimension] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="Key groups listed under each row, beside its all pupils.",
    )
    custom_groups: list[str] = strawberry.field(
        default_factory=list, description="Custom groups (by name), after the key groups."
    )
    filters: list[ReportFilterInput] = strawberry.field(default_factory=list)
    attainment: list[AttainmentRuleInput] = strawberry.field(default_factory=list)
    academic_year: int | None = strawberry.field(
        default=None, description="Start year (2025: 2025/26); default: this academic year."
    )
    out_of_year: ReportOutOfYear | None = None  # type: ignore[valid-type]
    suppress_below: int | None = strawberry.field(
        default=None, description="Hide counts under this (at least 3) from every viewer."
    )
    title: str | None = None

    def raw(self) -> dict[str, Any]:
        """The definition as REST takes it."""
        groups = [g.value for g in self.groups]
        groups += [domain.CUSTOM_GROUP_PREFIX + name for name in self.custom_groups]
        return _present(
            title=self.title,
            metrics=[m.raw() for m in self.metrics],
            dimensions=[d.value for d in self.dimensions],
            groups=groups,
            points=[p.raw() for p in self.points],
            filters=[f.raw() for f in self.filters],
            attainment=[r.raw() for r in self.attainment],
            academic_year=self.academic_year,
            out_of_year=self.out_of_year.value if self.out_of_year else None,
            suppress_below=self.suppress_below,
        )

    def field(self, path: str) -> str:
        """A field of the definition as REST names it (``groups.3``, ``filters.0.dimension``)
        as this input names it (``customGroups[1]``, ``filters[0].customGroup``)."""
        parts = path.split(".")
        if parts[:1] == ["groups"] and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            if index >= len(self.groups):
                parts[:2] = ["custom_groups", str(index - len(self.groups))]
        if len(parts) > 2 and parts[0] == "filters" and parts[1].isdigit():
            chosen = self.filters[int(parts[1])] if int(parts[1]) < len(self.filters) else None
            if parts[2] == "dimension" and chosen is not None and chosen.custom_group is not None:
                parts[2] = "custom_group"
        return graphql_field(".".join(parts))


def _definition_once(
    cls: type[ReportDefinitionInput], value: Mapping[str, Any], context: InputContext
) -> ReportDefinitionInput:
    """Build a definition input once per request for each value: graphql-core gives every
    field the same value of a variable, so the hundred ``School.report`` fields of a dashboard
    would each convert it again (about a millisecond each). Built as Strawberry builds inputs,
    each field by ``InputContext.convert``."""
    memo = None if context.info is None else getattr(context.info.context, "converted_inputs", None)
    if memo is not None and (found := memo.get(id(value))) is not None and found[0] is value:
        return found[1]  # type: ignore[no-any-return]
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    fields: dict[str, Any] = {
        f.python_name: None
        for f in definition.fields
        if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    for f in definition.fields:
        name = context.config.name_converter.from_field(f)
        if name in value:
            kind = f.resolve_type(type_definition=definition)
            fields[f.python_name] = context.convert(value[name], kind, name)
    built = cls(**fields)
    if memo is not None:
        memo[id(value)] = (value, built)  # the value kept, so that its id is not reused
    return built


ReportDefinitionInput.__strawberry_definition__.from_input = _definition_once  # type: ignore[attr-defined]

_CAMEL = re.compile(r"_([a-z])")


def graphql_field(path: str) -> str:
    """A field path as REST and the domain write it (``metrics.0.measures``,
    ``suppress_below``) as GraphQL does (``metrics[0].measures``, ``suppressBelow``)."""
    found = ""
    for part in path.split("."):
        if part.isdigit():
            found += f"[{part}]"
        else:
            found += ("." if found else "") + _CAMEL.sub(lambda m: m.group(1).upper(), part)
    return found


def bad_definition(
    exc: AppError, where: str = "definition", given: ReportDefinitionInput | None = None
) -> GraphQLError:
    """A refusal as a GraphQL error; a definition's field named as the input names it."""
    if isinstance(exc, InvalidInput) and exc.errors:
        field, reason = exc.errors[0]["field"], exc.errors[0]["reason"]
        if field.startswith(f"{where}."):
            inner = field.removeprefix(f"{where}.")
            named = given.field(inner) if given is not None else graphql_field(inner)
            field = f"{where}.{named}"
        else:
            field = graphql_field(field)
        exc = InvalidInput.at(field, reason)
    return known(exc)


def read(given: ReportDefinitionInput) -> ReportDefinition:
    """The input as the domain's definition, or a BAD_INPUT error naming the field."""
    filters = given.filters
    for index, chosen in enumerate(filters):
        if (chosen.dimension is None) == (chosen.custom_group is None):
            raise known(
                InvalidInput.at(
                    f"definition.filters[{index}].dimension", "give dimension or customGroup (one)"
                )
            )
    try:
        return reports.read_definition(given.raw(), "definition")
    except AppError as exc:
        raise bad_definition(exc, given=given) from exc


# --- The table --------------------------------------------------------------------------------
@strawberry.type(description="A figure: value null where there is none, or it is suppressed.")
class ReportCell:
    value: float | None
    n: int | None = strawberry.field(description="Pupils counted in the figure.")
    suppressed: bool


@strawberry.type(description="A column: a figure at a point (a distribution: one per category).")
class ReportColumn:
    key: str
    label: str
    unit: str
    decimals: int
    metric: ReportMetric  # type: ignore[valid-type]
    point: int = strawberry.field(description="The point's index (progress: its `to` point).")
    category: str | None = strawberry.field(
        description="A distribution's category or movement (below, at, ..., up, same, ...)."
    )


@strawberry.type(description="What a row is: a dimension's value (null: all) and its label.")
class ReportRowKey:
    dimension: str = strawberry.field(
        description="subject, year_group, class, school, group, group_value; in a progress "
        "matrix also from (the category at its first point)."
    )
    value: str | None
    label: str | None


@strawberry.type
class ReportRow:
    keys: list[ReportRowKey]
    cells: list[ReportCell] = strawberry.field(description="One per column, in their order.")


@strawberry.type(description="The main table, or a progress matrix.")
class ReportSection:
    name: str
    title: str
    columns: list[ReportColumn]
    rows: list[ReportRow]


@strawberry.type(description="Which assessment point a column means in a school.")
class ReportPointSchool:
    school_id: uuid.UUID
    point_id: uuid.UUID
    code: str
    assessed_on: date


@strawberry.type(description="A column's point: an assessment point in each school, or a date.")
class ReportPoint:
    index: int
    label: str
    academic_year: str | None
    as_at: date | None
    schools: list[ReportPointSchool]


@strawberry.type(description="A report: its sections, each of columns and rows of cells.")
class ReportTable:
    title: str
    suppress_below: int | None = strawberry.field(
        description="Counts of 1 up to this minus one are hidden (null: nothing hidden)."
    )
    points: list[ReportPoint]
    sections: list[ReportSection]
    notes: list[str] = strawberry.field(description="What the figures count; the key to c.")
    table: strawberry.Private[domain.ReportTable]

    @strawberry.field(
        description="The report's natural pictures as Vega-Lite specifications (as REST's "
        "`charts=true`): render them with vega-embed. Suppressed figures stay suppressed."
    )
    def charts(self) -> list[JSON]:
        return chart_specs(self.table)

    @classmethod
    def charged(cls, info: strawberry.Info, table: domain.ReportTable) -> ReportTable:
        """The table, once its rows are counted against the query's row budget (as a list's
        items are)."""
        info.context.rows.charge(info, sum(len(section.rows) for section in table.sections))
        return cls(
            title=table.title,
            suppress_below=table.suppress_below,
            points=[_point(p) for p in table.points],
            sections=[_section(s) for s in table.sections],
            notes=list(table.notes),
            table=table,
        )


def _point(point: dict[str, Any]) -> ReportPoint:
    return ReportPoint(
        index=point["index"],
        label=point["label"],
        academic_year=point.get("academic_year"),
        as_at=date.fromisoformat(point["as_at"]) if "as_at" in point else None,
        schools=[
            ReportPointSchool(
                school_id=uuid.UUID(s["school_id"]),
                point_id=uuid.UUID(s["point_id"]),
                code=s["code"],
                assessed_on=date.fromisoformat(s["assessed_on"]),
            )
            for s in point.get("schools", [])
        ],
    )


def _section(section: domain.Section) -> ReportSection:
    return ReportSection(
        name=section.name,
        title=section.title,
        columns=[
            ReportColumn(
                key=c.key,
                label=c.label,
                unit=c.unit,
                decimals=c.decimals,
                metric=ReportMetric(c.metric.value),
                point=c.point,
                category=c.part,
            )
            for c in section.columns
        ],
        rows=[
            ReportRow(
                keys=[
                    ReportRowKey(dimension=name, value=value, label=row.labels.get(name))
                    for name, value in row.keys.items()
                ],
                cells=[
                    ReportCell(value=c.value, n=c.n, suppressed=c.suppressed) for c in row.cells
                ],
            )
            for row in section.rows
        ],
    )


async def school_report(
    info: strawberry.Info, school_id: uuid.UUID, definition: ReportDefinition
) -> ReportTable | None:
    """One school's report, through the request's loader: every school asked for with the
    same definition in this query runs in the one batch (a trust's dashboard)."""
    try:
        table = await info.context.loaders.report_of_school.load((school_id, definition))
    except AppError as exc:
        raise bad_definition(exc) from exc
    return None if table is None else ReportTable.charged(info, table)


async def trust_report(
    info: strawberry.Info, trust_id: uuid.UUID, raw: dict[str, Any] | ReportDefinition
) -> ReportTable | None:
    """A trust's report from the pupils of all its schools the caller may report on; null
    where they may run no reports there. Aggregated with its schools' own reports, which the
    same query's ``School.report`` fields take from it (a trust's dashboard)."""
    try:
        definition = (
            raw if isinstance(raw, ReportDefinition) else reports.read_definition(raw, "definition")
        )
        batch = await info.context.loaders.trust_batches.of(trust_id, definition)
        table = reports.trust_table(batch)
    except NotFound:
        return None
    except AppError as exc:
        raise bad_definition(exc) from exc
    return ReportTable.charged(info, table)


# --- Templates --------------------------------------------------------------------------------
@strawberry.type(description="A template's definition as it was saved, version by version.")
class ReportTemplateVersion:
    version: int
    name: str
    definition: JSON = strawberry.field(description="As REST's report definition reads.")
    saved_at: datetime
    saved_by: uuid.UUID | None

    @classmethod
    def of(cls, row: VersionRow) -> ReportTemplateVersion:
        return cls(
            version=row.version,
            name=row.name,
            definition=row.definition,
            saved_at=row.saved_at,
            saved_by=row.saved_by,
        )


@strawberry.type(
    description="A stored, versioned report definition of a school or of a trust (shared with "
    "its schools), runnable for the school or trust it is listed under."
)
class ReportTemplate:
    id: uuid.UUID
    code: str
    name: str
    description: str | None
    version: int = strawberry.field(description="Its current version.")
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None
    updated_at: datetime
    definition: JSON = strawberry.field(description="Its current definition, as REST's reads.")
    # Where it runs: the school, or else the trust, it was listed under.
    runs_in_school: strawberry.Private[uuid.UUID | None]
    runs_in_trust: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Every version, oldest first.")
    async def versions(self, info: strawberry.Info) -> list[ReportTemplateVersion]:
        rows = await info.context.loaders.versions_of_template.load(self.id)
        return [ReportTemplateVersion.of(v) for v in charged(info, rows)]

    @strawberry.field(
        description="The report for the school (or trust) it is listed under: its current "
        "version, or `version`; null where you may run no reports there."
    )
    async def run(self, info: strawberry.Info, version: int | None = None) -> ReportTable | None:
        raw = self.definition
        if version is not None and version != self.version:
            stored = await info.context.loaders.versions_of_template.load(self.id)
            found = next((v for v in stored if v.version == version), None)
            if found is None:
                missing = NotFound(f"version {version} of this report template not found")
                raise known(missing)
            raw = found.definition
        if self.runs_in_trust is not None:
            return await trust_report(info, self.runs_in_trust, raw)
        assert self.runs_in_school is not None
        try:
            definition = reports.read_definition(raw, "definition")
        except AppError as exc:
            raise bad_definition(exc) from exc
        return await school_report(info, self.runs_in_school, definition)

    @classmethod
    def listed(
        cls, *, school_id: uuid.UUID | None = None, trust_id: uuid.UUID | None = None
    ) -> Callable[[TemplateRow], ReportTemplate]:
        """A view of template rows listed under a school or a trust."""

        def view(row: TemplateRow) -> ReportTemplate:
            return cls(
                id=row.id,
                code=row.code,
                name=row.name,
                description=row.description,
                version=row.version,
                trust_id=row.trust_id,
                school_id=row.school_id,
                updated_at=row.updated_at,
                definition=row.definition,
                runs_in_school=school_id,
                runs_in_trust=trust_id,
            )

        return view
