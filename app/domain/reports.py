"""Reports: what a report definition may say, what each figure means, and how small groups are
hidden. Pure rules, no I/O: the engine (app/reports) turns a definition into SQL aggregates and
hands them back here to become a table.

## A report definition

A report is data, not code: a flat JSON object, like a semantic layer's query. Every name in it
comes from a closed set, and ``parse_definition`` names the field of anything it refuses
(``metrics.2.measures``, ``points.0``)::

    {
      "title": "Data on a page",
      "metrics": [
        {"metric": "pupils"},
        {"metric": "percent_secured_of_year"},
        {"metric": "percent_at_or_above"},
        {"metric": "measure_mean", "measures": ["STD-READ", "STD-MATH"]},
        {"metric": "progress_percent_secured", "from": 0, "to": 2}
      ],
      "dimensions": ["subject", "year_group"],
      "groups": ["pupil_premium", "sen_status", "group:Summer born"],
      "academic_year": 2026,
      "points": ["AUT", "mid", {"as_at": "2027-03-01"}],
      "filters": [{"dimension": "year_group", "op": "in", "values": ["3", "4"]}],
      "attainment": [
        {"subject": "MA", "measure": "MATH-TA"},
        {"subject": "EN", "measure": "STD-READ"},
        {"subject": "SC", "secured": {"at": 70, "above": 90}}
      ],
      "out_of_year": "own_category",
      "suppress_below": 6
    }

- ``metrics``: the figures, each a column per point (see ``Metric``). Measure metrics name
  their measures by code (or id), one per subject: in a subject's row the measure of that
  subject is used (a measure with no subject serves every row).
- ``dimensions``: the rows, crossed: ``subject``, ``year_group``, ``class``, ``school``. Each
  dimension after the subject also gets an "All" row (all year groups, the whole trust ...).
  Without ``subject`` a filter must pick exactly one subject.
- ``groups``: key groups, listed one after another under each row, each beside the row's
  "All pupils": ``pupil_premium``, ``fsm``, ``sen_status``, ``eal``, ``sex``,
  ``looked_after``, ``ethnicity`` (major group), ``out_of_year`` (working within an earlier
  year's curriculum in that subject) and ``group:<name>`` (a school's custom group: in it or
  not). Every breakdown covers every pupil ("unknown" where the roster does not say).
- ``points``: the columns: a point's code (``"AUT"`` or ``{"code": "AUT"}``), ``start``,
  ``mid``, ``end`` or ``latest`` of ``academic_year`` (default: this academic year), or
  ``{"as_at": "YYYY-MM-DD"}`` for one school, read from the markbook's history. Pupils counted
  at a point are those enrolled in its academic year (and not left before its date).
- ``filters``: keep only rows whose ``dimension`` value is ``in`` (or ``not_in``) ``values``.
- ``attainment``: the school's rule per subject for below / at / above (optionally only at one
  point, ``"point": 1``): a scale measure's descriptor bands (teacher assessment EXS = at), a
  number measure's expected/above thresholds, or % secured of the year's curriculum
  thresholds. A subject with no rule has no attainment figures.
- ``out_of_year``: ``own_category`` (default): pupils working within an earlier year's
  curriculum form their own category, never "below"; ``working_curriculum``: they are placed by
  their category against the curriculum they work within.
- ``suppress_below``: hide counts of 1 to this minus one (at least 3) for every viewer.

## What the figures mean (per row, at each point; "pupils" are those on roll)

- ``pupils``: pupils counted.
- ``depth_score``: the average pupil's depth score, a depth score being the mean value of the
  descriptors standing in the pupil's judged objectives of their working year.
- ``percent_secured``: the average pupil's % of the objectives judged that are secure.
- ``percent_secured_of_year``: the average pupil's % of their working year's curriculum (the
  subject's objectives, not archived, covering that year) that is secure.
- ``objectives_judged``: the average number of working-year objectives judged per pupil.
  These four count the pupils with at least one judgement by the point (n).
- ``attainment``: how many pupils are below / at / above, working within an earlier year's
  curriculum, or not assessed, by the subject's rule; counts and % of the pupils.
- ``percent_at_or_above``: % of the pupils at or above.
- ``measure_mean``, ``measure_median``, ``measure_min``, ``measure_max``, ``measure_count``:
  of the values of the row's measure at the point (n: pupils with a value);
  ``measure_percent_expected`` / ``measure_percent_above``: % of those with a value who reach
  the measure's expected / above threshold (a scale measure: a descriptor banded at / above).
- ``combined_at_or_above``: % of the pupils at or above in every one of ``subjects``.
- ``progress_depth_score``: the average change in depth score from point ``from`` to ``to``.
- ``progress_percent_secured``: the average change in position within the curriculum, in
  percentage points of a year: a pupil who moves on to a later year's objectives gains 100 per
  year moved, so finishing Year 2 and starting Year 3 shows as progress, never as a fall.
- ``progress_measure``: the average change in the row's measure.
- ``category_movement``: pupils whose category rose, stayed, fell, or cannot be compared
  (not assessed, or working within an earlier curriculum at either point).
- ``progress_matrix``: a section of its own: pupils counted by category at ``from`` x category
  at ``to``.

## Suppression

A viewer such as a governor gets each cell that counts 1 to threshold-1 pupils hidden (value
null, ``suppressed`` true), and then more cells, until no hidden count can be worked out by
subtraction: from a total and its group rows, from a distribution's categories and its pupils,
or from a figure's pupils and the row's (the pupils a figure leaves out are a count too).
A report's progress matrices are suppressed with its table as one system: a matrix's rows and
columns add up to the row's attainment counts at its two points (shown in the table or not),
and its cells add up across group and dimension rows as the table's counts do.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from app.domain.errors import DomainError
from app.domain.markbook import default_working_year
from app.domain.pupils import SenStatus, Sex, YearGroup

MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 6
MAX_METRICS = 40
MAX_POINTS = 12
MAX_GROUPS = 12
MAX_COLUMNS = 400
MAX_CELLS = 250_000  # rows x columns, estimated before running
MAX_FILTER_VALUES = 500
MAX_MATRIX_PUPILS = 10_000


class DefinitionError(DomainError):
    """A report definition that cannot run; ``field`` is the path within the definition."""


# --- Closed sets ---------------------------------------------------------------------------
class Metric(StrEnum):
    PUPILS = "pupils"
    DEPTH_SCORE = "depth_score"
    PERCENT_SECURED = "percent_secured"
    PERCENT_SECURED_OF_YEAR = "percent_secured_of_year"
    OBJECTIVES_JUDGED = "objectives_judged"
    ATTAINMENT = "attainment"
    PERCENT_AT_OR_ABOVE = "percent_at_or_above"
    MEASURE_MEAN = "measure_mean"
    MEASURE_MEDIAN = "measure_median"
    MEASURE_MIN = "measure_min"
    MEASURE_MAX = "measure_max"
    MEASURE_COUNT = "measure_count"
    MEASURE_PERCENT_EXPECTED = "measure_percent_expected"
    MEASURE_PERCENT_ABOVE = "measure_percent_above"
    COMBINED_AT_OR_ABOVE = "combined_at_or_above"
    PROGRESS_DEPTH_SCORE = "progress_depth_score"
    PROGRESS_PERCENT_SECURED = "progress_percent_secured"
    PROGRESS_MEASURE = "progress_measure"
    CATEGORY_MOVEMENT = "category_movement"
    PROGRESS_MATRIX = "progress_matrix"


SUMMARY_METRICS = frozenset(
    {
        Metric.DEPTH_SCORE,
        Metric.PERCENT_SECURED,
        Metric.PERCENT_SECURED_OF_YEAR,
        Metric.OBJECTIVES_JUDGED,
    }
)
MEASURE_METRICS = frozenset(
    {
        Metric.MEASURE_MEAN,
        Metric.MEASURE_MEDIAN,
        Metric.MEASURE_MIN,
        Metric.MEASURE_MAX,
        Metric.MEASURE_COUNT,
        Metric.MEASURE_PERCENT_EXPECTED,
        Metric.MEASURE_PERCENT_ABOVE,
        Metric.PROGRESS_MEASURE,
    }
)
PROGRESS_METRICS = frozenset(
    {
        Metric.PROGRESS_DEPTH_SCORE,
        Metric.PROGRESS_PERCENT_SECURED,
        Metric.PROGRESS_MEASURE,
        Metric.CATEGORY_MOVEMENT,
        Metric.PROGRESS_MATRIX,
    }
)
CATEGORY_METRICS = frozenset(
    {
        Metric.ATTAINMENT,
        Metric.PERCENT_AT_OR_ABOVE,
        Metric.COMBINED_AT_OR_ABOVE,
        Metric.CATEGORY_MOVEMENT,
        Metric.PROGRESS_MATRIX,
    }
)


class Dimension(StrEnum):
    SUBJECT = "subject"
    YEAR_GROUP = "year_group"
    CLASS = "class"
    SCHOOL = "school"
    PUPIL_PREMIUM = "pupil_premium"
    FSM = "fsm"
    SEN_STATUS = "sen_status"
    EAL = "eal"
    SEX = "sex"
    LOOKED_AFTER = "looked_after"
    ETHNICITY = "ethnicity"
    OUT_OF_YEAR = "out_of_year"


# What each figure means, in plain words for a governor's pack (the rules above, said simply).
MEANINGS = {
    Metric.PUPILS: "Pupils: how many pupils on roll the row counts.",
    Metric.DEPTH_SCORE: "Depth score: how deeply pupils have learnt what they have been taught "
    "so far, on the school's scale (the average of each pupil's average).",
    Metric.PERCENT_SECURED: "% secured of those assessed: of the objectives pupils have been "
    "assessed on, the share they have secured (the average pupil's).",
    Metric.PERCENT_SECURED_OF_YEAR: "% secured of the year's curriculum: the share of the whole "
    "year's objectives the average pupil has secured; it grows through the year.",
    Metric.OBJECTIVES_JUDGED: "Objectives judged: how many of the year's objectives the average "
    "pupil has been assessed on.",
    Metric.ATTAINMENT: "Below, at, above: how many pupils are below, at or above where the "
    "school expects them to be, by the school's own rule; pupils working within an earlier "
    "year's curriculum are counted apart, never as below.",
    Metric.PERCENT_AT_OR_ABOVE: "% at or above: the share of pupils at or above where the school "
    "expects them to be.",
    Metric.MEASURE_MEAN: "Mean: the average of the pupils' scores that were entered.",
    Metric.MEASURE_MEDIAN: "Median: the middle of the pupils' scores that were entered.",
    Metric.MEASURE_MIN: "Lowest: the lowest score entered.",
    Metric.MEASURE_MAX: "Highest: the highest score entered.",
    Metric.MEASURE_COUNT: "Values: how many pupils have a score entered.",
    Metric.MEASURE_PERCENT_EXPECTED: "% expected or above: the share of pupils with a score who "
    "reach the expected standard.",
    Metric.MEASURE_PERCENT_ABOVE: "% above: the share of pupils with a score who reach the "
    "higher standard.",
    Metric.COMBINED_AT_OR_ABOVE: "Combined: the share of pupils at or above in every one of "
    "the subjects named at once.",
    Metric.PROGRESS_DEPTH_SCORE: "Change in depth score: how much deeper the average pupil's "
    "learning is between the two points.",
    Metric.PROGRESS_PERCENT_SECURED: "Change in curriculum secured: how far the average pupil "
    "has moved through the curriculum between the two points, in percentage points of a year.",
    Metric.PROGRESS_MEASURE: "Change: the average change in the pupils' scores between the two "
    "points.",
    Metric.CATEGORY_MOVEMENT: "Movement: how many pupils moved up, stayed or moved down between "
    "below, at and above from one point to the other.",
    Metric.PROGRESS_MATRIX: "Progress matrix: how many pupils went from each category at the "
    "first point to each category at the second.",
}

CROSSED = (Dimension.SUBJECT, Dimension.SCHOOL, Dimension.YEAR_GROUP, Dimension.CLASS)
KEY_GROUPS = tuple(d for d in Dimension if d not in CROSSED)
CUSTOM_GROUP_PREFIX = "group:"
BOOLEAN_GROUPS = frozenset(
    {Dimension.PUPIL_PREMIUM, Dimension.FSM, Dimension.EAL, Dimension.LOOKED_AFTER}
)


class Category(StrEnum):
    """Where a pupil stands in a subject at a point, by the school's rule."""

    BELOW = "below"
    AT = "at"
    ABOVE = "above"
    EARLIER_CURRICULUM = "earlier_curriculum"
    NOT_ASSESSED = "not_assessed"


CATEGORY_LABELS = {
    Category.BELOW: "Below",
    Category.AT: "At",
    Category.ABOVE: "Above",
    Category.EARLIER_CURRICULUM: "Working within an earlier year's curriculum",
    Category.NOT_ASSESSED: "Not assessed",
}
_RANKED = {Category.BELOW: 0, Category.AT: 1, Category.ABOVE: 2}


class Movement(StrEnum):
    UP = "up"
    SAME = "same"
    DOWN = "down"
    NOT_COMPARABLE = "not_comparable"


MOVEMENT_LABELS = {
    Movement.UP: "Moved up",
    Movement.SAME: "Stayed",
    Movement.DOWN: "Moved down",
    Movement.NOT_COMPARABLE: "Not comparable",
}


class OutOfYear(StrEnum):
    OWN_CATEGORY = "own_category"
    WORKING_CURRICULUM = "working_curriculum"


class FilterOp(StrEnum):
    IN = "in"
    NOT_IN = "not_in"


class RelativePoint(StrEnum):
    START = "start"
    MID = "mid"
    END = "end"
    LATEST = "latest"


# --- Group values: codes and labels ---------------------------------------------------------
UNKNOWN = "unknown"
YES, NO = "yes", "no"
IN_GROUP, NOT_IN_GROUP = "in", "out"

# DfE ethnicity codes by their first letter: the major ethnic groups of the school census.
# REFU (refused) and NOBT (not obtained) are "unclassified".
ETHNIC_MAJOR_GROUPS: dict[str, tuple[str, str]] = {
    "W": ("white", "White"),
    "M": ("mixed", "Mixed"),
    "A": ("asian", "Asian or Asian British"),
    "B": ("black", "Black or Black British"),
    "C": ("chinese", "Chinese"),
    "O": ("other", "Any other ethnic group"),
    "R": ("unclassified", "Unclassified"),
    "N": ("unclassified", "Unclassified"),
}


def ethnic_major_group(code: str | None) -> str:
    """The major ethnic group of a DfE ethnicity code (WBRI: white), or "unknown"."""
    if not code:
        return UNKNOWN
    found = ETHNIC_MAJOR_GROUPS.get(code[:1].upper())
    return UNKNOWN if found is None else found[0]


def _year_group_label(value: str) -> str:
    group = YearGroup(value)
    if group is YearGroup.R:
        return "Reception"
    if group in (YearGroup.N1, YearGroup.N2):
        return f"Nursery {value[1]}"
    return f"Year {value}"


@functools.cache
def group_values(dimension: str) -> tuple[tuple[str, str], ...]:
    """A key group's values in report order, with their labels."""
    return tuple(_group_values(dimension))


def _group_values(dimension: str) -> list[tuple[str, str]]:
    if dimension.startswith(CUSTOM_GROUP_PREFIX):
        name = dimension.removeprefix(CUSTOM_GROUP_PREFIX)
        return [(IN_GROUP, name), (NOT_IN_GROUP, f"Not {name}")]
    dim = Dimension(dimension)
    if dim in BOOLEAN_GROUPS or dim is Dimension.OUT_OF_YEAR:
        label = DIMENSION_LABELS[dim]
        # "Not pupil premium", but "Not EAL" and "Not FSM": acronyms keep their capitals.
        rest = label if label[1:2].isupper() else label[0].lower() + label[1:]
        found = [(YES, label), (NO, f"Not {rest}")]
        return found if dim is Dimension.OUT_OF_YEAR else [*found, (UNKNOWN, "Unknown")]
    if dim is Dimension.SEN_STATUS:
        labels = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}
        return [*((s.value, labels[s.value]) for s in SenStatus), (UNKNOWN, "Unknown")]
    if dim is Dimension.SEX:
        return [(Sex.FEMALE.value, "Female"), (Sex.MALE.value, "Male"), (UNKNOWN, "Unknown")]
    if dim is Dimension.ETHNICITY:
        seen: dict[str, str] = {}
        for code, label in ETHNIC_MAJOR_GROUPS.values():
            seen.setdefault(code, label)
        return [*seen.items(), (UNKNOWN, "Unknown")]
    if dim is Dimension.YEAR_GROUP:
        return [(g.value, _year_group_label(g.value)) for g in YearGroup]
    raise ValueError(f"{dimension} has open values")


DIMENSION_LABELS = {
    Dimension.SUBJECT: "Subject",
    Dimension.YEAR_GROUP: "Year group",
    Dimension.CLASS: "Class",
    Dimension.SCHOOL: "School",
    Dimension.PUPIL_PREMIUM: "Pupil premium",
    Dimension.FSM: "FSM",
    Dimension.SEN_STATUS: "SEN status",
    Dimension.EAL: "EAL",
    Dimension.SEX: "Sex",
    Dimension.LOOKED_AFTER: "Looked after",
    Dimension.ETHNICITY: "Ethnicity",
    Dimension.OUT_OF_YEAR: "Working within an earlier year's curriculum",
}


def dimension_label(dimension: str) -> str:
    if dimension.startswith(CUSTOM_GROUP_PREFIX):
        return dimension.removeprefix(CUSTOM_GROUP_PREFIX)
    return DIMENSION_LABELS[Dimension(dimension)]


def working_year_of(year_group: str) -> int:
    """The curriculum year a year group works within by default (the markbook's rule)."""
    return default_working_year(year_group)


# --- The definition ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricSpec:
    metric: Metric
    measures: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    from_point: int | None = None
    to_point: int | None = None
    label: str | None = None
    decimals: int | None = None

    @property
    def is_progress(self) -> bool:
        return self.metric in PROGRESS_METRICS


@dataclass(frozen=True, slots=True)
class PointSpec:
    """One of ``code``, ``relative`` (start/mid/end/latest) or ``as_at``."""

    code: str | None = None
    relative: RelativePoint | None = None
    as_at: date | None = None

    @property
    def label(self) -> str:
        if self.as_at is not None:
            return f"As at {self.as_at.isoformat()}"
        if self.relative is not None:
            return self.relative.value.capitalize()
        return str(self.code)


@dataclass(frozen=True, slots=True)
class Filter:
    dimension: str
    op: FilterOp
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttainmentRule:
    """A subject's rule for below / at / above: a measure (scale bands or number thresholds),
    or % secured of the year's curriculum (``secured_at`` <= % < ``secured_above`` is at)."""

    subject: str
    measure: str | None = None
    secured_at: Decimal | None = None
    secured_above: Decimal | None = None
    point: int | None = None


@dataclass(frozen=True, slots=True)
class ReportDefinition:
    metrics: tuple[MetricSpec, ...]
    dimensions: tuple[Dimension, ...]
    points: tuple[PointSpec, ...]
    groups: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    attainment: tuple[AttainmentRule, ...] = ()
    academic_year: int | None = None
    out_of_year: OutOfYear = OutOfYear.OWN_CATEGORY
    suppress_below: int | None = None
    title: str | None = None

    @property
    def measure_codes(self) -> set[str]:
        found = {m for spec in self.metrics for m in spec.measures}
        return found | {r.measure for r in self.attainment if r.measure is not None}

    @property
    def subject_codes(self) -> set[str]:
        found = {s for spec in self.metrics for s in spec.subjects}
        found |= {r.subject for r in self.attainment}
        for f in self.filters:
            if f.dimension == Dimension.SUBJECT:
                found |= set(f.values)
        return found

    @property
    def needs_categories(self) -> bool:
        return any(m.metric in CATEGORY_METRICS for m in self.metrics)

    @property
    def matrices(self) -> list[MetricSpec]:
        return [m for m in self.metrics if m.metric is Metric.PROGRESS_MATRIX]

    def progress_pair(self, spec: MetricSpec) -> tuple[int, int]:
        """The two points a progress metric compares: ``from`` and ``to``, by default the
        first and the last."""
        first = 0 if spec.from_point is None else spec.from_point
        last = len(self.points) - 1 if spec.to_point is None else spec.to_point
        return first, last

    def to_json(self) -> dict[str, Any]:
        """The definition as it reads back (what a template stores)."""

        def point(p: PointSpec) -> Any:
            if p.as_at is not None:
                return {"as_at": p.as_at.isoformat()}
            if p.relative is not None:
                return p.relative.value
            return {"code": p.code}

        def metric(m: MetricSpec) -> dict[str, Any]:
            found: dict[str, Any] = {"metric": m.metric.value}
            for name, value in (
                ("measures", list(m.measures)),
                ("subjects", list(m.subjects)),
                ("from", m.from_point),
                ("to", m.to_point),
                ("label", m.label),
                ("decimals", m.decimals),
            ):
                if value not in (None, []):
                    found[name] = value
            return found

        def rule(r: AttainmentRule) -> dict[str, Any]:
            found: dict[str, Any] = {"subject": r.subject}
            if r.measure is not None:
                found["measure"] = r.measure
            else:
                found["secured"] = {"at": float(r.secured_at or 0)}
                if r.secured_above is not None:
                    found["secured"]["above"] = float(r.secured_above)
            if r.point is not None:
                found["point"] = r.point
            return found

        found: dict[str, Any] = {
            "metrics": [metric(m) for m in self.metrics],
            "dimensions": [d.value for d in self.dimensions],
            "groups": list(self.groups),
            "points": [point(p) for p in self.points],
            "filters": [
                {"dimension": f.dimension, "op": f.op.value, "values": list(f.values)}
                for f in self.filters
            ],
            "attainment": [rule(r) for r in self.attainment],
            "out_of_year": self.out_of_year.value,
        }
        for name, value in (
            ("academic_year", self.academic_year),
            ("suppress_below", self.suppress_below),
            ("title", self.title),
        ):
            if value is not None:
                found[name] = value
        return found


def check_threshold(value: Any, *, field: str = "suppress_below") -> int:
    """A suppression threshold: a whole number, never below 3 (DfE statistics hide counts of
    1 and 2 at the least)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DefinitionError("must be a whole number", field=field)
    if value < MIN_THRESHOLD:
        raise DefinitionError(f"must be at least {MIN_THRESHOLD}", field=field)
    if value > 1000:
        raise DefinitionError("must be at most 1000", field=field)
    return value


def _fail(message: str, where: str) -> DefinitionError:
    return DefinitionError(message, field=where)


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail("must be an object", where)
    return raw


def _list(raw: Any, where: str, *, most: int, least: int = 0) -> list[Any]:
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple):
        raise _fail("must be a list", where)
    if len(raw) < least:
        raise _fail(f"give at least {least}", where)
    if len(raw) > most:
        raise _fail(f"at most {most} allowed", where)
    return list(raw)


def _name(raw: Any, where: str, *, most: int = 100) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail("must be a non-empty string", where)
    if len(raw) > most:
        raise _fail(f"at most {most} characters", where)
    return raw.strip()


def _unknown_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise _fail(f"unknown field {key!r}", f"{prefix}{key}")


def _index(raw: Any, where: str, points: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _fail("must be the position of a point in points (from 0)", where)
    if not 0 <= raw < points:
        raise _fail(f"no point {raw}: points has {points}", where)
    return raw


def _choice(enum: type[StrEnum], raw: Any, where: str, what: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        names = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
        raise _fail(f"unknown {what} {raw!r}: use one of {names}", where) from None


def _dimension_name(raw: Any, where: str) -> str:
    name = _name(raw, where, most=110)
    if name.startswith(CUSTOM_GROUP_PREFIX):
        _name(name.removeprefix(CUSTOM_GROUP_PREFIX), where)
        return CUSTOM_GROUP_PREFIX + name.removeprefix(CUSTOM_GROUP_PREFIX).strip()
    return _choice(Dimension, name, where, "dimension").value


_METRIC_KEYS = {"metric", "measures", "measure", "subjects", "from", "to", "label", "decimals"}


def _metric(raw: Any, where: str, points: int) -> MetricSpec:
    if isinstance(raw, str):
        raw = {"metric": raw}
    data = _mapping(raw, where)
    _unknown_keys(data, _METRIC_KEYS, where)
    metric = _choice(Metric, data.get("metric"), f"{where}.metric", "metric")
    measures: list[str] = []
    if metric in MEASURE_METRICS:
        if "measure" in data and "measures" in data:
            raise _fail("give measures or measure, not both", f"{where}.measure")
        listed = data["measures"] if "measures" in data else [data.get("measure")]
        key = "measures" if "measures" in data else "measure"
        if listed == [None]:
            raise _fail("name the measure(s) by code or id", f"{where}.measures")
        listed = _list(listed, f"{where}.{key}", most=20, least=1)
        measures = [_name(m, f"{where}.{key}.{i}") for i, m in enumerate(listed)]
        if len(set(measures)) != len(measures):
            raise _fail("a measure is named twice", f"{where}.{key}")
    elif "measures" in data or "measure" in data:
        raise _fail(f"{metric.value} takes no measure", f"{where}.measures")
    subjects: list[str] = []
    if metric is Metric.COMBINED_AT_OR_ABOVE:
        listed = _list(data.get("subjects"), f"{where}.subjects", most=10, least=2)
        subjects = [_name(s, f"{where}.subjects.{i}") for i, s in enumerate(listed)]
        if len(set(subjects)) != len(subjects):
            raise _fail("a subject is named twice", f"{where}.subjects")
    elif "subjects" in data:
        raise _fail(f"{metric.value} takes no subjects", f"{where}.subjects")
    from_point = to_point = None
    if metric in PROGRESS_METRICS:
        if points < 2:
            raise _fail(f"{metric.value} compares two points: give at least two", where)
        from_point = _index(data.get("from", 0), f"{where}.from", points)
        to_point = _index(data.get("to", points - 1), f"{where}.to", points)
        if from_point == to_point:
            raise _fail("from and to must be different points", f"{where}.to")
    elif "from" in data or "to" in data:
        raise _fail(f"{metric.value} is at each point: no from/to", f"{where}.from")
    label = None if data.get("label") is None else _name(data["label"], f"{where}.label")
    decimals = data.get("decimals")
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 4
    ):
        raise _fail("must be a whole number from 0 to 4", f"{where}.decimals")
    return MetricSpec(
        metric, tuple(measures), tuple(subjects), from_point, to_point, label, decimals
    )


_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")


def _point(raw: Any, where: str) -> PointSpec:
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in {r.value for r in RelativePoint}:
            return PointSpec(relative=RelativePoint(text.lower()))
        raw = {"code": text}
    data = _mapping(raw, where)
    _unknown_keys(data, {"code", "at", "as_at"}, where)
    if len(data) != 1:
        raise _fail("give one of code, at (start/mid/end/latest) or as_at", where)
    if "code" in data:
        if not isinstance(data["code"], str) or not _CODE.fullmatch(data["code"]):
            raise _fail(f"unknown point {data['code']!r}: not a point code", where)
        return PointSpec(code=data["code"])
    if "at" in data:
        return PointSpec(relative=_choice(RelativePoint, data["at"], f"{where}.at", "point"))
    try:
        day = date.fromisoformat(str(data["as_at"]))
    except ValueError:
        raise _fail("as_at must be a date, YYYY-MM-DD", f"{where}.as_at") from None
    return PointSpec(as_at=day)


def _filter_values(dimension: str, raw: list[Any], where: str) -> tuple[str, ...]:
    values = tuple(_name(v, f"{where}.{i}") for i, v in enumerate(raw))
    if dimension in {d.value for d in CROSSED if d is not Dimension.YEAR_GROUP}:
        return values  # open sets: subjects, schools and classes are matched by the engine
    if dimension == Dimension.YEAR_GROUP:
        try:
            return tuple(YearGroup.parse(v).value for v in values)
        except DomainError as exc:
            raise _fail(exc.message, where) from None
    allowed = {code for code, _ in group_values(dimension)}
    for index, value in enumerate(values):
        if value not in allowed:
            raise _fail(
                f"unknown value {value!r}: use one of {', '.join(sorted(allowed))}",
                f"{where}.{index}",
            )
    return values


def _percent(raw: Any, where: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _fail("must be a percentage, 0-100", where)
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        raise _fail("must be a percentage, 0-100", where) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise _fail("must be a percentage, 0-100", where)
    return value


def _rule(raw: Any, where: str, points: int) -> AttainmentRule:
    data = _mapping(raw, where)
    _unknown_keys(data, {"subject", "measure", "secured", "point"}, where)
    subject = _name(data.get("subject"), f"{where}.subject")
    point = None if data.get("point") is None else _index(data["point"], f"{where}.point", points)
    if ("measure" in data) == ("secured" in data):
        raise _fail("give a measure or secured thresholds (one of them)", where)
    if "measure" in data:
        return AttainmentRule(
            subject, measure=_name(data["measure"], f"{where}.measure"), point=point
        )
    secured = _mapping(data["secured"], f"{where}.secured")
    _unknown_keys(secured, {"at", "above"}, f"{where}.secured")
    at = _percent(secured.get("at"), f"{where}.secured.at")
    above = None
    if secured.get("above") is not None:
        above = _percent(secured["above"], f"{where}.secured.above")
        if above <= at:
            raise _fail("must be above at", f"{where}.secured.above")
    return AttainmentRule(subject, secured_at=at, secured_above=above, point=point)


_TOP_KEYS = {
    "title",
    "metrics",
    "dimensions",
    "groups",
    "points",
    "academic_year",
    "filters",
    "attainment",
    "out_of_year",
    "suppress_below",
}


def parse_definition(raw: Any) -> ReportDefinition:
    """Read and check a report definition (plain JSON data). Refusals are DefinitionErrors
    naming the field: an unknown metric, dimension or point, a threshold below 3, a progress
    figure with one point, a measure metric with no measure, too many columns."""
    data = _mapping(raw, "")
    _unknown_keys(data, _TOP_KEYS, "")
    title = None if data.get("title") is None else _name(data["title"], "title", most=200)
    points_raw = _list(data.get("points"), "points", most=MAX_POINTS, least=1)
    points = tuple(_point(p, f"points.{i}") for i, p in enumerate(points_raw))
    if sum(p.as_at is not None for p in points) and len(set(points)) != len(points):
        raise _fail("a date is given twice", "points")
    metrics_raw = _list(data.get("metrics"), "metrics", most=MAX_METRICS, least=1)
    metrics = tuple(_metric(m, f"metrics.{i}", len(points)) for i, m in enumerate(metrics_raw))

    dimensions_raw = _list(data.get("dimensions"), "dimensions", most=len(CROSSED))
    dimensions: list[Dimension] = []
    for index, raw_dim in enumerate(dimensions_raw):
        where = f"dimensions.{index}"
        dim = Dimension(_dimension_name(raw_dim, where)) if isinstance(raw_dim, str) else None
        if dim is None or dim not in CROSSED:
            raise _fail(
                f"rows are crossed by {', '.join(d.value for d in CROSSED)}; key groups go in "
                "groups",
                where,
            )
        if dim in dimensions:
            raise _fail(f"{dim.value} is given twice", where)
        dimensions.append(dim)
    groups_raw = _list(data.get("groups"), "groups", most=MAX_GROUPS)
    groups: list[str] = []
    for index, raw_group in enumerate(groups_raw):
        where = f"groups.{index}"
        name = _dimension_name(raw_group, where)
        if name in {d.value for d in CROSSED}:
            raise _fail(f"{name} is a dimension (rows), not a key group", where)
        if name in groups:
            raise _fail(f"{name} is given twice", where)
        groups.append(name)

    filters: list[Filter] = []
    for index, raw_filter in enumerate(_list(data.get("filters"), "filters", most=20)):
        where = f"filters.{index}"
        item = _mapping(raw_filter, where)
        _unknown_keys(item, {"dimension", "op", "values"}, where)
        dimension = _dimension_name(item.get("dimension"), f"{where}.dimension")
        op = _choice(FilterOp, item.get("op", "in"), f"{where}.op", "op")
        values_raw = _list(item.get("values"), f"{where}.values", most=MAX_FILTER_VALUES, least=1)
        filters.append(
            Filter(dimension, op, _filter_values(dimension, values_raw, f"{where}.values"))
        )

    rules_raw = _list(data.get("attainment"), "attainment", most=60)
    rules = tuple(_rule(r, f"attainment.{i}", len(points)) for i, r in enumerate(rules_raw))
    seen: dict[tuple[str, int | None], int] = {}
    for index, rule in enumerate(rules):
        key = (rule.subject, rule.point)
        if key in seen:
            raise _fail(f"subject {rule.subject} already has a rule here", f"attainment.{index}")
        seen[key] = index

    academic_year = data.get("academic_year")
    if academic_year is not None and (
        isinstance(academic_year, bool)
        or not isinstance(academic_year, int)
        or not 2000 <= academic_year <= 2099
    ):
        raise _fail("must be a start year, e.g. 2025 for 2025/26", "academic_year")
    out_of_year = _choice(
        OutOfYear, data.get("out_of_year", OutOfYear.OWN_CATEGORY), "out_of_year", "choice"
    )
    suppress_below = data.get("suppress_below")
    if suppress_below is not None:
        suppress_below = check_threshold(suppress_below)

    definition = ReportDefinition(
        metrics=metrics,
        dimensions=tuple(dimensions),
        points=points,
        groups=tuple(groups),
        filters=tuple(filters),
        attainment=rules,
        academic_year=academic_year,
        out_of_year=out_of_year,
        suppress_below=suppress_below,
        title=title,
    )
    _check_whole(definition)
    return definition


def _check_whole(definition: ReportDefinition) -> None:
    subject_filter = [
        f for f in definition.filters if f.dimension == Dimension.SUBJECT and f.op is FilterOp.IN
    ]
    if Dimension.SUBJECT not in definition.dimensions and not (
        subject_filter and len(subject_filter[0].values) == 1
    ):
        raise _fail("add subject, or filter subject to one subject", "dimensions")
    for index, spec in enumerate(definition.metrics):
        where = f"metrics.{index}"
        if (
            spec.metric in MEASURE_METRICS
            and Dimension.SUBJECT not in definition.dimensions
            and len(spec.measures) > 1
        ):
            raise _fail("without the subject dimension, name one measure", f"{where}.measures")
        if spec.metric in MEASURE_METRICS:
            for point_index, point in enumerate(definition.points):
                if point.as_at is not None:
                    raise _fail(
                        "measure values belong to assessment points, not dates: "
                        f"{spec.metric.value} cannot be read as at a date",
                        f"points.{point_index}",
                    )
        if spec.metric in CATEGORY_METRICS and not definition.attainment:
            raise _fail(f"{spec.metric.value} needs attainment rules", "attainment")
    for index, point in enumerate(definition.points):
        if point.as_at is not None and any(r.measure is not None for r in definition.attainment):
            raise _fail(
                "attainment by a measure cannot be read as at a date: use secured thresholds",
                f"points.{index}",
            )
    columns = len(plan_columns(definition))
    if columns > MAX_COLUMNS:
        raise _fail(f"{columns} columns: at most {MAX_COLUMNS}", "metrics")


def check_size(definition: ReportDefinition, sizes: Mapping[str, int]) -> None:
    """Refuse a report whose rows x columns would pass ``MAX_CELLS``, before running it:
    ``sizes`` gives how many values each crossed dimension may take."""
    rows = 1
    for dim in definition.dimensions:
        rows *= max(1, sizes.get(dim.value, 1)) + (0 if dim is Dimension.SUBJECT else 1)
    per_row = 1 + sum(len(group_values(g)) for g in definition.groups)
    cells = rows * per_row * len(plan_columns(definition))
    if cells > MAX_CELLS:
        raise DefinitionError(
            f"about {cells:,} cells: at most {MAX_CELLS:,}; filter or remove a dimension",
            field="dimensions",
        )


# --- Categories -----------------------------------------------------------------------------
def band_from_secured(
    percent: Decimal | float | None, at: Decimal, above: Decimal | None
) -> Category:
    """By % secured of the year's curriculum: from ``at`` at, from ``above`` above."""
    if percent is None:
        return Category.NOT_ASSESSED
    if above is not None and percent >= above:
        return Category.ABOVE
    return Category.AT if percent >= at else Category.BELOW


def band_from_number(
    value: Decimal | float | None, expected: Decimal | None, above: Decimal | None
) -> Category:
    """By a number measure's thresholds (KS2 scaled score: 100 at, 110 above)."""
    if value is None or expected is None:
        return Category.NOT_ASSESSED
    if above is not None and value >= above:
        return Category.ABOVE
    return Category.AT if value >= expected else Category.BELOW


def band_from_descriptor(band: str | None) -> Category:
    """By a scale measure's descriptor band; a descriptor with no band is not a judgement of
    attainment."""
    return {"below": Category.BELOW, "at": Category.AT, "above": Category.ABOVE}.get(
        band or "", Category.NOT_ASSESSED
    )


def categorise(by_rule: Category, *, earlier_curriculum: bool, out_of_year: OutOfYear) -> Category:
    """A pupil's category: the rule's, except that a pupil working within an earlier year's
    curriculum forms their own category unless the school chose to place them by their
    working curriculum. Never an automatic "below"."""
    if earlier_curriculum and out_of_year is OutOfYear.OWN_CATEGORY:
        return Category.EARLIER_CURRICULUM
    return by_rule


def movement(before: Category, after: Category) -> Movement:
    """Up, same or down between two points; only below / at / above compare."""
    if before not in _RANKED or after not in _RANKED:
        return Movement.NOT_COMPARABLE
    change = _RANKED[after] - _RANKED[before]
    return Movement.UP if change > 0 else Movement.DOWN if change < 0 else Movement.SAME


def curriculum_position(working_year: int, percent_secured_of_year: float) -> float:
    """Where a pupil is within the curriculum, in percentage points: 100 per year, plus the
    % of their working year secured. Progress is a change in this."""
    return 100.0 * working_year + percent_secured_of_year


# --- Columns --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    unit: str
    decimals: int
    metric: Metric
    point: int  # the point it is at (progress: the ``to`` point)
    slot: int  # which metric of the definition
    part: str | None = None  # a category or movement, for distributions
    percent: bool = False  # a distribution's %: else its count

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "decimals": self.decimals,
            "metric": self.metric.value,
            "point": self.point,
            "category": self.part,
        }


_METRIC_LABELS = {
    Metric.PUPILS: ("Pupils", "pupils", 0),
    Metric.DEPTH_SCORE: ("Depth score", "score", 2),
    Metric.PERCENT_SECURED: ("% secured of those assessed", "%", 1),
    Metric.PERCENT_SECURED_OF_YEAR: ("% secured of the year's curriculum", "%", 1),
    Metric.OBJECTIVES_JUDGED: ("Objectives judged", "objectives", 1),
    Metric.PERCENT_AT_OR_ABOVE: ("% at or above", "%", 1),
    Metric.MEASURE_MEAN: ("Mean", "value", 1),
    Metric.MEASURE_MEDIAN: ("Median", "value", 1),
    Metric.MEASURE_MIN: ("Lowest", "value", 0),
    Metric.MEASURE_MAX: ("Highest", "value", 0),
    Metric.MEASURE_COUNT: ("Values", "pupils", 0),
    Metric.MEASURE_PERCENT_EXPECTED: ("% expected or above", "%", 1),
    Metric.MEASURE_PERCENT_ABOVE: ("% above", "%", 1),
    Metric.COMBINED_AT_OR_ABOVE: ("% at or above in", "%", 1),
    Metric.PROGRESS_DEPTH_SCORE: ("Change in depth score", "score", 2),
    Metric.PROGRESS_PERCENT_SECURED: ("Change in curriculum secured", "percentage points", 1),
    Metric.PROGRESS_MEASURE: ("Change in", "value", 1),
}


def plan_columns(
    definition: ReportDefinition,
    point_labels: Sequence[str] | None = None,
    measure_labels: Mapping[str, str] | None = None,
) -> list[Column]:
    """The table's columns: each metric at each point (a progress metric once, at its ``to``
    point; a distribution once per category, as a count and a %). The progress matrix is a
    section of its own and has no column here."""
    labels = list(point_labels or [p.label for p in definition.points])
    measure_labels = measure_labels or {}
    columns: list[Column] = []
    for slot, spec in enumerate(definition.metrics):
        if spec.metric is Metric.PROGRESS_MATRIX:
            continue
        if spec.is_progress:
            first, last = definition.progress_pair(spec)
            at_points = [(last, f"{labels[first]} to {labels[last]}")]
        else:
            at_points = list(enumerate(labels))
        for point, point_label in at_points:
            key = f"{slot}.{spec.metric.value}.{point}"
            if spec.metric in (Metric.ATTAINMENT, Metric.CATEGORY_MOVEMENT):
                parts = CATEGORY_LABELS if spec.metric is Metric.ATTAINMENT else MOVEMENT_LABELS
                for part, part_label in parts.items():
                    for percent in (False, True):
                        columns.append(
                            Column(
                                key=f"{key}.{part.value}{'.percent' if percent else ''}",
                                label=f"{'% ' if percent else ''}{part_label} ({point_label})",
                                unit="%" if percent else "pupils",
                                decimals=1 if percent else 0,
                                metric=spec.metric,
                                point=point,
                                slot=slot,
                                part=part.value,
                                percent=percent,
                            )
                        )
                continue
            name, unit, decimals = _METRIC_LABELS[spec.metric]
            if spec.metric is Metric.COMBINED_AT_OR_ABOVE:
                name = f"{name} {' + '.join(spec.subjects)}"
            elif spec.metric in MEASURE_METRICS:
                measures = ", ".join(measure_labels.get(m, m) for m in spec.measures)
                name = (
                    f"{name} {measures}"
                    if spec.metric is Metric.PROGRESS_MEASURE
                    else (f"{name}: {measures}")
                )
            columns.append(
                Column(
                    key=key,
                    label=f"{spec.label or name} ({point_label})",
                    unit=unit,
                    decimals=decimals if spec.decimals is None else spec.decimals,
                    metric=spec.metric,
                    point=point,
                    slot=slot,
                    percent=unit == "%",
                )
            )
    return columns


# --- Aggregates to figures --------------------------------------------------------------------
# The engine hands each row's aggregates at each point as a mapping of names (see
# ``aggregate_names``) to numbers; ``figure`` turns them into a cell.
_SUMMARY_TOPS = {
    Metric.DEPTH_SCORE: ("depth_sum",),
    Metric.PERCENT_SECURED: ("secured_sum",),
    Metric.OBJECTIVES_JUDGED: ("judged_sum",),
    Metric.PERCENT_SECURED_OF_YEAR: ("year_n", "year_sum"),
}
_MEASURE_STATS = {
    Metric.MEASURE_MEAN: ("sum",),
    Metric.MEASURE_MEDIAN: ("median",),
    Metric.MEASURE_MIN: ("min",),
    Metric.MEASURE_MAX: ("max",),
}


def metric_aggregates(spec: MetricSpec, slot: int) -> list[str]:
    """The aggregates a metric's cells (``figure``) and their suppression
    (``relations_of_row``) read, as the engine's SQL names them."""
    m = spec.metric
    if m is Metric.PUPILS:
        return ["pupils"]
    if m in SUMMARY_METRICS:
        return ["assessed", "year_n", *_SUMMARY_TOPS[m]]
    if m in (Metric.ATTAINMENT, Metric.PERCENT_AT_OR_ABOVE, Metric.PROGRESS_MATRIX):
        # A matrix's sums are the table's attainment counts at its two points.
        return [f"cat_{c.value}" for c in Category]
    if m in MEASURE_METRICS and m is not Metric.PROGRESS_MEASURE:
        stats = ("n", "ref", "exp", "abv", *_MEASURE_STATS.get(m, ()))
        return [f"m{slot}_{s}" for s in stats]
    if m is Metric.COMBINED_AT_OR_ABOVE:
        return [f"comb{slot}"]
    if m is Metric.CATEGORY_MOVEMENT:
        return [f"mv{slot}_{mv.value}" for mv in Movement]
    if m in PROGRESS_METRICS:
        return [f"p{slot}_n", f"p{slot}_sum"]
    return []


def aggregate_names(definition: ReportDefinition) -> frozenset[str]:
    """Every aggregate a report's table needs: its pupils, and each metric's."""
    return frozenset(
        ["pupils"]
        + [n for slot, spec in enumerate(definition.metrics) for n in metric_aggregates(spec, slot)]
    )


class Figure(NamedTuple):
    """A cell before suppression: its value, the pupils it counts (n), and the counts of
    pupils a reader learns from it (named, so that suppression can follow them)."""

    value: float | None
    n: int
    reveals: tuple[str, ...] = ()


def _num(found: Mapping[str, Any], name: str) -> float:
    value = found.get(name)
    return 0.0 if value is None else float(value)


def _int(found: Mapping[str, Any], name: str) -> int:
    value = found.get(name)
    return 0 if value is None else int(value)


def _ratio(top: float, bottom: float, scale: float = 1.0) -> float | None:
    return None if not bottom else scale * top / bottom


# Each category's count, as the engine's SQL names it (figure reads them for every cell).
_CATEGORY_COUNTS = tuple(f"cat_{c.value}" for c in Category)


Reader = Callable[[Mapping[str, Any]], Figure]


def figure_reader(column: Column, spec: MetricSpec) -> Reader:
    """How a column's cells are figured from their row's aggregates at the column's point
    (see the module docstring for what each means): worked out once per column, then asked of
    every row."""
    m, slot = spec.metric, column.slot
    if m is Metric.PUPILS:

        def pupils(found: Mapping[str, Any]) -> Figure:
            n = _int(found, "pupils")
            return Figure(float(n), n, ("pupils",))

        return pupils
    if m is Metric.PERCENT_SECURED_OF_YEAR:

        def of_year(found: Mapping[str, Any]) -> Figure:
            n = _int(found, "year_n")
            return Figure(_ratio(_num(found, "year_sum"), n, 100.0), n, ("year_n",))

        return of_year
    if m in SUMMARY_METRICS:
        top = {
            Metric.DEPTH_SCORE: "depth_sum",
            Metric.PERCENT_SECURED: "secured_sum",
            Metric.OBJECTIVES_JUDGED: "judged_sum",
        }[m]
        scale = 100.0 if m is Metric.PERCENT_SECURED else 1.0

        def summary(found: Mapping[str, Any]) -> Figure:
            assessed = _int(found, "assessed")
            return Figure(_ratio(_num(found, top), assessed, scale), assessed, ("assessed",))

        return summary
    if m in (Metric.ATTAINMENT, Metric.PERCENT_AT_OR_ABOVE):
        read = _category_reader(m, column)

        def attainment(found: Mapping[str, Any]) -> Figure:
            if _int(found, "pupils") and not any(found.get(c) for c in _CATEGORY_COUNTS):
                return Figure(None, 0)  # the subject has no attainment rule
            return read(found)

        return attainment
    if m is Metric.CATEGORY_MOVEMENT:
        return _category_reader(m, column)
    if m is Metric.COMBINED_AT_OR_ABOVE:
        name = f"comb{slot}"

        def combined(found: Mapping[str, Any]) -> Figure:
            pupils = _int(found, "pupils")
            return Figure(_ratio(_int(found, name), pupils, 100.0), pupils, (name, "pupils"))

        return combined
    if m in MEASURE_METRICS and m is not Metric.PROGRESS_MEASURE:
        return _measure_reader(m, slot)
    # progress: depth score, % secured, a measure
    n_name, sum_name = f"p{slot}_n", f"p{slot}_sum"

    def progress(found: Mapping[str, Any]) -> Figure:
        n = _int(found, n_name)
        return Figure(_ratio(_num(found, sum_name), n), n, (n_name,))

    return progress


def _category_reader(m: Metric, column: Column) -> Reader:
    """Attainment (a category's count or %), % at or above, or a category movement."""
    if m is Metric.PERCENT_AT_OR_ABOVE:

        def at_or_above(found: Mapping[str, Any]) -> Figure:
            pupils = _int(found, "pupils")
            count = _int(found, "cat_at") + _int(found, "cat_above")
            return Figure(_ratio(count, pupils, 100.0), pupils, ("at_or_above", "pupils"))

        return at_or_above
    prefix = "cat_" if m is Metric.ATTAINMENT else f"mv{column.slot}_"
    name = f"{prefix}{column.part}"
    percent = column.percent

    def category(found: Mapping[str, Any]) -> Figure:
        pupils = _int(found, "pupils")
        count = _int(found, name)
        value = _ratio(count, pupils, 100.0) if percent else float(count)
        return Figure(value, pupils, (name, "pupils"))

    return category


def _measure_reader(m: Metric, slot: int) -> Reader:
    """A measure's statistic over the values of the row's measure at the point."""
    n_name = f"m{slot}_n"
    reveals: tuple[str, ...] = (n_name,)
    if m is Metric.MEASURE_COUNT:

        def count(found: Mapping[str, Any]) -> Figure:
            n = _int(found, n_name)
            return Figure(float(n), n, reveals)

        return count
    if m in (Metric.MEASURE_PERCENT_EXPECTED, Metric.MEASURE_PERCENT_ABOVE):
        ref_name = f"m{slot}_ref"  # pupils with a value the thresholds apply to
        name = f"m{slot}_{'exp' if m is Metric.MEASURE_PERCENT_EXPECTED else 'abv'}"

        def reaching(found: Mapping[str, Any]) -> Figure:
            ref = _int(found, ref_name)
            return Figure(_ratio(_int(found, name), ref, 100.0), ref, (ref_name, name))

        return reaching
    if m is Metric.MEASURE_MEAN:
        sum_name = f"m{slot}_sum"

        def mean(found: Mapping[str, Any]) -> Figure:
            n = _int(found, n_name)
            return Figure(_ratio(_num(found, sum_name), n), n, reveals)

        return mean
    stat = {
        Metric.MEASURE_MEDIAN: "median",
        Metric.MEASURE_MIN: "min",
        Metric.MEASURE_MAX: "max",
    }[m]
    stat_name = f"m{slot}_{stat}"

    def statistic(found: Mapping[str, Any]) -> Figure:
        n = _int(found, n_name)
        raw = found.get(stat_name)
        return Figure(None if raw is None or not n else float(raw), n, reveals)

    return statistic


@functools.lru_cache(maxsize=64)  # asked for every row of a report: the definition's alone
def relations_of_row(definition: ReportDefinition) -> list[tuple[str, tuple[str, ...]]]:
    """How a row's counts add up, as (total, members): a distribution's categories make its
    pupils; at-or-above is at plus above; a figure's pupils are some of the row's pupils
    (the rest, named ``~...``, are never shown but are a count too)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    names: set[str] = set()
    for slot, spec in enumerate(definition.metrics):
        m = spec.metric
        if m in (Metric.ATTAINMENT, Metric.PERCENT_AT_OR_ABOVE):
            found.append(("pupils", tuple(f"cat_{c.value}" for c in Category)))
            found.append(("at_or_above", ("cat_at", "cat_above")))
            found.append(("pupils", ("at_or_above", "~at_or_above")))
        elif m is Metric.CATEGORY_MOVEMENT:
            found.append(("pupils", tuple(f"mv{slot}_{mv.value}" for mv in Movement)))
        elif m is Metric.COMBINED_AT_OR_ABOVE:
            names.add(f"comb{slot}")
        elif m in SUMMARY_METRICS:
            names.update(["assessed", "year_n"])
        elif m in MEASURE_METRICS and m is not Metric.PROGRESS_MEASURE:
            names.update([f"m{slot}_n", f"m{slot}_ref"])
            found.append((f"m{slot}_ref", (f"m{slot}_exp", f"~m{slot}_exp")))
            found.append((f"m{slot}_ref", (f"m{slot}_abv", f"~m{slot}_abv")))
            found.append((f"m{slot}_n", (f"m{slot}_ref", f"~m{slot}_ref")))
        elif m in PROGRESS_METRICS and m is not Metric.PROGRESS_MATRIX:
            names.add(f"p{slot}_n")
    found.extend(("pupils", (name, f"~{name}")) for name in sorted(names))
    return list(dict.fromkeys(found))


def derived_counts(definition: ReportDefinition, found: Mapping[str, Any]) -> dict[str, int]:
    """A row's counts by name (those in ``relations_of_row`` and the cells' ``reveals``),
    the hidden remainders ``~x`` included."""
    counts: dict[str, int] = {"pupils": _int(found, "pupils")}
    for name, value in found.items():
        if isinstance(value, int) and not isinstance(value, bool):
            counts.setdefault(name, value)
    counts["at_or_above"] = _int(found, "cat_at") + _int(found, "cat_above")
    for total, members in relations_of_row(definition):
        for member in members:
            if member.startswith("~"):
                shown = members[0]
                counts[member] = max(0, _int(counts, total) - _int(counts, shown))
            else:
                counts.setdefault(member, _int(found, member))
    return counts


# --- Suppression ----------------------------------------------------------------------------
Quantity = Hashable


@dataclass
class Disclosure:
    """Counts (quantities) with their values, the sums they make (total, members), and which
    quantities each cell reveals. ``~``-named quantities are never shown."""

    values: dict[Quantity, int] = field(default_factory=dict)
    relations: list[tuple[Quantity, tuple[Quantity, ...]]] = field(default_factory=list)
    cells: dict[Hashable, tuple[Quantity, ...]] = field(default_factory=dict)


def suppress(disclosure: Disclosure, threshold: int) -> set[Hashable]:
    """The cells to hide so that no count of 1 to ``threshold``-1 pupils is shown or can be
    worked out by subtraction.

    Primary: every cell revealing such a count. Secondary, repeated until nothing changes:
    whatever can be worked out from the cells still shown (a sum's last unknown member, or a
    sum's total from its members, and so on in a chain) must not be such a count, and in
    each sum whose total is known the members not known must add up to 0 or at least the
    threshold. Where one would, the smallest count above zero that the working-out used is
    hidden too (a shown one; a worked-out one is traced back to the shown counts it came
    from).
    """
    # The working-out is repeated over every count many times: the counts are numbered once
    # (in the order first met, so every choice below is made in the same order as by name).
    numbers: dict[Quantity, int] = {}

    def numbered(q: Quantity) -> int:
        found = numbers.get(q)
        if found is None:
            found = numbers[q] = len(numbers)
        return found

    values = {numbered(q): v for q, v in disclosure.values.items()}
    relations = [
        (numbered(total), tuple(numbered(m) for m in members))
        for total, members in disclosure.relations
    ]
    cells = {
        cell: tuple(numbered(r) for r in reveals) for cell, reveals in disclosure.cells.items()
    }
    index: dict[int, list[int]] = defaultdict(list)
    for number, (total, members) in enumerate(relations):
        index[total].append(number)
        for member in members:
            index[member].append(number)
    hidden: set[int] = {q for q, v in values.items() if 0 < v < threshold}

    def small(q: int) -> bool:
        return 0 < values.get(q, 0) < threshold

    while True:
        direct = {
            q
            for reveals in cells.values()
            if not any(r in hidden for r in reveals)
            for q in reveals
        }
        provenance = _closure(direct, relations, index)

        chosen: set[int] = set()
        for q in values:
            if q in provenance and small(q):
                found = _trace(q, {q}, provenance, direct, relations, values)
                if found is not None:
                    chosen.add(found)
        for total, members in relations:
            if total not in provenance:
                continue
            unknown = [m for m in members if m not in provenance]
            if not 0 < sum(values.get(m, 0) for m in unknown) < threshold:
                continue
            shown = [m for m in members if m in direct and values.get(m, 0) > 0]
            found = min(shown, key=lambda m: values.get(m, 0), default=None)
            if found is None:
                found = _trace(total, {total}, provenance, direct, relations, values)
            if found is not None:
                chosen.add(found)
        chosen -= hidden
        if not chosen:
            break
        hidden |= chosen
    return {cell for cell, reveals in cells.items() if any(r in hidden for r in reveals)}


def _trace(
    q: int,
    seen: set[int],
    provenance: Mapping[int, int | None],
    direct: set[int],
    relations: Sequence[tuple[int, tuple[int, ...]]],
    values: Mapping[int, int],
) -> int | None:
    """A shown count to hide so that ``q`` can no longer be worked out: the smallest count
    above zero in the sum ``q`` came from, traced back while it is itself worked out."""
    number = provenance.get(q)
    if number is None:
        return q if q in direct else None
    total, members = relations[number]
    parts = [m for m in members if m != q]
    if total != q:
        parts.append(total)
    candidates = sorted(
        (p for p in parts if p in provenance and values.get(p, 0) > 0 and p not in seen),
        key=lambda p: (p == total, values.get(p, 0)),
    )
    for part in candidates:
        found = _trace(part, seen | {part}, provenance, direct, relations, values)
        if found is not None:
            return found
    return None


def _closure(
    known: set[int],
    relations: Sequence[tuple[int, tuple[int, ...]]],
    index: Mapping[int, list[int]],
) -> dict[int, int | None]:
    """What can be worked out from the counts shown, with how: a sum's last unknown member
    (total minus the others), or its total (the members added up). Shown counts map to None,
    worked-out ones to the sum they came from."""
    found: dict[int, int | None] = dict.fromkeys(known)
    queue = list(range(len(relations)))
    while queue:
        number = queue.pop()
        total, members = relations[number]
        new = None
        if total in found:
            missing = [m for m in members if m not in found]
            if len(missing) == 1:
                new = missing[0]
        elif all(m in found for m in members):
            new = total
        if new is not None and new not in found:
            found[new] = number
            queue.extend(index.get(new, ()))
    return found


# --- The table --------------------------------------------------------------------------------
# Cells, figures and row keys are tuples: a report makes thousands of each, and its
# suppression hashes the row keys many times over.
class Cell(NamedTuple):
    value: float | None
    n: int | None
    suppressed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "n": self.n, "suppressed": self.suppressed}


class RowKey(NamedTuple):
    """A row: the value of each crossed dimension (None: all of them), and a key group with
    its value (both None: all pupils)."""

    crossed: tuple[str | None, ...]
    group: str | None = None
    group_value: str | None = None


@dataclass
class Row:
    key: RowKey
    keys: dict[str, str | None]  # dimension -> value (None: all)
    labels: dict[str, str]  # dimension -> label
    cells: list[Cell]
    pupil_ids: dict[str, list[uuid.UUID]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": self.keys,
            "labels": self.labels,
            "cells": [c.to_json() for c in self.cells],
        }


@dataclass
class Section:
    name: str
    title: str
    columns: list[Column]
    rows: list[Row]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [c.to_json() for c in self.columns],
            "rows": [r.to_json() for r in self.rows],
        }


@dataclass
class ReportTable:
    """A report's answer: sections (the main table, and a progress matrix per matrix metric),
    each with columns and rows of cells {value, n, suppressed}."""

    title: str
    sections: list[Section]
    suppress_below: int | None
    points: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    # Below / at / above as the school colours them (app.domain.colours), for the charts.
    colours: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "suppress_below": self.suppress_below,
            "points": self.points,
            "sections": [s.to_json() for s in self.sections],
            "notes": self.notes,
        }


SUPPRESSION_NOTE = (
    "c: suppressed, fewer than {threshold} pupils, or a figure from which such a count could "
    "be worked out."
)


def _rounded(value: float | None, decimals: int) -> float | int | None:
    if value is None or math.isnan(value):
        return None
    if decimals == 0:
        return round(value)
    return round(value, decimals)


_NOTHING: Mapping[str, Any] = {}


def build_section(
    definition: ReportDefinition,
    columns: Sequence[Column],
    rows: Sequence[tuple[RowKey, dict[str, str | None], dict[str, str]]],
    aggregates: Mapping[tuple[RowKey, int], Mapping[str, Any]],
    *,
    name: str = "main",
    title: str = "",
    disclose: bool = True,
) -> tuple[Section, Disclosure]:
    """The main section's rows of cells from the aggregates of each (row, point), and what
    they disclose (for ``suppress``): each row's own sums, plus how group rows add up to their
    "All pupils" row and how a dimension's rows add up to its "All" row. ``disclose=False``
    (a viewer from whom nothing is hidden) leaves the disclosure empty."""
    disclosure = Disclosure()
    built: list[Row] = []
    relations = relations_of_row(definition)
    points = sorted({c.point for c in columns})
    readers = [
        (
            index,
            column.point,
            column.decimals,
            figure_reader(column, definition.metrics[column.slot]),
        )
        for index, column in enumerate(columns)
    ]
    for key, keys, labels in rows:
        cells: list[Cell] = []
        for index, point, decimals, read in readers:
            fig = read(aggregates.get((key, point), _NOTHING))
            cells.append(Cell(_rounded(fig.value, decimals), fig.n))
            if disclose:
                disclosure.cells[(key, index)] = tuple((key, point, r) for r in fig.reveals)
        built.append(Row(key, keys, labels, cells))
        if not disclose:
            continue
        for point in points:
            counts = derived_counts(definition, aggregates.get((key, point), {}))
            for count_name, value in counts.items():
                disclosure.values[(key, point, count_name)] = value
            for total, members in relations:
                disclosure.relations.append(
                    ((key, point, total), tuple((key, point, m) for m in members))
                )
    if disclose:
        _add_row_relations(disclosure, [r.key for r in built], points)
    return Section(name, title, list(columns), built), disclosure


def _add_row_relations(
    disclosure: Disclosure,
    keys: Sequence[RowKey],
    points: Sequence[int],
    names: Iterable[str] | None = None,
) -> None:
    """Group rows add up to their "All pupils" row; a crossed dimension's rows add up to its
    "All" row (with the other dimensions and the group the same). ``names``: only these
    counts (default: every count not named ``~...``)."""
    if names is None:
        names = {q[2] for q in disclosure.values if not str(q[2]).startswith("~")}
    names = sorted(set(names))
    present = set(keys)
    families: dict[tuple[Any, ...], list[RowKey]] = defaultdict(list)
    for key in keys:
        if key.group is not None:
            families[("group", key.crossed, key.group)].append(key)
        for position, value in enumerate(key.crossed):
            if value is None:
                continue
            parent = (*key.crossed[:position], None, *key.crossed[position + 1 :])
            families[("dim", parent, position, key.group, key.group_value)].append(key)
    for family, members in families.items():
        if family[0] == "group":
            total = RowKey(family[1])
        else:
            total = RowKey(family[1], family[3], family[4])
        if total not in present:
            continue
        for point in points:
            for count_name in names:
                if (total, point, count_name) not in disclosure.values:
                    continue
                disclosure.relations.append(
                    (
                        (total, point, count_name),
                        tuple((m, point, count_name) for m in members),
                    )
                )


def _cell_id(section: Section, row: Row, index: int) -> Hashable:
    """A cell's name in a Disclosure: the main table's by row and column, a matrix's also by
    its section and its "from" category (its rows share the main table's row keys)."""
    if section.name == "main":
        return (row.key, index)
    return (section.name, row.key, row.keys.get("from"), index)


def apply_suppression(
    sections: Section | Sequence[Section], disclosure: Disclosure, threshold: int | None
) -> Section | list[Section]:
    """Hide (value and n null, suppressed true) the cells ``suppress`` chooses, over every
    section of one report together (the main table and its progress matrices are one
    system: what one hides, another must not give away)."""
    several = not isinstance(sections, Section)
    found = list(sections) if several else [sections]
    if threshold is not None:
        hidden = suppress(disclosure, threshold)
        for section in found:
            for row in section.rows:
                row.cells = [
                    Cell(None, None, True) if _cell_id(section, row, index) in hidden else cell
                    for index, cell in enumerate(row.cells)
                ]
    return found if several else found[0]


def matrix_columns(spec: MetricSpec, slot: int, from_label: str, to_label: str) -> list[Column]:
    """A progress matrix's columns: one per category at ``to``."""
    return [
        Column(
            key=f"{slot}.matrix.{c.value}",
            label=f"{CATEGORY_LABELS[c]} ({to_label})",
            unit="pupils",
            decimals=0,
            metric=Metric.PROGRESS_MATRIX,
            point=spec.to_point or 0,
            slot=slot,
            part=c.value,
        )
        for c in Category
    ]


def matrix_name(slot: int, before: Category | str, after: Category | str) -> str:
    """The count of pupils in a progress matrix's cell, as a Disclosure names it."""
    return f"mx{slot}:{Category(before).value}:{Category(after).value}"


def build_matrix(
    spec: MetricSpec,
    slot: int,
    labels: tuple[str, str],
    rows: Sequence[tuple[RowKey, dict[str, str | None], dict[str, str]]],
    counts: Mapping[tuple[RowKey, str, str], int],
    aggregates: Mapping[tuple[RowKey, int], Mapping[str, Any]],
    disclosure: Disclosure,
) -> Section:
    """A progress matrix: for each row of the report and each category at ``from``, the
    pupils in each category at ``to``. Its counts join the report's ``disclosure`` (built by
    ``build_section``), so that the whole report is suppressed as one system:

    - a column's cells add up to the row's pupils in that category at ``to`` (the report's
      attainment count there, shown or not);
    - a row's cells add up to the row's pupils in that category at ``from``: exactly so when
      no pupil joined or left between the points; a reader is taken to know how many did, so
      the link is treated as exact (which can only hide more);
    - a group's rows add up to its "All pupils" row, a dimension's to its "All" row, cell by
      cell, as in the main table.
    """
    first = spec.from_point or 0
    last = spec.to_point or 0
    columns = matrix_columns(spec, slot, *labels)
    name = f"matrix.{slot}"
    built: list[Row] = []
    added: set[tuple[int, str]] = set()
    for key, keys, row_labels in rows:
        for point in (first, last):
            found = aggregates.get((key, point), {})
            for c in Category:
                q = (key, point, f"cat_{c.value}")
                if q not in disclosure.values:
                    disclosure.values[q] = _int(found, f"cat_{c.value}")
                    added.add((point, q[2]))
        for before in Category:
            cells = []
            for index, after in enumerate(Category):
                value = counts.get((key, before.value, after.value), 0)
                q = (key, last, matrix_name(slot, before, after))
                disclosure.values[q] = value
                disclosure.cells[(name, key, before.value, index)] = (q,)
                cells.append(Cell(float(value), value))
            built.append(
                Row(
                    key,
                    {**keys, "from": before.value},
                    {**row_labels, "from": f"{CATEGORY_LABELS[before]} ({labels[0]})"},
                    cells,
                )
            )
            disclosure.relations.append(
                (
                    (key, first, f"cat_{before.value}"),
                    tuple((key, last, matrix_name(slot, before, a)) for a in Category),
                )
            )
        for after in Category:
            disclosure.relations.append(
                (
                    (key, last, f"cat_{after.value}"),
                    tuple((key, last, matrix_name(slot, b, after)) for b in Category),
                )
            )
    keys_of = [key for key, _, _ in rows]
    for point, count_name in sorted(added):
        _add_row_relations(disclosure, keys_of, [point], [count_name])
    _add_row_relations(
        disclosure, keys_of, [last], [matrix_name(slot, b, a) for b in Category for a in Category]
    )
    return Section(name, f"Progress matrix: {labels[0]} to {labels[1]}", columns, built)


# --- Points -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KnownPoint:
    id: uuid.UUID
    code: str
    name: str
    position: int
    assessed_on: date
    academic_year: int


def resolve_point(
    spec: PointSpec, points: Iterable[KnownPoint], *, academic_year: int, today: date
) -> KnownPoint | None:
    """Which of a school's points a point reference means: its code in the academic year, or
    the first (start), middle (mid), last (end) of the year by position, or the latest dated
    on or before today. None: the school has no such point."""
    of_year = sorted(
        (p for p in points if p.academic_year == academic_year),
        key=lambda p: (p.position, p.assessed_on),
    )
    if spec.code is not None:
        return next((p for p in of_year if p.code == spec.code), None)
    if not of_year or spec.relative is None:
        return None
    if spec.relative is RelativePoint.START:
        return of_year[0]
    if spec.relative is RelativePoint.END:
        return of_year[-1]
    if spec.relative is RelativePoint.MID:
        return of_year[(len(of_year) - 1) // 2]
    past = [p for p in of_year if p.assessed_on <= today]
    return max(past, key=lambda p: (p.assessed_on, p.position)) if past else None


def distribution(categories: Iterable[Category]) -> dict[Category, int]:
    """How many pupils in each category (every category present, zero if none)."""
    found = dict.fromkeys(Category, 0)
    for category in categories:
        found[category] += 1
    return found
