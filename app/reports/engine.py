"""The report engine: a definition, the caller's reach and schools in; a table out.

``run_report`` resolves the definition against the schools (their points, subjects and
measures, by code, so one definition runs in every school of a trust), refuses what cannot run
(DefinitionError naming the field), aggregates in the database (app.db.queries.reports), and
builds the table with the domain's figures and suppression (app.domain.reports).

Access is the caller's business: pass the principal's ``Reach`` over pupils (a teacher's
reaches only the pupils they teach) and the schools the caller may report on, and
``suppress_below`` (None for viewers who may see small groups; else the threshold, at least
3). Trust figures are computed from the pupils of all the schools together, never as a mean of
school means.

``run_for_schools`` runs one definition for many schools at once (a trust's dashboard), each
school getting exactly the table ``run_report`` would give it alone, in the statements of one
report.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.db.queries import reports as queries
from app.domain.calendar import AcademicYear
from app.domain.colours import category_colours
from app.domain.pupils import YearGroup
from app.domain.reports import (
    CROSSED,
    MAX_MATRIX_PUPILS,
    MEASURE_METRICS,
    Category,
    DefinitionError,
    Dimension,
    FilterOp,
    KnownPoint,
    Metric,
    ReportDefinition,
    ReportTable,
    RowKey,
    Section,
    apply_suppression,
    build_matrix,
    build_section,
    check_size,
    check_threshold,
    dimension_label,
    group_values,
    parse_definition,
    plan_columns,
    resolve_point,
)

ALL_LABELS = {
    Dimension.SCHOOL: "All schools",
    Dimension.YEAR_GROUP: "All year groups",
    Dimension.CLASS: "All classes",
}
OUT_OF_YEAR_NOTE = (
    "Pupils working within an earlier year's curriculum are counted against the curriculum "
    "they work within; in attainment they are {how}."
)


@dataclasses.dataclass
class _Context:
    definition: ReportDefinition
    plan: queries.ReportPlan
    point_labels: list[str]
    points: list[dict[str, Any]]
    subjects: dict[str, tuple[str, int]]  # code -> (name, position)
    schools: dict[str, str]  # id -> name
    classes: dict[str, tuple[str, str]]  # id -> (code, name)
    measure_labels: dict[str, str]
    threshold: int | None
    colours: dict[str, str] = dataclasses.field(default_factory=dict)
    # The dimensions rolled up (all but subject), asked for every row.
    rolled: tuple[Dimension, ...] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.rolled = _rolled(self.definition)


def effective_threshold(suppress_below: int | None, definition: ReportDefinition) -> int | None:
    """The threshold the viewer gets: the caller's (for governors, the school's setting), or
    the definition's own if higher; None: nothing is hidden."""
    if suppress_below is not None:
        check_threshold(suppress_below)
    found = [t for t in (suppress_below, definition.suppress_below) if t is not None]
    return max(found) if found else None


async def run_report(
    session: AsyncSession,
    *,
    definition: ReportDefinition | Mapping[str, Any],
    reach: Reach,
    school_ids: Collection[uuid.UUID],
    suppress_below: int | None,
    today: date | None = None,
) -> ReportTable:
    """Run a report over the pupils within ``reach`` of ``school_ids`` (all of a trust's, for
    a trust report): the table of its figures, suppressed for viewers below the threshold."""
    context = await _prepare(
        session,
        definition=definition,
        reach=reach,
        school_ids=school_ids,
        suppress_below=suppress_below,
        today=today or date.today(),
    )
    return _table(context, *await _aggregate(session, context.plan))


@dataclasses.dataclass(frozen=True, slots=True)
class Total:
    """Ask a batch for the table of all its schools together too (a trust's report over
    them), for a viewer with this threshold."""

    suppress_below: int | None


@dataclasses.dataclass
class Batch:
    """One definition aggregated once over several schools (a trust's dashboard): each
    school's table, built on demand for its viewer's threshold, is exactly the one
    ``run_report`` gives that school alone; ``total`` (when asked) is the one ``run_report``
    gives for all the schools together."""

    definition: ReportDefinition
    # Per school: its context (threshold left out) and its own rows, or why it cannot run.
    found: dict[uuid.UUID, tuple[_Context, _Aggregates] | DefinitionError]
    total: ReportTable | DefinitionError | None = None

    def school(
        self, school_id: uuid.UUID, suppress_below: int | None
    ) -> ReportTable | DefinitionError:
        """The school's table for a viewer with this threshold (see ``run_report``)."""
        found = self.found[school_id]
        if isinstance(found, DefinitionError):
            return found
        context, (rows, matrices) = found
        try:
            threshold = effective_threshold(suppress_below, self.definition)
        except DefinitionError as exc:
            return exc
        return _table(dataclasses.replace(context, threshold=threshold), rows, matrices)


async def run_batch(
    session: AsyncSession,
    *,
    definition: ReportDefinition | Mapping[str, Any],
    reach: Reach,
    school_ids: Collection[uuid.UUID],
    total: Total | None = None,
    today: date | None = None,
) -> Batch:
    """Aggregate one definition for several schools at once, in as many statements as one
    report takes whatever the number of schools (see ``Batch``).

    The definition is resolved against each school on its own (its points, subjects and
    measures; what cannot run there is that school's DefinitionError, as it would be alone).
    The schools where it resolves alike are then aggregated together, once, with the school
    as an extra breakdown (the first, so that each school's rows are its own report's rows),
    and, when ``total`` asks for it, the rows of all of them together at every level of the
    other breakdowns (a trust report's rows), in the same statement. A definition read "as
    at" a date (one school's history) or already broken down by school runs school by
    school, and its total as a report of its own."""
    today = today or date.today()
    if not isinstance(definition, ReportDefinition):
        definition = parse_definition(definition)
    batch = Batch(definition, {})
    if not school_ids:
        return batch
    if total is not None:
        try:
            effective_threshold(total.suppress_below, definition)
        except DefinitionError as exc:
            batch.total = exc
            total = None
    lookups = await _load(session, definition, school_ids, today)
    contexts: dict[uuid.UUID, _Context] = {}
    for school_id in school_ids:
        try:
            contexts[school_id] = _resolve(
                definition, lookups.only(school_id), reach=reach, suppress_below=None, today=today
            )
        except DefinitionError as exc:
            batch.found[school_id] = exc
    alone = Dimension.SCHOOL in definition.dimensions or any(p.as_at for p in definition.points)
    alike: dict[Hashable, list[uuid.UUID]] = defaultdict(list)
    for school_id, context in contexts.items():
        alike[school_id if alone else _resolved_alike(context.plan)].append(school_id)
    # The total comes with the schools' rows when they all aggregate together.
    with_total = total is not None and not alone and len(alike) == 1 and not batch.found
    together_rows: _Aggregates | None = None
    for ids in alike.values():
        if len(ids) == 1 and not with_total:
            context = contexts[ids[0]]
            batch.found[ids[0]] = context, await _aggregate(session, context.plan)
            continue
        by_school = dataclasses.replace(
            definition, dimensions=(Dimension.SCHOOL, *definition.dimensions)
        )
        together = _resolve(
            by_school, lookups.only(*ids), reach=reach, suppress_below=None, today=today, size=False
        )
        plan = dataclasses.replace(together.plan, totals=with_total)
        rows, matrices = await _aggregate(session, plan)
        split, rest = _split(rows, matrices, ids)
        for school_id, own in split.items():
            batch.found[school_id] = contexts[school_id], own
        if with_total:
            together_rows = rest
    if total is not None:
        # All the schools as one report (what run_report gives them), from the lookups read.
        try:
            context = _resolve(
                definition, lookups, reach=reach, suppress_below=total.suppress_below, today=today
            )
            if together_rows is None:
                together_rows = await _aggregate(session, context.plan)
            batch.total = _table(context, *together_rows)
        except DefinitionError as exc:
            batch.total = exc
    return batch


async def run_for_schools(
    session: AsyncSession,
    *,
    definition: ReportDefinition | Mapping[str, Any],
    reach: Reach,
    suppress_below: Mapping[uuid.UUID, int | None],
    today: date | None = None,
) -> dict[uuid.UUID, ReportTable | DefinitionError]:
    """One report for each of several schools (``suppress_below``: school id -> its viewer's
    threshold), each exactly as ``run_report`` gives it for that school alone, in as many
    statements as one report takes (``run_batch``)."""
    batch = await run_batch(
        session, definition=definition, reach=reach, school_ids=list(suppress_below), today=today
    )
    return {school_id: batch.school(school_id, t) for school_id, t in suppress_below.items()}


def _resolved_alike(plan: queries.ReportPlan) -> Hashable:
    """What must be the same for schools to be aggregated in one statement and give each
    school what it would get alone: the definition as resolved (subjects by code), and which
    subjects each measure metric and rule has a measure for (the SQL matches a row's measure
    by its subject; which measure it is may differ from school to school)."""
    return (
        plan.definition,
        tuple(sorted((slot, frozenset(c.by_subject)) for slot, c in plan.measures.items())),
        tuple((r.subject, r.point, bool(r.measure_ids)) for r in plan.rules),
    )


_Aggregates = tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]


def _split(
    rows: Sequence[Mapping[str, Any]],
    matrices: Mapping[int, Sequence[Mapping[str, Any]]],
    school_ids: Sequence[uuid.UUID],
) -> tuple[dict[uuid.UUID, _Aggregates], _Aggregates]:
    """Rows aggregated with the school as the first rolled-up dimension, back as each
    school's own (its rows one level down: its "all" row was the school's row), and the rows
    of all the schools together (their levels are those of a report without the school)."""
    by_text = {str(school_id): school_id for school_id in school_ids}
    found: dict[uuid.UUID, _Aggregates] = {
        school_id: ([], {slot: [] for slot in matrices}) for school_id in school_ids
    }
    together: _Aggregates = ([], {slot: [] for slot in matrices})

    def place(row: Mapping[str, Any]) -> tuple[_Aggregates, dict[str, Any]]:
        if row["d_school"] is None:
            return together, dict(row)
        return found[by_text[str(row["d_school"])]], {**row, "level": int(row["level"]) - 1}

    for row in rows:
        into, own = place(row)
        into[0].append(own)
    for slot, matrix_rows in matrices.items():
        for row in matrix_rows:
            into, own = place(row)
            into[1][slot].append(own)
    return found, together


async def _aggregate(session: AsyncSession, plan: queries.ReportPlan) -> _Aggregates:
    """The plan's aggregates, and each progress matrix's counts (by metric slot)."""
    rows = await queries.aggregate(session, plan)
    matrices = {
        slot: [dict(row._mapping) for row in await queries.matrix(session, plan, slot)]
        for slot, spec in enumerate(plan.definition.metrics)
        if spec.metric is Metric.PROGRESS_MATRIX
    }
    return rows, matrices


def _table(
    context: _Context,
    rows: Sequence[Mapping[str, Any]],
    matrices: Mapping[int, Sequence[Mapping[str, Any]]],
) -> ReportTable:
    """The report's table from its aggregates: figures, progress matrices, suppression."""
    definition = context.definition
    aggregates, row_specs = _collect(context, rows)
    columns = plan_columns(definition, context.point_labels, context.measure_labels)
    section, disclosure = build_section(
        definition,
        columns,
        row_specs,
        aggregates,
        title=definition.title or "Report",
        disclose=context.threshold is not None,
    )
    sections: list[Section] = [section]
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is not Metric.PROGRESS_MATRIX:
            continue
        first, last = definition.progress_pair(spec)
        counts: dict[tuple[RowKey, str, str], int] = {}
        for row in matrices[slot]:
            counts[_row_key(context, row), row["before"], row["after"]] = int(row["n"])
        sections.append(
            build_matrix(
                dataclasses.replace(spec, from_point=first, to_point=last),
                slot,
                (context.point_labels[first], context.point_labels[last]),
                row_specs,
                counts,
                aggregates,
                disclosure,
            )
        )
    # One system: a matrix's sums are the table's attainment counts at its two points.
    apply_suppression(sections, disclosure, context.threshold)
    how = (
        "their own category, never counted as below"
        if definition.out_of_year.value == "own_category"
        else "placed by their category in the curriculum they work within (the school's choice)"
    )
    notes = [OUT_OF_YEAR_NOTE.format(how=how)]
    if context.threshold is not None:
        notes.append(
            f"c: suppressed: fewer than {context.threshold} pupils, or a figure from which such "
            "a count could be worked out."
        )
    return ReportTable(
        title=definition.title or "Report",
        sections=sections,
        suppress_below=context.threshold,
        points=context.points,
        notes=notes,
        colours=context.colours,
    )


async def matrix_cell_pupils(
    session: AsyncSession,
    *,
    definition: ReportDefinition | Mapping[str, Any],
    reach: Reach,
    school_ids: Collection[uuid.UUID],
    metric: int,
    keys: Mapping[str, str | None],
    from_category: str,
    to_category: str,
    today: date | None = None,
) -> list[uuid.UUID]:
    """The pupils behind one cell of a progress matrix: the row (its ``keys`` as the table
    gives them: each dimension's value or None for all, ``group`` and ``group_value``), the
    category at ``from`` and at ``to``. Whether the caller may see pupils is theirs to decide
    before calling."""
    context = await _prepare(
        session,
        definition=definition,
        reach=reach,
        school_ids=school_ids,
        suppress_below=None,
        today=today or date.today(),
    )
    definition = context.definition
    if not 0 <= metric < len(definition.metrics) or (
        definition.metrics[metric].metric is not Metric.PROGRESS_MATRIX
    ):
        raise DefinitionError("not a progress matrix of this report", field="metric")
    for name, value in (("from", from_category), ("to", to_category)):
        if value not in {c.value for c in Category}:
            raise DefinitionError(f"unknown category {value!r}", field=name)
    return await queries.matrix_pupils(
        session,
        context.plan,
        metric,
        key=_sql_key(definition, keys),
        before=from_category,
        after=to_category,
        limit=MAX_MATRIX_PUPILS,
    )


async def pupil_categories(
    session: AsyncSession,
    *,
    definition: ReportDefinition,
    reach: Reach,
    school_id: uuid.UUID,
    pupil_ids: Collection[uuid.UUID],
    today: date | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], Category]:
    """Where each of some pupils of one school stands in each subject with a rule, at the
    definition's first point, by its attainment rule: the category its report counts them in
    (a pupil's page says it in words). Pupils outside ``reach`` are left out; a definition that
    cannot run in the school is a DefinitionError, as for its report."""
    if not pupil_ids:
        return {}
    context = await _prepare(
        session,
        definition=definition,
        reach=reach,
        school_ids=[school_id],
        suppress_below=None,
        today=today or date.today(),
    )
    plan = dataclasses.replace(context.plan, pupil_ids=frozenset(pupil_ids))
    return {
        (row.pupil_id, row.subject_id): Category(row.category)
        for row in await queries.pupil_categories(session, plan)
    }


# --- Resolving a definition against the schools ---------------------------------------------
@dataclasses.dataclass
class _Lookups:
    """What a definition is resolved against for some schools, read in a few statements: the
    schools, their points of the year, the subjects and measures they use (by school), and
    their classes of the years the report reads (for a report by class)."""

    schools: list[Any]
    year: int
    points: dict[uuid.UUID, list[KnownPoint]]
    subjects: list[Any]
    measures: list[Any]
    classes: list[Any]
    # The measures' scales' descriptors that place pupils, and the attainment scales' band
    # colours (for charts): both shared by the schools read together.
    descriptors: list[Any] = dataclasses.field(default_factory=list)
    colours: dict[str, str] = dataclasses.field(default_factory=dict)

    def only(self, *school_ids: uuid.UUID) -> _Lookups:
        """The same, for some of the schools (each school's rows in the order read)."""
        ids = set(school_ids)
        if len(ids) == 1:  # school by school (a batch): from rows indexed once
            (school_id,) = ids
            return self._by_school.get(school_id) or self._keep(ids)
        return self._keep(ids)

    def _keep(self, ids: set[uuid.UUID]) -> _Lookups:
        return _Lookups(
            schools=[s for s in self.schools if s.id in ids],
            year=self.year,
            points={k: v for k, v in self.points.items() if k in ids},
            subjects=[r for r in self.subjects if r.school_id in ids],
            measures=[r for r in self.measures if r.school_id in ids],
            classes=[r for r in self.classes if r.school_id in ids],
            descriptors=self.descriptors,
            colours=self.colours,
        )

    @functools.cached_property
    def _by_school(self) -> dict[uuid.UUID, _Lookups]:
        """Each school's lookups, the rows gone through once (a batch of a hundred schools
        would otherwise go through every school's rows for each)."""
        found = {
            s.id: _Lookups([s], self.year, {}, [], [], [], self.descriptors, self.colours)
            for s in self.schools
        }
        for school_id, points in self.points.items():
            if school_id in found:
                found[school_id].points[school_id] = points
        for name in ("subjects", "measures", "classes"):
            for row in getattr(self, name):
                if row.school_id in found:
                    getattr(found[row.school_id], name).append(row)
        return found


async def _prepare(
    session: AsyncSession,
    *,
    definition: ReportDefinition | Mapping[str, Any],
    reach: Reach,
    school_ids: Collection[uuid.UUID],
    suppress_below: int | None,
    today: date,
) -> _Context:
    if not isinstance(definition, ReportDefinition):
        definition = parse_definition(definition)
    effective_threshold(suppress_below, definition)  # a bad threshold: refused before reading
    lookups = await _load(session, definition, school_ids, today)
    return _resolve(definition, lookups, reach=reach, suppress_below=suppress_below, today=today)


async def _load(
    session: AsyncSession,
    definition: ReportDefinition,
    school_ids: Collection[uuid.UUID],
    today: date,
) -> _Lookups:
    schools = await queries.school_rows(session, school_ids)
    if not schools:
        raise DefinitionError("no school to report on", field="school_ids")
    ids = tuple(s.id for s in schools)
    year = definition.academic_year or AcademicYear.containing(today).start_year
    known: dict[uuid.UUID, list[KnownPoint]] = defaultdict(list)
    for p in await queries.points_of(session, ids, year):
        known[p.school_id].append(
            KnownPoint(p.id, p.code, p.name, p.position, p.assessed_on, p.academic_year)
        )
    names = definition.measure_codes
    years = {year} | {
        AcademicYear.containing(p.as_at).start_year for p in definition.points if p.as_at
    }
    measures = await queries.measures_of(session, ids, names) if names else []
    ruled = {rule.measure for rule in definition.attainment if rule.measure}
    ruled_scales = {m.scale_id for m in measures if m.scale_id and {m.code, str(m.id)} & ruled}
    descriptors = await queries.banded_descriptors(
        session, {m.scale_id for m in measures if m.scale_id}
    )
    return _Lookups(
        schools=schools,
        year=year,
        points=known,
        subjects=await queries.subjects_of(session, ids),
        measures=measures,
        descriptors=descriptors,
        colours=category_colours(
            (r.band, r.value, r.colour) for r in descriptors if r.scale_id in ruled_scales
        ),
        # Classes label a report's class rows; without them none are read.
        classes=(
            await queries.class_rows(session, ids, years)
            if Dimension.CLASS in definition.dimensions
            else []
        ),
    )


def _resolve(
    definition: ReportDefinition,
    lookups: _Lookups,
    *,
    reach: Reach,
    suppress_below: int | None,
    today: date,
    size: bool = True,
) -> _Context:
    """The definition resolved against the schools (each school's own point for each
    column, subjects and measures by code), or a DefinitionError naming what cannot run
    there; ``size``: refuse a table over the cap."""
    threshold = effective_threshold(suppress_below, definition)
    if not lookups.schools:
        raise DefinitionError("no school to report on", field="school_ids")
    ids = tuple(s.id for s in lookups.schools)
    year = lookups.year

    # Points: each school's own point for each column.
    columns: list[queries.PointColumn] = []
    labels: list[str] = []
    points_json: list[dict[str, Any]] = []
    for index, spec in enumerate(definition.points):
        if spec.as_at is not None:
            if len(ids) != 1:
                raise DefinitionError(
                    "as at a date reads one school's history: run it for one school",
                    field=f"points.{index}",
                )
            columns.append(
                queries.PointColumn(
                    index,
                    AcademicYear.containing(spec.as_at).start_year,
                    as_at=spec.as_at,
                    school_id=ids[0],
                )
            )
            labels.append(spec.label)
            points_json.append({"index": index, "label": spec.label, "as_at": str(spec.as_at)})
            continue
        found = {
            school_id: resolve_point(
                spec, lookups.points.get(school_id, []), academic_year=year, today=today
            )
            for school_id in ids
        }
        resolved = {k: v for k, v in found.items() if v is not None}
        if not resolved:
            raise DefinitionError(
                f"unknown point {spec.label!r} in {AcademicYear(year).label}",
                field=f"points.{index}",
            )
        names = {p.name for p in resolved.values()}
        label = names.pop() if len(names) == 1 else spec.label
        labels.append(label)
        columns.append(
            queries.PointColumn(index, year, point_ids=tuple(p.id for p in resolved.values()))
        )
        points_json.append(
            {
                "index": index,
                "label": label,
                "academic_year": AcademicYear(year).label,
                "schools": [
                    {
                        "school_id": str(school_id),
                        "point_id": str(p.id),
                        "code": p.code,
                        "assessed_on": p.assessed_on.isoformat(),
                    }
                    for school_id, p in resolved.items()
                ],
            }
        )

    names = _names(definition, lookups.subjects, lookups.measures, ids)
    definition, subjects = names.definition, names.subjects

    needed: frozenset[str] | None = None
    subject_filter = [
        f for f in definition.filters if f.dimension == Dimension.SUBJECT and f.op is FilterOp.IN
    ]
    if subject_filter:
        needed = frozenset(subject_filter[0].values) | {
            s for spec in definition.metrics for s in spec.subjects
        }

    classes = {str(row.id): (row.code, row.name) for row in lookups.classes}
    year_filter = [f for f in definition.filters if f.dimension == Dimension.YEAR_GROUP]
    if size:
        check_size(
            definition,
            {
                Dimension.SUBJECT.value: len(needed or subjects),
                Dimension.SCHOOL.value: len(ids),
                Dimension.YEAR_GROUP.value: len(year_filter[0].values)
                if year_filter and year_filter[0].op is FilterOp.IN
                else len(YearGroup),
                Dimension.CLASS.value: len(classes) + 1,
            },
        )
    plan = queries.ReportPlan(
        definition=definition,
        reach=reach,
        school_ids=ids,
        columns=tuple(columns),
        subject_codes=needed,
        measures=names.measures,
        rules=tuple(names.rules),
        measure_schools=names.measure_schools,
        banding=_banding(lookups, names),
    )
    return _Context(
        definition=definition,
        plan=plan,
        point_labels=labels,
        points=points_json,
        subjects=subjects,
        schools={str(s.id): s.name for s in lookups.schools},
        classes=classes,
        measure_labels=names.measure_labels,
        threshold=threshold,
        colours=lookups.colours,
    )


def _banding(lookups: _Lookups, names: _Names) -> dict[uuid.UUID, queries.Banding]:
    """How each measure the plan reads places a value: a number measure's thresholds, or its
    scale's descriptors by band."""
    used = {i for c in names.measures.values() for ids in c.by_subject.values() for i in ids}
    used |= {i for rule in names.rules for i in rule.measure_ids}
    by_scale: dict[uuid.UUID, dict[str, set[uuid.UUID]]] = defaultdict(lambda: defaultdict(set))
    for row in lookups.descriptors:
        by_scale[row.scale_id][row.band].add(row.id)
    found: dict[uuid.UUID, queries.Banding] = {}
    for row in lookups.measures:
        if row.id not in used or row.id in found:
            continue
        if row.kind == "number":
            found[row.id] = queries.Banding(row.expected_from, row.above_from)
        elif row.kind == "scale" and row.scale_id is not None:
            bands = by_scale.get(row.scale_id, {})
            found[row.id] = queries.Banding(
                below=frozenset(bands.get("below", ())),
                at=frozenset(bands.get("at", ())),
                above=frozenset(bands.get("above", ())),
            )
    return found


@dataclasses.dataclass
class _Names:
    definition: ReportDefinition
    subjects: dict[str, tuple[str, int]]
    measure_labels: dict[str, str]
    measures: dict[int, queries.MeasureChoice]
    rules: list[queries.RuleChoice]
    measure_schools: dict[uuid.UUID, frozenset[uuid.UUID]]


async def check_names(
    session: AsyncSession,
    *,
    definition: ReportDefinition,
    school_ids: Collection[uuid.UUID],
) -> None:
    """Refuse (DefinitionError naming the field) a definition naming a subject or measure
    that none of the schools uses, or a measure that cannot give its figures: what a template
    is checked against when it is saved (its points are resolved only when it runs)."""
    if not school_ids:
        return
    ids = tuple(school_ids)
    names = definition.measure_codes
    _names(
        definition,
        await queries.subjects_of(session, ids),
        await queries.measures_of(session, ids, names) if names else [],
        ids,
    )


def _names(
    definition: ReportDefinition,
    subject_rows: Sequence[Any],
    measure_rows: Sequence[Any],
    ids: tuple[uuid.UUID, ...],
) -> _Names:
    """The definition's subjects and measures found among those the schools use
    (``subject_rows`` and ``measure_rows``: the lookups for ``ids``)."""
    # Subjects, by code (an id is read as its subject's code).
    subjects: dict[str, tuple[str, int]] = {}
    by_id: dict[str, str] = {}
    for row in subject_rows:
        subjects.setdefault(row.code, (row.name, row.position))
        by_id[str(row.id)] = row.code

    def subject(name: str, where: str) -> str:
        code = by_id.get(name, name)
        if code not in subjects:
            raise DefinitionError(f"no subject {name!r} in these schools", field=where)
        return code

    definition = _with_subject_codes(definition, subject)

    # Measures, by code or id: per school its own before its trust's.
    measure_labels: dict[str, str] = {}
    plan_measures: dict[int, queries.MeasureChoice] = {}
    # Per measure id, the schools it stands for (a school's own hides its trust's).
    stands_for: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for slot, spec in enumerate(definition.metrics):
        if spec.metric not in MEASURE_METRICS:
            continue
        by_subject: dict[str | None, set[uuid.UUID]] = defaultdict(set)
        codes_of_subject: dict[str | None, str] = {}
        for index, name in enumerate(spec.measures):
            where = f"metrics.{slot}.measures.{index}"
            chosen = _choose_measures(measure_rows, name, where, stands_for)
            for row in chosen:
                if row.kind not in ("number", "scale"):
                    raise DefinitionError(
                        f"{row.code} is a {row.kind} measure: only number and scale measures "
                        "have figures",
                        field=where,
                    )
                other = codes_of_subject.setdefault(row.subject_code, row.code)
                if other != row.code:
                    raise DefinitionError(
                        f"{other} and {row.code} are both measures of subject "
                        f"{row.subject_code}: one per subject",
                        field=where,
                    )
                by_subject[row.subject_code].add(row.id)
                measure_labels.setdefault(name, row.name)
        plan_measures[slot] = queries.MeasureChoice(
            {k: frozenset(v) for k, v in by_subject.items()}
        )
    rules: list[queries.RuleChoice] = []
    for index, rule in enumerate(definition.attainment):
        if rule.measure is None:
            rules.append(
                queries.RuleChoice(
                    rule.subject,
                    rule.point,
                    secured_at=rule.secured_at,
                    secured_above=rule.secured_above,
                )
            )
            continue
        where = f"attainment.{index}.measure"
        chosen = _choose_measures(measure_rows, rule.measure, where, stands_for)
        for row in chosen:
            if row.kind == "number" and row.expected_from is None:
                raise DefinitionError(
                    f"{row.code} has no expected threshold to place pupils by", field=where
                )
            if row.kind not in ("number", "scale"):
                raise DefinitionError(
                    f"{row.code} is a {row.kind} measure: use a scale or number measure",
                    field=where,
                )
        rules.append(
            queries.RuleChoice(
                rule.subject, rule.point, measure_ids=frozenset(r.id for r in chosen)
            )
        )
    # A trust's measure standing for only some of the schools counts only their pupils'
    # values.
    partial = {
        measure_id: frozenset(schools)
        for measure_id, schools in stands_for.items()
        if not schools >= set(ids)
    }
    return _Names(definition, subjects, measure_labels, plan_measures, rules, partial)


def _choose_measures(
    rows: Sequence[Any],
    name: str,
    where: str,
    stands_for: dict[uuid.UUID, set[uuid.UUID]],
) -> list[Any]:
    """The measure ``name`` (a code or an id) stands for in each school: the school's own
    before its trust's (as for every definition of the same code). Each one's schools are
    added to ``stands_for``: a pupil's values of a measure their school does not use under
    that name are not counted (a trust's measure: the schools with their own measure of the
    code count theirs instead)."""
    by_school: dict[uuid.UUID, Any] = {}
    for row in rows:
        if row.code != name and str(row.id) != name:
            continue
        held = by_school.get(row.school_id)
        if held is None or (held.owner_school_id is None and row.owner_school_id is not None):
            by_school[row.school_id] = row
    if not by_school:
        raise DefinitionError(f"no measure {name!r} in these schools", field=where)
    for school_id, row in by_school.items():
        # A school's own measure has values in that school only: nothing to check. (Checked
        # per school, a trust's 100 schools' own measures made a filter of 100 terms that
        # every pupil's row was tested against.)
        if row.owner_school_id is None:
            stands_for[row.id].add(school_id)
    return list({row.id: row for row in by_school.values()}.values())


def _with_subject_codes(definition: ReportDefinition, subject: Any) -> ReportDefinition:
    """The definition with every subject named by its code (checked to exist)."""
    metrics = tuple(
        dataclasses.replace(
            spec,
            subjects=tuple(
                subject(s, f"metrics.{slot}.subjects.{i}") for i, s in enumerate(spec.subjects)
            ),
        )
        for slot, spec in enumerate(definition.metrics)
    )
    rules = tuple(
        dataclasses.replace(rule, subject=subject(rule.subject, f"attainment.{i}.subject"))
        for i, rule in enumerate(definition.attainment)
    )
    filters = tuple(
        dataclasses.replace(
            f,
            values=tuple(subject(v, f"filters.{i}.values.{j}") for j, v in enumerate(f.values)),
        )
        if f.dimension == Dimension.SUBJECT
        else f
        for i, f in enumerate(definition.filters)
    )
    return dataclasses.replace(definition, metrics=metrics, attainment=rules, filters=filters)


# --- Rows ---------------------------------------------------------------------------------------
def _rolled(definition: ReportDefinition) -> tuple[Dimension, ...]:
    return tuple(d for d in definition.dimensions if d is not Dimension.SUBJECT)


def _row_key(context: _Context, found: Mapping[str, Any]) -> RowKey:
    rolled = context.rolled
    level = int(found["level"])
    crossed: list[str | None] = []
    for dim in context.definition.dimensions:
        if dim is Dimension.SUBJECT:
            crossed.append(found["d_subject"])
            continue
        if rolled.index(dim) >= level:
            crossed.append(None)
            continue
        value = found[f"d_{dim.value}"]
        crossed.append("none" if value is None else str(value))
    return RowKey(tuple(crossed), found["gdim"], found["gval"])


def _sql_key(definition: ReportDefinition, keys: Mapping[str, str | None]) -> list[Any]:
    """A table row's keys back as the SQL's row key (app.db.queries.reports.KEY_COLUMNS),
    without the point column."""
    rolled = _rolled(definition)
    level = 0
    for dim in rolled:
        if keys.get(dim.value) is None:
            break
        level += 1
    values: dict[str, Any] = {"level": level}
    for dim in CROSSED:
        raw = keys.get(dim.value)
        if dim is Dimension.SUBJECT:
            values["d_subject"] = raw
        elif dim in rolled and rolled.index(dim) < level and raw not in (None, "none"):
            values[f"d_{dim.value}"] = uuid.UUID(raw) if dim in _ID_DIMENSIONS else raw
        else:
            values[f"d_{dim.value}"] = None
    values["gdim"] = keys.get("group")
    values["gval"] = keys.get("group_value")
    if Dimension.SUBJECT not in definition.dimensions:
        only = [f for f in definition.filters if f.dimension == Dimension.SUBJECT]
        values["d_subject"] = only[0].values[0]
    return [values[name] for name in queries.KEY_COLUMNS if name != "col"]


_ID_DIMENSIONS = frozenset({Dimension.SCHOOL, Dimension.CLASS})


def _collect(
    context: _Context, rows: Sequence[Mapping[str, Any]]
) -> tuple[
    dict[tuple[RowKey, int], Mapping[str, Any]],
    list[tuple[RowKey, dict[str, str | None], dict[str, str]]],
]:
    aggregates: dict[tuple[RowKey, int], Mapping[str, Any]] = {}
    keys: set[RowKey] = set()
    for row in rows:
        key = _row_key(context, row)
        aggregates[key, int(row["col"])] = row
        keys.add(key)
    ordered = sorted(keys, key=lambda k: _order(context, k))
    return aggregates, [(key, *_describe(context, key)) for key in ordered]


def _order(context: _Context, key: RowKey) -> tuple[Any, ...]:
    definition = context.definition
    parts: list[Any] = []
    for dim, value in zip(definition.dimensions, key.crossed, strict=True):
        if value is None:
            parts.append((1, 0, ""))
        elif dim is Dimension.SUBJECT:
            position = context.subjects.get(value, (value, 0))[1]
            parts.append((0, position, value))
        elif dim is Dimension.YEAR_GROUP:
            parts.append((0, YearGroup(value).rank, value))
        elif dim is Dimension.SCHOOL:
            parts.append((0, 0, context.schools.get(value, value)))
        else:
            parts.append((0, 1 if value == "none" else 0, context.classes.get(value, (value,))[0]))
    if key.group is None:
        parts.append((0, 0, ""))
    else:
        values = [code for code, _ in group_values(key.group)]
        parts.append(
            (
                1 + definition.groups.index(key.group),
                values.index(key.group_value) if key.group_value in values else 99,
                "",
            )
        )
    return tuple(parts)


def _describe(context: _Context, key: RowKey) -> tuple[dict[str, str | None], dict[str, str]]:
    definition = context.definition
    keys: dict[str, str | None] = {}
    labels: dict[str, str] = {}
    for dim, value in zip(definition.dimensions, key.crossed, strict=True):
        keys[dim.value] = value
        if value is None:
            labels[dim.value] = ALL_LABELS.get(dim, "All")
        elif dim is Dimension.SUBJECT:
            labels[dim.value] = context.subjects.get(value, (value, 0))[0]
        elif dim is Dimension.YEAR_GROUP:
            labels[dim.value] = dict(group_values(Dimension.YEAR_GROUP))[value]
        elif dim is Dimension.SCHOOL:
            labels[dim.value] = context.schools.get(value, value)
        else:
            labels[dim.value] = (
                "No class" if value == "none" else context.classes.get(value, (value,))[0]
            )
    keys["group"] = key.group
    keys["group_value"] = key.group_value
    if key.group is None:
        labels["group"] = "All pupils"
    else:
        value_label = dict(group_values(key.group)).get(key.group_value or "", key.group_value)
        labels["group"] = f"{dimension_label(key.group)}: {value_label}"
    return keys, labels
