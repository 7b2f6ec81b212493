"""The report engine's SQL: one definition, a few set-based statements, whatever the rows.

The statement is built in layers of common table expressions:

- ``point_map``: each point column and, per school, the assessment point it means (or the
  date an "as at" column reads the history as at);
- ``facts``: one row per pupil on roll x subject x point column, with the pupil's figures
  (from the maintained summaries, or from the history for "as at"), working year, attainment
  category, measure values, and what progress needs from the earlier point (window functions
  over the pupil's own rows, so no self-join);
- the rows: a UNION ALL of one SELECT per level of the crossed dimensions (each dimension
  after the subject is also rolled up into an "All" row) x key group breakdown, each
  labelling its rows; SQLite has no GROUPING SETS, and this runs the same on both;
- one GROUP BY over them all.

Medians are the one dialect seam: ``percentile_cont`` on PostgreSQL, on SQLite a second
statement that picks the middle values with window functions.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.engine import tune_for_reports
from app.db.markbook import (
    JudgementSummary,
    MeasureValue,
    ObjectiveJudgement,
    WorkingYear,
    WorkingYearHistory,
)
from app.db.queries.judgements import standing_rank
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import pupils_within
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import (
    ClassPupil,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    TeachingGroup,
)
from app.db.tenancy import AssessmentPoint, School
from app.domain.curriculum import FIRST_YEAR, LAST_YEAR
from app.domain.pupils import YearGroup
from app.domain.reports import (
    BOOLEAN_GROUPS,
    CUSTOM_GROUP_PREFIX,
    ETHNIC_MAJOR_GROUPS,
    IN_GROUP,
    NO,
    NOT_IN_GROUP,
    UNKNOWN,
    YES,
    Category,
    Dimension,
    FilterOp,
    Metric,
    Movement,
    OutOfYear,
    ReportDefinition,
    aggregate_names,
    band_from_descriptor,
    working_year_of,
)

PUPIL = Pupil.__table__  # type: ignore[attr-defined]
ENROLMENT = Enrolment.__table__  # type: ignore[attr-defined]
SUMMARY = JudgementSummary.__table__  # type: ignore[attr-defined]
HISTORY = ObjectiveJudgement.__table__  # type: ignore[attr-defined]
WORKING_YEAR = WorkingYear.__table__  # type: ignore[attr-defined]
WORKING_YEAR_HISTORY = WorkingYearHistory.__table__  # type: ignore[attr-defined]
VALUE = MeasureValue.__table__  # type: ignore[attr-defined]
MEASURE = Measure.__table__  # type: ignore[attr-defined]
DESCRIPTOR = Descriptor.__table__  # type: ignore[attr-defined]
SCALE = Scale.__table__  # type: ignore[attr-defined]
OBJECTIVE = Objective.__table__  # type: ignore[attr-defined]
FRAMEWORK = Framework.__table__  # type: ignore[attr-defined]
SUBJECT = Subject.__table__  # type: ignore[attr-defined]
SCHOOL = School.__table__  # type: ignore[attr-defined]
POINT = AssessmentPoint.__table__  # type: ignore[attr-defined]
CLASS_PUPIL = ClassPupil.__table__  # type: ignore[attr-defined]
CLASS = TeachingGroup.__table__  # type: ignore[attr-defined]
GROUP = PupilGroup.__table__  # type: ignore[attr-defined]
MEMBER = PupilGroupMember.__table__  # type: ignore[attr-defined]

KEY_COLUMNS = ("level", "d_subject", "d_school", "d_year_group", "d_class", "gdim", "gval", "col")


# --- What the service resolved --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PointColumn:
    """A point column: per school the assessment point it means (``point_ids``), or the date
    one school's history is read as at (``as_at``, with that school in ``school_id``)."""

    index: int
    academic_year: int
    point_ids: tuple[uuid.UUID, ...] = ()
    as_at: date | None = None
    school_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class MeasureChoice:
    """A metric's (or a rule's) measures: by subject code, the ids standing for it in the
    schools (a school's own before its trust's); ``None`` serves subjects with none."""

    by_subject: Mapping[str | None, frozenset[uuid.UUID]]


@dataclass(frozen=True, slots=True)
class Banding:
    """What places a measure's values below, at or above, resolved before the statement is
    built: a number measure's thresholds, or a scale measure's descriptors by band."""

    expected_from: Decimal | None = None
    above_from: Decimal | None = None
    below: frozenset[uuid.UUID] = frozenset()
    at: frozenset[uuid.UUID] = frozenset()
    above: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True, slots=True)
class RuleChoice:
    subject: str
    point: int | None
    measure_ids: frozenset[uuid.UUID] = frozenset()
    secured_at: Decimal | None = None
    secured_above: Decimal | None = None


@dataclass
class ReportPlan:
    definition: ReportDefinition
    reach: Reach
    school_ids: tuple[uuid.UUID, ...]
    columns: tuple[PointColumn, ...]
    subject_codes: frozenset[str] | None  # None: every subject of the schools
    measures: dict[int, MeasureChoice] = field(default_factory=dict)  # by metric slot
    rules: tuple[RuleChoice, ...] = ()
    # Measures that stand for their code in only some of the schools (a school's own measure
    # hides its trust's of the same code there): measure id -> those schools.
    measure_schools: Mapping[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    # How each measure of the plan places a value (measure id -> its banding).
    banding: Mapping[uuid.UUID, Banding] = field(default_factory=dict)
    # With the school as the first breakdown: also the rows of all the schools together, at
    # every level of the other breakdowns (a trust's rows beside its schools', in one go).
    totals: bool = False
    # Only these pupils (a pupil's page places one pupil, not a school's): None, every pupil.
    pupil_ids: frozenset[uuid.UUID] | None = None

    @functools.cached_property
    def key(self) -> Hashable:
        """Every field, hashable: plans with equal keys build the same statements."""
        return tuple(_frozen(getattr(self, f.name)) for f in fields(self))


def _frozen(value: Any) -> Hashable:
    if isinstance(value, MeasureChoice):
        return _frozen(value.by_subject)
    if isinstance(value, Mapping):
        return frozenset((k, _frozen(v)) for k, v in value.items())
    return value


def levels(plan: ReportPlan) -> list[tuple[int, frozenset[Dimension]]]:
    """The rollup levels of the rows: (level, the breakdowns kept). Level n keeps the first n
    rolled-up breakdowns (the subject is never rolled up), down to 0, all pupils. With
    ``totals``, the rows of all the schools together follow, labelled with the levels they
    have without the school (their 0 is the school-first rollup's 0, shared)."""
    rolled = [d for d in plan.definition.dimensions if d is not Dimension.SUBJECT]
    found = [(level, frozenset(rolled[:level])) for level in range(len(rolled), -1, -1)]
    if plan.totals:
        if rolled[:1] != [Dimension.SCHOOL]:
            raise ValueError("totals need the school as the first breakdown")
        rest = rolled[1:]
        found += [(level, frozenset(rest[:level])) for level in range(len(rest), 0, -1)]
    return found


# --- Lookups the service resolves a definition with -------------------------------------------
async def school_rows(session: AsyncSession, school_ids: Collection[uuid.UUID]) -> list[Any]:
    rows = await session.execute(
        sa.select(SCHOOL.c.id, SCHOOL.c.name, SCHOOL.c.urn, SCHOOL.c.trust_id)
        .where(SCHOOL.c.id.in_(list(school_ids)))
        .order_by(SCHOOL.c.name, SCHOOL.c.id)
    )
    return list(rows)


async def points_of(
    session: AsyncSession, school_ids: Collection[uuid.UUID], academic_year: int
) -> list[Any]:
    rows = await session.execute(
        sa.select(
            POINT.c.id,
            POINT.c.school_id,
            POINT.c.code,
            POINT.c.name,
            POINT.c.position,
            POINT.c.assessed_on,
            POINT.c.academic_year,
        ).where(POINT.c.school_id.in_(list(school_ids)), POINT.c.academic_year == academic_year)
    )
    return list(rows)


def _owner_of(table: sa.Table) -> sa.ColumnElement[bool]:
    """Rows of ``table`` owned by the joined school or by its trust."""
    return sa.or_(
        table.c.school_id == SCHOOL.c.id,
        sa.and_(table.c.trust_id.is_not(None), table.c.trust_id == SCHOOL.c.trust_id),
    )


async def subjects_of(session: AsyncSession, school_ids: Collection[uuid.UUID]) -> list[Any]:
    """The subjects each school uses (its own and its trust's), with their code, name and
    position; a school's own subject hides its trust's of the same code."""
    own = SUBJECT.alias("own")
    shadowed = sa.exists().where(own.c.school_id == SCHOOL.c.id, own.c.code == SUBJECT.c.code)
    rows = await session.execute(
        sa.select(
            SCHOOL.c.id.label("school_id"),
            SUBJECT.c.id,
            SUBJECT.c.code,
            SUBJECT.c.name,
            SUBJECT.c.position,
        )
        .join(SUBJECT, _owner_of(SUBJECT))
        .where(
            SCHOOL.c.id.in_(list(school_ids)),
            sa.or_(SUBJECT.c.school_id.is_not(None), ~shadowed),
        )
        .order_by(SUBJECT.c.position, SUBJECT.c.code)
    )
    return list(rows)


async def measures_of(
    session: AsyncSession, school_ids: Collection[uuid.UUID], names: Collection[str]
) -> list[Any]:
    """The measures the schools use (their own and their trusts') named by code or id."""
    ids = []
    for name in names:
        try:
            ids.append(uuid.UUID(name))
        except ValueError:
            continue
    rows = await session.execute(
        sa.select(
            SCHOOL.c.id.label("school_id"),
            MEASURE.c.id,
            MEASURE.c.code,
            MEASURE.c.name,
            MEASURE.c.kind,
            MEASURE.c.school_id.label("owner_school_id"),
            MEASURE.c.decimals,
            MEASURE.c.expected_from,
            MEASURE.c.above_from,
            MEASURE.c.scale_id,
            SUBJECT.c.code.label("subject_code"),
        )
        .join(MEASURE, _owner_of(MEASURE))
        .outerjoin(SUBJECT, SUBJECT.c.id == MEASURE.c.subject_id)
        .where(
            SCHOOL.c.id.in_(list(school_ids)),
            sa.or_(MEASURE.c.code.in_(list(names)), MEASURE.c.id.in_(ids)),
        )
    )
    return list(rows)


async def banded_descriptors(session: AsyncSession, scale_ids: Collection[uuid.UUID]) -> list[Any]:
    """The scales' descriptors that place a pupil below, at or above: their id, scale, band,
    value and colour, by scale and value."""
    if not scale_ids:
        return []
    rows = await session.execute(
        sa.select(
            DESCRIPTOR.c.id,
            DESCRIPTOR.c.scale_id,
            DESCRIPTOR.c.band,
            DESCRIPTOR.c.value,
            DESCRIPTOR.c.colour,
        )
        .where(DESCRIPTOR.c.scale_id.in_(sorted(scale_ids)), DESCRIPTOR.c.band.is_not(None))
        .order_by(DESCRIPTOR.c.scale_id, DESCRIPTOR.c.value)
    )
    return list(rows)


async def class_rows(
    session: AsyncSession, school_ids: Collection[uuid.UUID], academic_years: Collection[int]
) -> list[Any]:
    rows = await session.execute(
        sa.select(CLASS.c.id, CLASS.c.code, CLASS.c.name, CLASS.c.school_id).where(
            CLASS.c.school_id.in_(list(school_ids)),
            CLASS.c.academic_year.in_(list(academic_years)),
        )
    )
    return list(rows)


# --- Building blocks --------------------------------------------------------------------------
def default_year_expr(year_group: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The curriculum year a year group works within by default (the markbook's rule).

    Year groups and years are written into the statement, not bound: the expression recurs
    wherever the working year is used, and 32 parameters a copy cost the planner more than
    the constants of a closed set."""
    by_year: dict[int, list[str]] = {}
    for g in YearGroup:
        by_year.setdefault(working_year_of(g.value), []).append(g.value)
    return sa.case(
        *(
            (
                sa.or_(
                    *(year_group == sa.literal_column(f"'{name}'", sa.String) for name in names)
                ),
                sa.literal_column(str(int(year)), sa.Integer),
            )
            for year, names in by_year.items()
        ),
        else_=None,
    )


def _flag(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    return sa.case((column == sa.true(), YES), (column == sa.false(), NO), else_=UNKNOWN)


def _ethnicity(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    first = sa.func.substr(column, 1, 1)
    return sa.case(
        *((first == letter, code) for letter, (code, _) in ETHNIC_MAJOR_GROUPS.items()),
        else_=UNKNOWN,
    )


def _point_map(plan: ReportPlan) -> sa.CTE:
    points = [column.point_ids for column in plan.columns if column.as_at is None]
    chosen = [point_id for ids in points for point_id in ids]
    if len(points) == len(plan.columns) and len(set(chosen)) == len(chosen):
        # Every column an assessment point, none twice: one scan of the points, so that
        # PostgreSQL plans the pupils' joins with the points' statistics (a UNION ALL of
        # literal rows leaves it guessing a few rows and probing indexes per pupil).
        col = sa.case(
            *((POINT.c.id.in_(list(c.point_ids)), c.index) for c in plan.columns if c.point_ids),
            else_=None,
        )
        return (
            sa.select(
                col.label("col"),
                POINT.c.id.label("point_id"),
                POINT.c.school_id,
                POINT.c.academic_year,
                POINT.c.assessed_on.label("on_date"),
            )
            .where(POINT.c.id.in_(chosen or [uuid.UUID(int=0)]))
            .cte("point_map")
            .prefix_with("NOT MATERIALIZED", dialect="postgresql")
        )
    parts: list[Any] = []
    for column in plan.columns:
        if column.as_at is None:
            parts.append(
                sa.select(
                    sa.literal(column.index).label("col"),
                    POINT.c.id.label("point_id"),
                    POINT.c.school_id,
                    POINT.c.academic_year,
                    POINT.c.assessed_on.label("on_date"),
                ).where(POINT.c.id.in_(list(column.point_ids) or [uuid.UUID(int=0)]))
            )
        else:
            parts.append(
                sa.select(
                    sa.literal(column.index).label("col"),
                    sa.cast(sa.null(), POINT.c.id.type).label("point_id"),
                    sa.literal(column.school_id, POINT.c.school_id.type).label("school_id"),
                    sa.literal(column.academic_year).label("academic_year"),
                    sa.literal(column.as_at, sa.Date).label("on_date"),
                )
            )
    return sa.union_all(*parts).cte("point_map") if len(parts) > 1 else parts[0].cte("point_map")


def _judged_as_at_columns(plan: ReportPlan) -> sa.CTE | None:
    """Per pupil x subject x "as at" column: the summary's figures counted from the history
    (None when every column is an assessment point, whose figures are the maintained
    summaries, joined by point)."""
    parts = [_judged_as_at(column) for column in plan.columns if column.as_at is not None]
    if not parts:
        return None
    return sa.union_all(*parts).cte("judged") if len(parts) > 1 else parts[0].cte("judged")


def _judged_as_at(column: PointColumn) -> Any:
    """The summary's figures for one school as at a date, from the history: per cell the
    judgement standing then (app.domain.markbook.standing), counted over the objectives of
    the pupil's working year then (``_working_years_as_at``)."""
    ranked = (
        sa.select(
            HISTORY.c.pupil_id,
            HISTORY.c.subject_id,
            HISTORY.c.objective_id,
            HISTORY.c.descriptor_id,
            standing_rank(HISTORY.c.pupil_id, HISTORY.c.objective_id),
        )
        .where(HISTORY.c.school_id == column.school_id, HISTORY.c.assessed_on <= column.as_at)
        .subquery("ranked")
    )
    secure_from = DESCRIPTOR.alias("secure_from")
    standing = _working_years_as_at(column).subquery("standing_years")
    working = sa.func.coalesce(
        standing.c.curriculum_year, default_year_expr(ENROLMENT.c.year_group)
    )
    judged = sa.func.count()
    return (
        sa.select(
            sa.literal(column.index).label("col"),
            ranked.c.pupil_id,
            ranked.c.subject_id,
            working.label("curriculum_year"),
            judged.label("judged"),
            sa.func.sum(DESCRIPTOR.c.value).label("value_sum"),
            sa.func.sum(sa.case((DESCRIPTOR.c.value >= secure_from.c.value, 1), else_=0)).label(
                "secure"
            ),
        )
        .select_from(ranked)
        .join(DESCRIPTOR, DESCRIPTOR.c.id == ranked.c.descriptor_id)
        .join(SCALE, SCALE.c.id == DESCRIPTOR.c.scale_id)
        .join(
            secure_from,
            sa.and_(
                secure_from.c.scale_id == SCALE.c.id, secure_from.c.code == SCALE.c.secure_from
            ),
        )
        .join(OBJECTIVE, OBJECTIVE.c.id == ranked.c.objective_id)
        .join(
            ENROLMENT,
            sa.and_(
                ENROLMENT.c.pupil_id == ranked.c.pupil_id,
                ENROLMENT.c.academic_year == column.academic_year,
            ),
        )
        .outerjoin(
            standing,
            sa.and_(
                standing.c.pupil_id == ranked.c.pupil_id,
                standing.c.subject_id == ranked.c.subject_id,
            ),
        )
        .where(
            ranked.c.rank == 1,
            OBJECTIVE.c.year_from <= working,
            OBJECTIVE.c.year_to >= working,
        )
        .group_by(ranked.c.pupil_id, ranked.c.subject_id, working)
    )


def _working_years_as_at(column: PointColumn) -> Any:
    """Per pupil x subject of one school: the working year that stood at the end of the day
    ``as_at`` in its academic year, from the history (the latest change set on or before that
    day). A null year (changed back), or no change by then: the year group's."""
    assert column.as_at is not None
    end = datetime.combine(column.as_at + timedelta(days=1), time.min, tzinfo=UTC)
    history = WORKING_YEAR_HISTORY.c
    ranked = (
        sa.select(
            history.pupil_id,
            history.subject_id,
            history.curriculum_year,
            sa.func.row_number()
            .over(
                partition_by=(history.pupil_id, history.subject_id),
                order_by=(history.set_at.desc(), history.id.desc()),
            )
            .label("rank"),
        )
        .where(
            history.school_id == column.school_id,
            history.academic_year == column.academic_year,
            history.set_at < end,
        )
        .subquery("year_changes")
    )
    return sa.select(ranked.c.pupil_id, ranked.c.subject_id, ranked.c.curriculum_year).where(
        ranked.c.rank == 1
    )


def _as_at_years(plan: ReportPlan) -> sa.CTE | None:
    """The working years standing at each "as at" column (``col``), or None if there is none."""
    parts = [
        _working_years_as_at(column).add_columns(sa.literal(column.index).label("col"))
        for column in plan.columns
        if column.as_at is not None
    ]
    if not parts:
        return None
    return (sa.union_all(*parts) if len(parts) > 1 else parts[0]).cte("as_at_years")


def year_objectives(school_ids: Collection[uuid.UUID] | sa.Select[Any]) -> sa.CTE:
    """Per school x subject x curriculum year: the objectives (not archived) of the school's
    and its trust's frameworks that cover the year (what "% secured of the working year's
    curriculum" counts against)."""
    years = sa.union_all(
        *(sa.select(sa.literal(y).label("year")) for y in range(FIRST_YEAR, LAST_YEAR + 1))
    ).subquery("years")
    return (
        sa.select(
            SCHOOL.c.id.label("school_id"),
            FRAMEWORK.c.subject_id,
            years.c.year,
            sa.func.count().label("objectives"),
        )
        .select_from(SCHOOL)
        .join(FRAMEWORK, _owner_of(FRAMEWORK))
        .join(OBJECTIVE, OBJECTIVE.c.framework_id == FRAMEWORK.c.id)
        .join(
            years,
            sa.and_(years.c.year >= OBJECTIVE.c.year_from, years.c.year <= OBJECTIVE.c.year_to),
        )
        .where(
            SCHOOL.c.id.in_(school_ids if isinstance(school_ids, sa.Select) else list(school_ids)),
            ~OBJECTIVE.c.archived,
        )
        .group_by(SCHOOL.c.id, FRAMEWORK.c.subject_id, years.c.year)
        .cte("year_objectives")
    )


def _subjects(plan: ReportPlan, codes: frozenset[str] | None) -> sa.CTE:
    own = SUBJECT.alias("own")
    shadowed = sa.exists().where(own.c.school_id == SCHOOL.c.id, own.c.code == SUBJECT.c.code)
    statement = (
        sa.select(
            SCHOOL.c.id.label("school_id"),
            SCHOOL.c.trust_id,
            SUBJECT.c.id.label("subject_id"),
            SUBJECT.c.code,
        )
        .select_from(SCHOOL)
        .join(SUBJECT, _owner_of(SUBJECT))
        .where(
            SCHOOL.c.id.in_(list(plan.school_ids)),
            sa.or_(SUBJECT.c.school_id.is_not(None), ~shadowed),
        )
    )
    if codes is not None:
        statement = statement.where(SUBJECT.c.code.in_(sorted(codes)))
    # Materialized: a few rows, read once. Inlined, PostgreSQL joined the school to its
    # subjects again for every pupil at every point (it expects a handful of pupils).
    return statement.cte("subjects").prefix_with("MATERIALIZED", dialect="postgresql")


def _of_measures(
    plan: ReportPlan,
    ids: Collection[uuid.UUID],
    measure_id: sa.ColumnElement[Any],
    school_id: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    """A value of one of ``ids``, each counted only in the schools it stands for (so a pupil
    is counted once per measure code, by their school's own measure if it has one)."""
    whole = sorted(i for i in ids if i not in plan.measure_schools)
    clauses = [measure_id.in_(whole)] if whole else []
    clauses += [
        sa.and_(measure_id == i, school_id.in_(sorted(plan.measure_schools[i])))
        for i in sorted(ids)
        if i in plan.measure_schools
    ]
    return sa.or_(*clauses) if clauses else sa.false()


def _measure_match(
    plan: ReportPlan,
    choice: MeasureChoice,
    code: sa.ColumnElement[Any],
    measure_id: sa.ColumnElement[Any],
    school_id: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    clauses = []
    named = [s for s in choice.by_subject if s is not None]
    for subject, ids in choice.by_subject.items():
        if not ids:
            continue
        if subject is None:
            here = code.not_in(named) if named else sa.true()
        else:
            here = code == subject
        clauses.append(sa.and_(here, _of_measures(plan, ids, measure_id, school_id)))
    return sa.or_(*clauses) if clauses else sa.false()


class _Values:
    """The values of some measures, joined to a report's rows by pupil and point (the row's
    subject's measure checked on each match), and where each value places its pupil: by its
    number measure's thresholds or by its descriptor's band. Both are written into the
    statement from the plan's banding, so that no measure or descriptor is looked up for each
    value (four joins per pupil's row, and most of the planning, before)."""

    def __init__(
        self, name: str, measure_ids: Collection[uuid.UUID], banding: Mapping[uuid.UUID, Banding]
    ) -> None:
        self.values = (
            sa.select(
                VALUE.c.pupil_id,
                VALUE.c.assessment_point_id,
                VALUE.c.measure_id,
                VALUE.c.descriptor_id,
                VALUE.c.number,
                VALUE.c.curriculum_year,
            )
            .where(VALUE.c.measure_id.in_(sorted(measure_ids) or [uuid.UUID(int=0)]))
            .subquery(name)
        )
        self.c = self.values.c
        # Number measures, by their thresholds (the same in most schools: one term for all).
        thresholds: dict[tuple[Decimal, Decimal | None], list[uuid.UUID]] = defaultdict(list)
        bands: dict[str, set[uuid.UUID]] = {"below": set(), "at": set(), "above": set()}
        for measure_id in sorted(measure_ids):
            found = banding.get(measure_id)
            if found is None:
                continue
            if found.expected_from is not None:
                thresholds[found.expected_from, found.above_from].append(measure_id)
            bands["below"] |= found.below
            bands["at"] |= found.at
            bands["above"] |= found.above
        number_type = VALUE.c.number.type
        self._numbers = [
            (
                self.c.measure_id.in_(ids),
                sa.literal(expected, number_type),
                None if above is None else sa.literal(above, number_type),
            )
            for (expected, above), ids in sorted(thresholds.items(), key=str)
        ]
        self._bands = {
            band: self.c.descriptor_id.in_(sorted(ids)) for band, ids in bands.items() if ids
        }

    def joined(self, source: Any, on: sa.ColumnElement[bool]) -> Any:
        return source.outerjoin(self.values, on)

    def _banded(self, *bands: str) -> list[sa.ColumnElement[bool]]:
        return [self._bands[band] for band in bands if band in self._bands]

    def placed(self) -> sa.ColumnElement[bool]:
        """The value places its pupil at all: a number measure with an expected threshold, or
        a descriptor with a band."""
        return _any_of([of for of, _, _ in self._numbers] + self._banded("below", "at", "above"))

    def reaching(self, *, above: bool) -> sa.ColumnElement[bool]:
        """The value reaches its measure's expected (or above) threshold, or its descriptor's
        band is at or above (above)."""
        number = self.c.number
        clauses = [
            sa.and_(of, number >= (threshold if above else expected))
            for of, expected, threshold in self._numbers
            if not (above and threshold is None)
        ]
        return _any_of(clauses + self._banded(*(("above",) if above else ("at", "above"))))

    def category(self) -> sa.ColumnElement[str]:
        """The attainment category the value places its pupil in (not assessed when it places
        none)."""
        number = self.c.number
        whens: list[tuple[Any, Any]] = [
            (of, band_from_descriptor(band).value) for band, of in self._bands.items()
        ]
        for of, expected, above in self._numbers:
            by_number = [] if above is None else [(number >= above, Category.ABOVE.value)]
            by_number.append((number >= expected, Category.AT.value))
            whens.append(
                (sa.and_(of, number.is_not(None)), sa.case(*by_number, else_=Category.BELOW.value))
            )
        if not whens:
            return sa.literal(Category.NOT_ASSESSED.value)
        return sa.case(*whens, else_=Category.NOT_ASSESSED.value)


def _any_of(clauses: Sequence[sa.ColumnElement[bool]]) -> sa.ColumnElement[bool]:
    return sa.or_(*clauses) if clauses else sa.false()


class _Judged:
    """A row's figures (working year counted, objectives judged, value sum, secure): the
    maintained summary's at an assessment point, else the history's as at a date."""

    def __init__(self, summary: Any, as_at: Any) -> None:
        names = ("curriculum_year", "judged", "value_sum", "secure")
        self.c = SimpleNamespace(
            **{
                name: summary.c[name]
                if as_at is None
                else sa.func.coalesce(summary.c[name], as_at.c[name])
                for name in names
            }
        )


@dataclass
class _Built:
    plan: ReportPlan
    facts: Any
    numbers: dict[int, str]  # measure slot -> its value column in the union
    extra: Mapping[str, Any]  # columns worked out over the facts (movement)

    @functools.cached_property
    def union(self) -> Any:
        """Every pupil's row once per rollup level x key group (see _rows); built only when
        asked for: most reports add up partial aggregates instead."""
        return _rows(self.plan, self.facts, self.extra)


def _rule_applies(plan: ReportPlan, rule: RuleChoice, code: Any, col: Any) -> Any:
    if rule.point is not None:
        return sa.and_(code == rule.subject, col == rule.point)
    specific = [r.point for r in plan.rules if r.subject == rule.subject and r.point is not None]
    if specific:
        return sa.and_(code == rule.subject, col.not_in(specific))
    return code == rule.subject


def _build(plan: ReportPlan) -> _Built:
    definition = plan.definition
    point_map = _point_map(plan)
    as_at = _judged_as_at_columns(plan)
    objectives_of_year = year_objectives(plan.school_ids)

    needed: frozenset[str] | None = plan.subject_codes
    subjects = _subjects(plan, needed)

    base_columns: list[Any] = []
    enrolled = sa.and_(
        ENROLMENT.c.school_id == point_map.c.school_id,
        ENROLMENT.c.academic_year == point_map.c.academic_year,
        sa.or_(ENROLMENT.c.left_on.is_(None), ENROLMENT.c.left_on >= point_map.c.on_date),
        sa.or_(ENROLMENT.c.joined_on.is_(None), ENROLMENT.c.joined_on <= point_map.c.on_date),
    )
    source: Any = (
        point_map.join(ENROLMENT, enrolled)
        .join(PUPIL, PUPIL.c.id == ENROLMENT.c.pupil_id)
        .join(subjects, subjects.c.school_id == point_map.c.school_id)
        .outerjoin(
            SUMMARY,
            sa.and_(
                SUMMARY.c.pupil_id == PUPIL.c.id,
                SUMMARY.c.subject_id == subjects.c.subject_id,
                SUMMARY.c.assessment_point_id == point_map.c.point_id,
            ),
        )
    )
    if as_at is not None:
        source = source.outerjoin(
            as_at,
            sa.and_(
                as_at.c.pupil_id == PUPIL.c.id,
                as_at.c.subject_id == subjects.c.subject_id,
                as_at.c.col == point_map.c.col,
            ),
        )
    judged = _Judged(SUMMARY, as_at)
    as_at_years = _as_at_years(plan)
    current_year = sa.and_(
        WORKING_YEAR.c.pupil_id == PUPIL.c.id,
        WORKING_YEAR.c.subject_id == subjects.c.subject_id,
        WORKING_YEAR.c.academic_year == point_map.c.academic_year,
    )
    default_year = default_year_expr(ENROLMENT.c.year_group)
    if as_at_years is None:
        source = source.outerjoin(WORKING_YEAR, current_year)
        working = sa.func.coalesce(
            judged.c.curriculum_year, WORKING_YEAR.c.curriculum_year, default_year
        )
    else:
        # "As at" columns: the working year that stood then, not the one set now.
        source = source.outerjoin(
            WORKING_YEAR, sa.and_(current_year, point_map.c.point_id.is_not(None))
        ).outerjoin(
            as_at_years,
            sa.and_(
                as_at_years.c.pupil_id == PUPIL.c.id,
                as_at_years.c.subject_id == subjects.c.subject_id,
                as_at_years.c.col == point_map.c.col,
            ),
        )
        working = sa.func.coalesce(
            judged.c.curriculum_year,
            WORKING_YEAR.c.curriculum_year,
            as_at_years.c.curriculum_year,
            default_year,
        )
    source = source.outerjoin(
        objectives_of_year,
        sa.and_(
            objectives_of_year.c.school_id == PUPIL.c.school_id,
            objectives_of_year.c.subject_id == subjects.c.subject_id,
            objectives_of_year.c.year == working,
        ),
    )
    code, col = subjects.c.code, point_map.c.col
    judged_n = sa.func.coalesce(judged.c.judged, 0)
    assessed = judged_n > 0
    objectives = sa.func.coalesce(objectives_of_year.c.objectives, 0)
    base_columns += [
        PUPIL.c.id.label("pupil_id"),
        PUPIL.c.school_id.label("school_id"),
        subjects.c.subject_id,
        code.label("subject_code"),
        col.label("col"),
        point_map.c.academic_year,
        ENROLMENT.c.year_group,
        judged_n.label("judged"),
        # A float, as PostgreSQL computes it (numeric x float): typed as the summary's
        # numeric(14, 3), the driver's result would be rounded to 3 decimals before the mean.
        sa.type_coerce(sa.case((assessed, judged.c.value_sum * 1.0 / judged_n)), sa.Float).label(
            "depth"
        ),
        sa.case((assessed, judged.c.secure * 1.0 / judged_n)).label("secured"),
        sa.case((sa.and_(assessed, objectives > 0), judged.c.secure * 1.0 / objectives)).label(
            "year_secured"
        ),
        working.label("working_year"),
    ]
    # The key groups the definition breaks down or filters by (read by _group_value): only
    # theirs, so that the statement carries no expressions (and parameters) it never reads.
    grouped = {str(d) for d in (*definition.groups, *(f.dimension for f in definition.filters))}
    key_groups = {
        Dimension.PUPIL_PREMIUM: lambda: _flag(PUPIL.c.pupil_premium),
        Dimension.FSM: lambda: _flag(PUPIL.c.fsm),
        Dimension.EAL: lambda: _flag(PUPIL.c.eal),
        Dimension.LOOKED_AFTER: lambda: _flag(PUPIL.c.looked_after),
        Dimension.SEN_STATUS: lambda: sa.func.coalesce(PUPIL.c.sen_status, UNKNOWN),
        Dimension.SEX: lambda: sa.func.coalesce(PUPIL.c.sex, UNKNOWN),
        Dimension.ETHNICITY: lambda: _ethnicity(PUPIL.c.ethnicity),
    }
    base_columns += [
        make().label(f"g_{dim.value}") for dim, make in key_groups.items() if dim.value in grouped
    ]

    # Measure values: one join per measure metric, matched to the row's subject.
    numbers: dict[int, str] = {}
    for slot, choice in sorted(plan.measures.items()):
        value = _Values(
            f"v{slot}", {i for ids in choice.by_subject.values() for i in ids}, plan.banding
        )
        source = value.joined(
            source,
            sa.and_(
                value.c.pupil_id == PUPIL.c.id,
                value.c.assessment_point_id == point_map.c.point_id,
                _measure_match(plan, choice, code, value.c.measure_id, PUPIL.c.school_id),
            ),
        )
        number = value.c.number
        banded = value.placed()
        expected = value.reaching(above=False)
        above = value.reaching(above=True)
        has = number.is_not(None)
        base_columns += [
            number.label(f"m{slot}_v"),
            sa.case((sa.and_(has, banded), 1), else_=0).label(f"m{slot}_ref"),
            sa.case((sa.and_(has, banded, expected), 1), else_=0).label(f"m{slot}_exp"),
            sa.case((sa.and_(has, banded, above), 1), else_=0).label(f"m{slot}_abv"),
        ]
        numbers[slot] = f"m{slot}_v"

    # Attainment category by the subject's rule; out-of-year pupils apart unless chosen.
    category: Any = sa.null()
    earlier: Any = working < default_year
    if plan.rules:
        measured = [r for r in plan.rules if r.measure_ids]
        rule_values = _Values("rv", {i for r in measured for i in r.measure_ids}, plan.banding)
        if measured:
            source = rule_values.joined(
                source,
                sa.and_(
                    rule_values.c.pupil_id == PUPIL.c.id,
                    rule_values.c.assessment_point_id == point_map.c.point_id,
                    sa.or_(
                        *(
                            sa.and_(
                                _rule_applies(plan, r, code, col),
                                _of_measures(
                                    plan,
                                    r.measure_ids,
                                    rule_values.c.measure_id,
                                    PUPIL.c.school_id,
                                ),
                            )
                            for r in measured
                        )
                    ),
                ),
            )
            earlier = sa.func.coalesce(rule_values.c.curriculum_year, working) < default_year
        by_measure = rule_values.category()
        year_percent = sa.case(
            (sa.and_(assessed, objectives > 0), judged.c.secure * 100.0 / objectives)
        )
        whens = []
        ordered = sorted(plan.rules, key=lambda r: r.point is None)
        for rule in ordered:
            if rule.measure_ids:
                outcome: Any = by_measure
            else:
                above_case = (
                    [(year_percent >= float(rule.secured_above), Category.ABOVE.value)]
                    if rule.secured_above is not None
                    else []
                )
                outcome = sa.case(
                    (year_percent.is_(None), Category.NOT_ASSESSED.value),
                    *above_case,
                    (year_percent >= float(rule.secured_at or 0), Category.AT.value),
                    else_=Category.BELOW.value,
                )
            applies = _rule_applies(plan, rule, code, col)
            if whens and whens[-1][1] is outcome:
                # Rules in a row placing pupils alike (by the measure's band or thresholds):
                # one WHEN, so that the outcome is written, and planned, once.
                whens[-1] = (sa.or_(whens[-1][0], applies), outcome)
            else:
                whens.append((applies, outcome))
        # A rule's outcome is never null: with no rule for the row, no category; else the
        # out-of-year pupils' own category when chosen, the rule's otherwise.
        if definition.out_of_year is OutOfYear.OWN_CATEGORY:
            whens = [
                (applies, sa.case((earlier, Category.EARLIER_CURRICULUM.value), else_=outcome))
                for applies, outcome in whens
            ]
        category = sa.case(*whens, else_=None)
    if Dimension.OUT_OF_YEAR.value in grouped:
        base_columns.append(sa.case((earlier, YES), else_=NO).label("g_out_of_year"))
    base_columns.append(category.label("category"))

    where = [PUPIL.c.school_id.in_(list(plan.school_ids))]
    if not all(plan.reach.covers(school_id=school_id) for school_id in plan.school_ids):
        # Only some pupils of a school (a teacher's): a filter repeating the schools would
        # make PostgreSQL count their selectivity twice and misjudge every join after it.
        where.append(
            pupils_within(plan.reach, pupil_column=PUPIL.c.id, school_column=PUPIL.c.school_id)
        )
    if plan.pupil_ids is not None:
        where.append(PUPIL.c.id.in_(sorted(plan.pupil_ids)))
    base = sa.select(*base_columns).select_from(source).where(*where).cte("base")

    # Facts: the base with what progress and combined figures need from the pupil's other rows.
    fact_columns: list[Any] = [base]
    per_subject = (base.c.pupil_id, base.c.subject_id)
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is Metric.COMBINED_AT_OR_ABOVE:
            reached = sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            base.c.subject_code.in_(spec.subjects),
                            base.c.category.in_([Category.AT.value, Category.ABOVE.value]),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).over(partition_by=(base.c.pupil_id, base.c.col))
            fact_columns.append(
                sa.case((reached == len(spec.subjects), 1), else_=0).label(f"comb{slot}")
            )
        if not spec.is_progress:
            continue
        first, last = definition.progress_pair(spec)

        def at_first(value: Any, first: int = first) -> Any:
            return sa.func.max(sa.case((base.c.col == first, value))).over(partition_by=per_subject)

        if spec.metric in (Metric.CATEGORY_MOVEMENT, Metric.PROGRESS_MATRIX):
            fact_columns.append(at_first(base.c.category).label(f"before{slot}"))
            continue
        if spec.metric is Metric.PROGRESS_DEPTH_SCORE:
            value = base.c.depth
        elif spec.metric is Metric.PROGRESS_PERCENT_SECURED:
            value = sa.case(
                (
                    base.c.year_secured.is_not(None),
                    100.0 * base.c.working_year + 100.0 * base.c.year_secured,
                )
            )
        else:
            value = base.c[numbers[slot]]
        before = at_first(value)
        fact_columns.append(
            sa.case(
                (
                    sa.and_(base.c.col == last, value.is_not(None), before.is_not(None)),
                    value - before,
                )
            ).label(f"p{slot}")
        )
    facts = sa.select(*fact_columns).cte("facts")

    # Movement between categories (a CASE over the two, the domain's ranking).
    ranked = {Category.BELOW.value: 0, Category.AT.value: 1, Category.ABOVE.value: 2}
    extra: dict[str, Any] = {}
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is not Metric.CATEGORY_MOVEMENT:
            continue
        _, last = definition.progress_pair(spec)
        before, after = facts.c[f"before{slot}"], facts.c.category

        def rank(c: Any) -> Any:
            return sa.case(*((c == k, v) for k, v in ranked.items()), else_=None)

        comparable = sa.and_(rank(before).is_not(None), rank(after).is_not(None))
        extra[f"mv{slot}"] = sa.case(
            (facts.c.col != last, None),
            (~comparable, Movement.NOT_COMPARABLE.value),
            (rank(after) > rank(before), Movement.UP.value),
            (rank(after) < rank(before), Movement.DOWN.value),
            else_=Movement.SAME.value,
        )

    return _Built(plan=plan, facts=facts, numbers=numbers, extra=extra)


def _filters(plan: ReportPlan, facts: Any) -> list[Any]:
    clauses = []
    for f in plan.definition.filters:
        values = list(f.values)
        dim = f.dimension
        if dim == Dimension.SUBJECT:
            clause = facts.c.subject_code.in_(values)
        elif dim == Dimension.YEAR_GROUP:
            clause = facts.c.year_group.in_(values)
        elif dim == Dimension.SCHOOL:
            ids = [_uuid(v) for v in values]
            clause = facts.c.school_id.in_([i for i in ids if i is not None])
        elif dim == Dimension.CLASS:
            ids = [i for i in (_uuid(v) for v in values) if i is not None]
            members = (
                sa.select(CLASS_PUPIL.c.pupil_id)
                .join(CLASS, CLASS.c.id == CLASS_PUPIL.c.class_id)
                .where(
                    CLASS.c.academic_year == facts.c.academic_year,
                    sa.or_(CLASS.c.code.in_(values), CLASS.c.id.in_(ids)),
                )
            )
            clause = facts.c.pupil_id.in_(members)
        else:
            clause = _group_value(dim, facts).in_(values)
        clauses.append(clause if f.op is FilterOp.IN else sa.not_(clause))
    return clauses


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _group_value(dimension: str, facts: Any) -> Any:
    if dimension.startswith(CUSTOM_GROUP_PREFIX):
        name = dimension.removeprefix(CUSTOM_GROUP_PREFIX)
        member = (
            sa.select(MEMBER.c.pupil_id)
            .join(GROUP, GROUP.c.id == MEMBER.c.group_id)
            .where(GROUP.c.name == name)
        )
        return sa.case((facts.c.pupil_id.in_(member), IN_GROUP), else_=NOT_IN_GROUP)
    dim = Dimension(dimension)
    if dim in BOOLEAN_GROUPS or dim in (
        Dimension.SEN_STATUS,
        Dimension.SEX,
        Dimension.ETHNICITY,
        Dimension.OUT_OF_YEAR,
    ):
        return facts.c[f"g_{dim.value}"]
    raise ValueError(dimension)


def _rows(plan: ReportPlan, facts: Any, extra: Mapping[str, Any]) -> Any:
    """One SELECT per rollup level x key group breakdown, labelling its rows; UNION ALL."""
    definition = plan.definition
    classes = (
        sa.select(CLASS_PUPIL.c.pupil_id, CLASS.c.id.label("class_id"), CLASS.c.academic_year)
        .join(CLASS, CLASS.c.id == CLASS_PUPIL.c.class_id)
        .where(CLASS.c.school_id.in_(list(plan.school_ids)))
        .subquery("classes")
    )
    metric_columns: list[Any] = [
        facts.c.pupil_id,
        facts.c.judged,
        facts.c.depth,
        facts.c.secured,
        facts.c.year_secured,
        facts.c.category,
    ]
    for slot in plan.measures:
        metric_columns += [facts.c[f"m{slot}_{s}"] for s in ("v", "ref", "exp", "abv")]
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is Metric.COMBINED_AT_OR_ABOVE:
            metric_columns.append(facts.c[f"comb{slot}"])
        elif spec.metric in (Metric.CATEGORY_MOVEMENT, Metric.PROGRESS_MATRIX):
            metric_columns.append(facts.c[f"before{slot}"])
        elif spec.is_progress:
            metric_columns.append(facts.c[f"p{slot}"])
    metric_columns += [expr.label(name) for name, expr in extra.items()]

    filters = _filters(plan, facts)
    parts = []
    for level, kept in levels(plan):
        for group in (None, *definition.groups):
            keys = [
                sa.literal(level).label("level"),
                facts.c.subject_code.label("d_subject"),
                (facts.c.school_id if Dimension.SCHOOL in kept else sa.null()).label("d_school"),
                (facts.c.year_group if Dimension.YEAR_GROUP in kept else sa.null()).label(
                    "d_year_group"
                ),
                (classes.c.class_id if Dimension.CLASS in kept else sa.null()).label("d_class"),
                (sa.literal(group) if group else sa.null()).label("gdim"),
                (_group_value(group, facts) if group else sa.null()).label("gval"),
                facts.c.col,
            ]
            source: Any = facts
            if Dimension.CLASS in kept:
                source = facts.outerjoin(
                    classes,
                    sa.and_(
                        classes.c.pupil_id == facts.c.pupil_id,
                        classes.c.academic_year == facts.c.academic_year,
                    ),
                )
            parts.append(sa.select(*keys, *metric_columns).select_from(source).where(*filters))
    return (
        sa.union_all(*parts).subquery("report_rows")
        if len(parts) > 1
        else parts[0].subquery("report_rows")
    )


def _keys(union: Any) -> list[Any]:
    return [union.c[name] for name in KEY_COLUMNS]


def _sum_if(condition: Any, value: Any = 1) -> Any:
    return sa.func.sum(sa.case((condition, value), else_=0))


# How partial aggregates of the same rows combine: counts and sums add up; min and max.
_Aggregate = tuple[str, Any, Any]  # (name, aggregate over rows, aggregate over partials)


def _aggregates(
    plan: ReportPlan, row: Callable[[str], Any], *, postgres: bool
) -> tuple[list[_Aggregate], list[int]]:
    """The report's aggregates over rows whose metric columns ``row`` gives by name (those
    its metrics read: app.domain.reports.aggregate_names), and the measure slots whose
    medians SQLite needs from a statement of their own."""
    definition = plan.definition
    total, least, most = sa.func.sum, sa.func.min, sa.func.max
    judged = row("judged") > 0
    found: list[_Aggregate] = [
        ("pupils", sa.func.count(), total),
        ("assessed", _sum_if(judged), total),
        ("depth_sum", sa.func.sum(row("depth")), total),
        ("secured_sum", sa.func.sum(row("secured")), total),
        ("judged_sum", sa.func.sum(sa.case((judged, row("judged")), else_=0)), total),
        ("year_n", _sum_if(row("year_secured").is_not(None)), total),
        ("year_sum", sa.func.sum(row("year_secured")), total),
    ]
    found += [(f"cat_{c.value}", _sum_if(row("category") == c.value), total) for c in Category]
    medians: list[int] = []
    for slot in plan.measures:
        value = row(f"m{slot}_v")
        found += [
            (f"m{slot}_n", sa.func.count(value), total),
            (f"m{slot}_sum", sa.func.sum(value), total),
            (f"m{slot}_min", sa.func.min(value), least),
            (f"m{slot}_max", sa.func.max(value), most),
            *((f"m{slot}_{s}", sa.func.sum(row(f"m{slot}_{s}")), total) for s in _BANDED),
        ]
        if definition.metrics[slot].metric is Metric.MEASURE_MEDIAN:
            if postgres:
                median = sa.func.percentile_cont(0.5).within_group(value)
                found.append((f"m{slot}_median", median, None))
            else:
                medians.append(slot)
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is Metric.COMBINED_AT_OR_ABOVE:
            found.append((f"comb{slot}", sa.func.sum(row(f"comb{slot}")), total))
        elif spec.metric is Metric.CATEGORY_MOVEMENT:
            found += [
                (f"mv{slot}_{m.value}", _sum_if(row(f"mv{slot}") == m.value), total)
                for m in Movement
            ]
        elif spec.is_progress and spec.metric is not Metric.PROGRESS_MATRIX:
            change = row(f"p{slot}")
            found += [
                (f"p{slot}_n", sa.func.count(change), total),
                (f"p{slot}_sum", sa.func.sum(change), total),
            ]
    needed = aggregate_names(definition)
    return [a for a in found if a[0] in needed], medians


_BANDED = ("ref", "exp", "abv")


async def aggregate(session: AsyncSession, plan: ReportPlan) -> list[dict[str, Any]]:
    """The report's aggregates: one row per (row key, point column) with the counts and sums
    the domain turns into figures (app.domain.reports.aggregate_names). One statement, plus
    one per median on SQLite (see ``_Statements``)."""
    await tune_for_reports(session)
    built = _statements(_Keyed(plan.key, plan), session.get_bind().dialect.name == "postgresql")
    if built.union is None:
        result = await session.execute(built.statement)
        names = list(result.keys())
        return [dict(zip(names, row, strict=True)) for row in result]
    found = {_key(row): dict(row._mapping) for row in await session.execute(built.statement)}
    for slot in built.medians:
        for key, median in await _median_sqlite(session, built.union, slot):
            if key in found:
                found[key][f"m{slot}_median"] = median
    return list(found.values())


@dataclass(frozen=True, slots=True)
class _Keyed:
    """A plan, hashed and compared by its key (so that its statements can be kept)."""

    key: Hashable
    plan: ReportPlan = field(hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class _Statements:
    """A plan's aggregate statement, and on SQLite the measure slots whose medians need one of
    their own over ``union``.

    When every aggregate can be made from partial ones (no median) and no row is a class's
    (a pupil in two classes counts in each), the pupils' rows are first aggregated at the
    finest grain (subject, school, year group, each key group's value, point column) and
    the rows of every rollup level and key group are added up from those few partial rows
    (``union`` None), instead of from every pupil's row once per level and key group."""

    statement: Any
    union: Any | None = None
    medians: tuple[int, ...] = ()


@functools.lru_cache(maxsize=16)  # each about 0.7 MB for a school's "Data on a page"
def _statements(keyed: _Keyed, postgres: bool) -> _Statements:
    """The plan's statements, built once and kept for plans alike (the same report asked for
    again, by any caller with the same reach). Building one costs more Python than a school's
    whole table; SQLAlchemy's statements are immutable, and their cache keys are made once
    for each."""
    plan = keyed.plan
    built = _build(plan)
    rows = _pupil_rows(plan, built)
    aggregates, medians = _aggregates(plan, lambda name: rows.c[name], postgres=postgres)
    decomposable = all(combine is not None for _, _, combine in aggregates) and not medians
    if decomposable and Dimension.CLASS not in plan.definition.dimensions:
        return _Statements(_from_partials(plan, rows, aggregates))
    union = built.union
    aggregates, medians = _aggregates(plan, lambda name: union.c[name], postgres=postgres)
    keys = _keys(union)
    statement = sa.select(*keys, *(_typed(name, agg) for name, agg, _ in aggregates)).group_by(
        *keys
    )
    return _Statements(statement, union, tuple(medians))


def _pupil_rows(plan: ReportPlan, built: _Built) -> Any:
    """The rows of the pupils the filters keep, with the columns worked out over the facts.
    OFFSET 0 keeps PostgreSQL from merging this subquery into the aggregation above it, which
    would copy each column's expression (the category's CASE over the working year's, say)
    into every aggregate that reads it and evaluate it there, once per aggregate and row; the
    filters, inside it, still reach the tables."""
    facts = built.facts
    extra = (expr.label(name) for name, expr in built.extra.items())
    return (
        sa.select(facts, *extra)
        .where(*_filters(plan, facts))
        .offset(sa.literal_column("0"))
        .subquery("pupil_rows")
    )


def _from_partials(plan: ReportPlan, facts: Any, aggregates: Sequence[_Aggregate]) -> Any:
    """The aggregates per row key, added up from partial aggregates at the finest grain
    (``facts``: the pupils' rows, filtered)."""
    definition = plan.definition
    rolled = [d for d in definition.dimensions if d is not Dimension.SUBJECT]
    finest: list[tuple[str, Any]] = [("d_subject", facts.c.subject_code)]
    if Dimension.SCHOOL in rolled:
        finest.append(("d_school", facts.c.school_id))
    if Dimension.YEAR_GROUP in rolled:
        finest.append(("d_year_group", facts.c.year_group))
    finest += [(f"g{i}", _group_value(g, facts)) for i, g in enumerate(definition.groups)]
    finest.append(("col", facts.c.col))
    fine = (
        sa.select(
            *(expr.label(name) for name, expr in finest),
            *(agg.label(name) for name, agg, _ in aggregates),
        )
        .group_by(*(expr for _, expr in finest))
        .cte("fine")
    )
    # One grouped SELECT per rollup level x key group over the partial rows, UNION ALL: the
    # columns it keeps are its GROUP BY; the others are constants.
    combined = [_typed(name, combine(fine.c[name])) for name, _, combine in aggregates]
    parts = []
    for level, kept in levels(plan):
        for index, group in [(None, None), *enumerate(definition.groups)]:
            grouped = [
                fine.c.d_subject,
                *((fine.c.d_school,) if Dimension.SCHOOL in kept else ()),
                *((fine.c.d_year_group,) if Dimension.YEAR_GROUP in kept else ()),
                *((fine.c[f"g{index}"],) if group else ()),
                fine.c.col,
            ]
            keys = [
                sa.literal(level).label("level"),
                fine.c.d_subject,
                (fine.c.d_school if Dimension.SCHOOL in kept else sa.null()).label("d_school"),
                (fine.c.d_year_group if Dimension.YEAR_GROUP in kept else sa.null()).label(
                    "d_year_group"
                ),
                sa.null().label("d_class"),
                (sa.literal(group) if group else sa.null()).label("gdim"),
                (fine.c[f"g{index}"] if group else sa.null()).label("gval"),
                fine.c.col,
            ]
            parts.append(sa.select(*keys, *combined).group_by(*grouped))
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def _key(row: Any) -> tuple[Any, ...]:
    return tuple(row._mapping[name] for name in KEY_COLUMNS)


def _typed(name: str, aggregate: Any) -> Any:
    """An aggregate labelled with its name; counts as integers (PostgreSQL sums them as
    numeric, and the domain counts pupils in ints)."""
    return (sa.cast(aggregate, sa.BigInteger) if _is_count(name) else aggregate).label(name)


def _is_count(name: str) -> bool:
    return (
        name in {"pupils", "assessed", "year_n"}
        or name.startswith(("cat_", "comb", "mv"))
        or name.endswith(("_n", "_ref", "_exp", "_abv"))
    )


async def _median_sqlite(session: AsyncSession, union: Any, slot: int) -> list[Any]:
    """Medians with window functions (SQLite has no percentile_cont): per row key, the middle
    value, or the mean of the two middle values."""
    value = union.c[f"m{slot}_v"]
    keys = _keys(union)
    ordered = (
        sa.select(
            *keys,
            value.label("v"),
            sa.func.row_number().over(partition_by=keys, order_by=value).label("place"),
            sa.func.count().over(partition_by=keys).label("size"),
        )
        .where(value.is_not(None))
        .subquery("ordered")
    )
    okeys = [ordered.c[name] for name in KEY_COLUMNS]
    middle = sa.or_(
        ordered.c.place == (ordered.c.size + 1) // 2,
        ordered.c.place == (ordered.c.size + 2) // 2,
    )
    statement = (
        sa.select(*okeys, sa.func.avg(ordered.c.v).label("median")).where(middle).group_by(*okeys)
    )
    return [(_key(row), row.median) for row in await session.execute(statement)]


async def matrix(session: AsyncSession, plan: ReportPlan, slot: int) -> list[Any]:
    """Pupils by category at ``from`` x category at ``to``, per row key."""
    built = _build(plan)
    await tune_for_reports(session)
    union = built.union
    _, last = plan.definition.progress_pair(plan.definition.metrics[slot])
    before = sa.func.coalesce(union.c[f"before{slot}"], Category.NOT_ASSESSED.value)
    after = sa.func.coalesce(union.c.category, Category.NOT_ASSESSED.value)
    keys = _keys(union)
    statement = (
        sa.select(*keys, before.label("before"), after.label("after"), sa.func.count().label("n"))
        .where(union.c.col == last, union.c.category.is_not(None))
        .group_by(*keys, before, after)
    )
    return list(await session.execute(statement))


async def matrix_pupils(
    session: AsyncSession,
    plan: ReportPlan,
    slot: int,
    *,
    key: Sequence[Any],
    before: str,
    after: str,
    limit: int,
) -> list[uuid.UUID]:
    """The pupils behind one cell of a progress matrix (a row key, a category at ``from`` and
    at ``to``)."""
    built = _build(plan)
    await tune_for_reports(session)
    union = built.union
    _, last = plan.definition.progress_pair(plan.definition.metrics[slot])
    keys = dict(zip(KEY_COLUMNS[:-1], key, strict=True))
    clauses = [
        union.c[name] == value if value is not None else union.c[name].is_(None)
        for name, value in keys.items()
    ]
    statement = (
        sa.select(union.c.pupil_id)
        .where(
            *clauses,
            union.c.col == last,
            sa.func.coalesce(union.c[f"before{slot}"], Category.NOT_ASSESSED.value) == before,
            sa.func.coalesce(union.c.category, Category.NOT_ASSESSED.value) == after,
        )
        .distinct()
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def pupil_categories(session: AsyncSession, plan: ReportPlan) -> list[Any]:
    """Each pupil's attainment category per subject at the plan's first point column (pupil
    id, subject id, category), for the subjects with a rule: the rows the report counts."""
    built = _build(plan)
    await tune_for_reports(session)
    facts = built.facts
    statement = sa.select(facts.c.pupil_id, facts.c.subject_id, facts.c.category).where(
        facts.c.col == 0, facts.c.category.is_not(None)
    )
    return list(await session.execute(statement))


# --- Around the engine: schools, pupils behind a cell, templates ----------------------------
async def schools_of_trust(session: AsyncSession, trust_id: uuid.UUID) -> list[School]:
    rows = await session.scalars(
        sa.select(School).where(SCHOOL.c.trust_id == trust_id).order_by(SCHOOL.c.name)
    )
    return list(rows)


async def pupils_by_id(session: AsyncSession, pupil_ids: Sequence[uuid.UUID]) -> list[Pupil]:
    """The pupils, in the order given."""
    if not pupil_ids:
        return []
    found = {
        p.id: p
        for p in await session.scalars(sa.select(Pupil).where(PUPIL.c.id.in_(list(pupil_ids))))
    }
    return [found[i] for i in pupil_ids if i in found]


async def template_version(
    session: AsyncSession, template_id: uuid.UUID, version: int
) -> ReportTemplateVersion | None:
    return await session.get(ReportTemplateVersion, (template_id, version))


async def template_versions(
    session: AsyncSession, template_id: uuid.UUID, *, cursor: str | None, limit: int
) -> Page[ReportTemplateVersion]:
    table = ReportTemplateVersion.__table__.c
    statement = sa.select(ReportTemplateVersion).where(table.template_id == template_id)
    return await paginate(session, statement, order_by=[table.version], cursor=cursor, limit=limit)


async def template_for_school(
    session: AsyncSession, school: School, code: str
) -> ReportTemplate | None:
    """The template of this code a school runs: its own, else its trust's; never archived."""
    table = ReportTemplate.__table__.c  # type: ignore[attr-defined]
    owners = [table.school_id == school.id]
    if school.trust_id is not None:
        owners.append(table.trust_id == school.trust_id)
    found = list(
        await session.scalars(
            sa.select(ReportTemplate).where(
                table.code == code, table.archived.is_(False), sa.or_(*owners)
            )
        )
    )
    return next((t for t in found if t.school_id == school.id), found[0] if found else None)
