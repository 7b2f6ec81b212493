"""Report rules without a database: definitions refused naming the field, what the figures
come to, attainment categories (out-of-year pupils never "below" unless the school chose it),
and suppression: over random cohorts, a viewer never receives, nor can work out by
subtraction, a count of 1 to threshold-1 pupils."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.reports import (
    Category,
    DefinitionError,
    KnownPoint,
    OutOfYear,
    PointSpec,
    RelativePoint,
    ReportDefinition,
    RowKey,
    apply_suppression,
    band_from_descriptor,
    band_from_number,
    band_from_secured,
    build_matrix,
    build_section,
    categorise,
    check_size,
    ethnic_major_group,
    group_values,
    movement,
    parse_definition,
    plan_columns,
    resolve_point,
)

BASE: dict[str, Any] = {
    "metrics": ["pupils"],
    "dimensions": ["subject"],
    "points": ["AUT"],
}


def refused(**change: Any) -> str | None:
    try:
        parse_definition({**BASE, **change})
    except DefinitionError as exc:
        return exc.field
    return None


# --- Definitions --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": ["pupils", "average_grade"]}, "metrics.1.metric"),
        ({"metrics": ["pupils", {"metric": "measure_mean"}]}, "metrics.1.measures"),
        ({"metrics": [{"metric": "measure_mean", "measures": ["A", 3]}]}, "metrics.0.measures.1"),
        ({"metrics": [{"metric": "depth_score", "measures": ["A"]}]}, "metrics.0.measures"),
        ({"metrics": ["pupils", "progress_matrix"], "attainment": []}, "metrics.1"),
        (
            {
                "metrics": [{"metric": "progress_depth_score", "from": 1, "to": 1}],
                "points": ["AUT", "SUM"],
            },
            "metrics.0.to",
        ),
        (
            {"metrics": [{"metric": "combined_at_or_above", "subjects": ["MA"]}]},
            "metrics.0.subjects",
        ),
        ({"dimensions": ["subject", "pupil_premium"]}, "dimensions.1"),
        ({"dimensions": ["year_group"]}, "dimensions"),
        ({"groups": ["shoe_size"]}, "groups.0"),
        ({"groups": ["year_group"]}, "groups.0"),
        ({"points": []}, "points"),
        ({"points": ["AUT", "not a code!"]}, "points.1"),
        ({"points": [{"as_at": "2026-13-01"}]}, "points.0.as_at"),
        ({"points": [{"at": "soon"}]}, "points.0.at"),
        ({"suppress_below": 2}, "suppress_below"),
        ({"suppress_below": "6"}, "suppress_below"),
        ({"filters": [{"dimension": "sen_status", "values": ["X"]}]}, "filters.0.values.0"),
        ({"filters": [{"dimension": "year_group", "values": ["Y14"]}]}, "filters.0.values"),
        ({"filters": [{"dimension": "sex", "op": "like", "values": ["F"]}]}, "filters.0.op"),
        ({"attainment": [{"subject": "MA"}]}, "attainment.0"),
        (
            {"attainment": [{"subject": "MA", "secured": {"at": 80, "above": 70}}]},
            "attainment.0.secured.above",
        ),
        ({"attainment": [{"subject": "MA", "secured": {"at": 101}}]}, "attainment.0.secured.at"),
        ({"metrics": ["attainment"]}, "attainment"),
        ({"colour": "red"}, "colour"),
        (
            {
                "metrics": [{"metric": "measure_mean", "measures": ["STD"]}],
                "points": [{"as_at": "2026-10-01"}],
            },
            "points.0",
        ),
    ],
)
def test_a_definition_that_cannot_run_is_refused_naming_the_field(change, field):
    assert refused(**change) == field


def test_a_definition_reads_back_as_it_was_given():
    raw = {
        "title": "Data on a page",
        "metrics": [
            {"metric": "pupils"},
            {"metric": "measure_mean", "measures": ["STD-READ", "STD-MATH"]},
            {"metric": "progress_matrix", "from": 0, "to": 2},
        ],
        "dimensions": ["subject", "year_group"],
        "groups": ["pupil_premium", "group:Summer born"],
        "points": [{"code": "AUT"}, "mid", {"as_at": "2027-03-01"}],
        "filters": [{"dimension": "year_group", "op": "not_in", "values": ["R"]}],
        "attainment": [{"subject": "MA", "secured": {"at": 70.0, "above": 90.0}}],
        "out_of_year": "own_category",
        "suppress_below": 6,
        "academic_year": 2026,
    }
    with pytest.raises(DefinitionError) as error:
        parse_definition(raw)  # a measure cannot be read as at a date
    assert error.value.field == "points.2"
    raw["points"] = [{"code": "AUT"}, "mid", "end"]
    definition = parse_definition(raw)
    assert parse_definition(definition.to_json()) == definition
    assert definition.groups == ("pupil_premium", "group:Summer born")


def test_a_report_too_large_is_refused_before_it_runs():
    definition = parse_definition(
        {
            **BASE,
            "metrics": ["attainment"],
            "dimensions": ["subject", "school", "class"],
            "attainment": [{"subject": "MA", "measure": "TA"}],
            "groups": ["ethnicity", "sex"],
            "points": ["AUT", "SPR", "SUM"],
        }
    )
    check_size(definition, {"subject": 3, "school": 2, "class": 10})
    with pytest.raises(DefinitionError) as error:
        check_size(definition, {"subject": 3, "school": 100, "class": 1400})
    assert error.value.field == "dimensions"


def test_columns_carry_label_unit_and_decimals():
    definition = parse_definition(
        {
            **BASE,
            "metrics": ["pupils", "depth_score", {"metric": "progress_depth_score"}],
            "points": ["AUT", "SUM"],
        }
    )
    columns = plan_columns(definition, ["Autumn", "Summer"])
    assert [(c.label, c.unit, c.decimals) for c in columns] == [
        ("Pupils (Autumn)", "pupils", 0),
        ("Pupils (Summer)", "pupils", 0),
        ("Depth score (Autumn)", "score", 2),
        ("Depth score (Summer)", "score", 2),
        ("Change in depth score (Autumn to Summer)", "score", 2),
    ]


# --- Points, groups -----------------------------------------------------------------------
def test_points_are_found_by_code_or_place_in_the_year():
    points = [
        KnownPoint(uuid, code, code, position, day, 2026)
        for uuid, code, position, day in (
            (1, "AUT", 1, date(2026, 12, 12)),
            (2, "SPR", 2, date(2027, 3, 27)),
            (3, "SUM", 3, date(2027, 7, 10)),
        )
    ]

    def code(spec: PointSpec, today: date = date(2027, 4, 1)) -> str | None:
        found = resolve_point(spec, points, academic_year=2026, today=today)  # type: ignore[arg-type]
        return None if found is None else found.code

    assert code(PointSpec(code="SPR")) == "SPR"
    assert code(PointSpec(code="XYZ")) is None
    assert code(PointSpec(relative=RelativePoint.START)) == "AUT"
    assert code(PointSpec(relative=RelativePoint.MID)) == "SPR"
    assert code(PointSpec(relative=RelativePoint.END)) == "SUM"
    assert code(PointSpec(relative=RelativePoint.LATEST)) == "SPR"
    assert code(PointSpec(relative=RelativePoint.LATEST), date(2026, 10, 1)) is None


def test_ethnicity_is_reported_by_major_group():
    assert ethnic_major_group("WBRI") == "white"
    assert ethnic_major_group("MWBC") == "mixed"
    assert ethnic_major_group("CHNE") == "chinese"
    assert ethnic_major_group("REFU") == ethnic_major_group("NOBT") == "unclassified"
    assert ethnic_major_group(None) == "unknown"
    assert [v for v, _ in group_values("sen_status")] == ["N", "K", "E", "unknown"]


# --- Categories ---------------------------------------------------------------------------
def test_each_rule_places_pupils_by_its_own_measure():
    assert band_from_descriptor("at") is Category.AT
    assert band_from_descriptor(None) is Category.NOT_ASSESSED
    assert band_from_number(Decimal(100), Decimal(100), Decimal(110)) is Category.AT
    assert band_from_number(Decimal(110), Decimal(100), Decimal(110)) is Category.ABOVE
    assert band_from_number(Decimal(99), Decimal(100), None) is Category.BELOW
    assert band_from_number(None, Decimal(100), None) is Category.NOT_ASSESSED
    assert band_from_secured(69.9, Decimal(70), Decimal(90)) is Category.BELOW
    assert band_from_secured(90, Decimal(70), Decimal(90)) is Category.ABOVE
    assert movement(Category.BELOW, Category.AT).value == "up"
    assert movement(Category.EARLIER_CURRICULUM, Category.AT).value == "not_comparable"


rule_outcomes = st.one_of(
    st.builds(band_from_descriptor, st.sampled_from(["below", "at", "above", None])),
    st.builds(
        band_from_number,
        st.one_of(st.none(), st.decimals(0, 200, places=1)),
        st.sampled_from([None, Decimal(85), Decimal(100)]),
        st.sampled_from([None, Decimal(115)]),
    ),
    st.builds(
        band_from_secured,
        st.one_of(st.none(), st.floats(0, 100)),
        st.sampled_from([Decimal(50), Decimal(70)]),
        st.sampled_from([None, Decimal(90)]),
    ),
)


@given(outcome=rule_outcomes)
def test_no_rule_places_an_out_of_year_pupil_below_unless_the_school_chose_it(outcome):
    placed = categorise(outcome, earlier_curriculum=True, out_of_year=OutOfYear.OWN_CATEGORY)
    assert placed is Category.EARLIER_CURRICULUM
    chosen = categorise(outcome, earlier_curriculum=True, out_of_year=OutOfYear.WORKING_CURRICULUM)
    assert chosen is outcome
    assert categorise(outcome, earlier_curriculum=False, out_of_year=OutOfYear.OWN_CATEGORY) is (
        outcome
    )


# --- A cohort, aggregated in Python as the engine's SQL does --------------------------------
@dataclass(frozen=True)
class Pupil:
    year_group: str
    pupil_premium: str
    category: Category
    depth: float | None  # None: not assessed


pupils_strategy = st.builds(
    Pupil,
    st.sampled_from(["3", "4"]),
    st.sampled_from(["yes", "no", "unknown"]),
    st.sampled_from(list(Category)),
    st.one_of(st.none(), st.floats(1, 4, allow_nan=False)),
)
DEFINITION = parse_definition(
    {
        "metrics": ["pupils", "attainment", "percent_at_or_above", "depth_score"],
        "dimensions": ["subject", "year_group"],
        "groups": ["pupil_premium"],
        "points": ["AUT"],
        "attainment": [{"subject": "MA", "measure": "TA"}],
    }
)


def aggregate(cohort: list[Pupil]) -> tuple[list[Any], dict[Any, dict[str, Any]]]:
    found: dict[RowKey, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for pupil in cohort:
        for year in (pupil.year_group, None):
            for group, value in ((None, None), ("pupil_premium", pupil.pupil_premium)):
                row = found[RowKey(("MA", year), group, value)]
                row["pupils"] += 1
                row[f"cat_{pupil.category.value}"] += 1
                if pupil.depth is not None:
                    row["assessed"] += 1
                    row["depth_sum"] += pupil.depth
    rows = [
        (key, {"subject": "MA", "year_group": key.crossed[1]}, {"group": str(key.group_value)})
        for key in found
    ]
    return rows, {(key, 0): dict(value) for key, value in found.items()}


@given(cohort=st.lists(pupils_strategy, max_size=40))
def test_figures_are_what_the_pupils_come_to(cohort):
    rows, aggregates = aggregate(cohort)
    section, _ = build_section(DEFINITION, plan_columns(DEFINITION), rows, aggregates)
    everyone = next((r for r in section.rows if r.key == RowKey(("MA", None))), None)
    if not cohort:
        assert everyone is None
        return
    cells = {c.key: cell for c, cell in zip(section.columns, everyone.cells, strict=True)}
    assert cells["0.pupils.0"].value == len(cohort)
    for category in Category:
        count = sum(p.category is category for p in cohort)
        assert cells[f"1.attainment.0.{category.value}"].value == count
        assert cells[f"1.attainment.0.{category.value}.percent"].value == pytest.approx(
            round(100 * count / len(cohort), 1)
        )
    at_or_above = sum(p.category in (Category.AT, Category.ABOVE) for p in cohort)
    assert cells["2.percent_at_or_above.0"].value == pytest.approx(
        round(100 * at_or_above / len(cohort), 1)
    )
    depths = [p.depth for p in cohort if p.depth is not None]
    depth = cells["3.depth_score.0"]
    assert depth.n == len(depths)
    assert depth.value == (
        None if not depths else pytest.approx(round(sum(depths) / len(depths), 2))
    )


# --- Suppression, checked as a viewer would attack the table --------------------------------
def attack(section: Any) -> dict[tuple[Any, str], int]:
    """Every count a viewer can read or work out from the shown cells: pupils per row, each
    category (a count, or a % of the row's pupils), at or above, the pupils a depth score
    counts and those it leaves out; by subtraction within a row, between group rows and their
    "All pupils" row, and between year group rows and "All year groups". Independent of the
    engine's own bookkeeping: it reads only what the table says."""
    known: dict[tuple[Any, str], int] = {}
    sums: list[tuple[tuple[Any, str], list[tuple[Any, str]]]] = []
    for row in section.rows:
        key = row.key
        for column, cell in zip(section.columns, row.cells, strict=True):
            if cell.suppressed or (cell.value is None and cell.n is None):
                continue
            if column.key == "0.pupils.0":
                known[key, "pupils"] = int(cell.value)
            elif column.part is not None and not column.percent:
                known[key, column.part] = int(cell.value)
                known[key, "pupils"] = cell.n
            elif column.part is not None and column.percent and cell.n:
                known[key, column.part] = round(cell.value * cell.n / 100)
                known[key, "pupils"] = cell.n
            elif column.key == "2.percent_at_or_above.0" and cell.n:
                known[key, "at_or_above"] = round(cell.value * cell.n / 100)
            elif column.key == "3.depth_score.0":
                known[key, "assessed"] = cell.n
        sums.append(((key, "pupils"), [(key, c.value) for c in Category]))
        sums.append(((key, "at_or_above"), [(key, "at"), (key, "above")]))
        sums.append(((key, "pupils"), [(key, "assessed"), (key, "unassessed")]))
        sums.append(((key, "pupils"), [(key, "at_or_above"), (key, "not_at_or_above")]))
    names = ["pupils", "assessed", "at_or_above", *(c.value for c in Category)]
    keys = [row.key for row in section.rows]
    for key in keys:
        if key.group is None:
            members = [k for k in keys if k.crossed == key.crossed and k.group is not None]
            sums += [((key, n), [(m, n) for m in members]) for n in names]
        if key.crossed[1] is None:
            members = [
                k
                for k in keys
                if k.crossed[1] is not None
                and (k.group, k.group_value) == (key.group, key.group_value)
            ]
            sums += [((key, n), [(m, n) for m in members]) for n in names]
    return known, sums


def truth(cohort: list[Pupil]) -> dict[tuple[Any, str], int]:
    _, aggregates = aggregate(cohort)
    found = {}
    for (key, _), values in aggregates.items():
        pupils = values.get("pupils", 0)
        found[key, "pupils"] = pupils
        for category in Category:
            found[key, category.value] = values.get(f"cat_{category.value}", 0)
        ab = found[key, "at"] + found[key, "above"]
        found[key, "at_or_above"], found[key, "not_at_or_above"] = ab, pupils - ab
        found[key, "assessed"] = values.get("assessed", 0)
        found[key, "unassessed"] = pupils - found[key, "assessed"]
    return found


@settings(max_examples=150, deadline=None)
@given(cohort=st.lists(pupils_strategy, max_size=30), threshold=st.integers(3, 6))
def test_a_viewer_never_receives_nor_works_out_a_small_count(cohort, threshold):
    rows, aggregates = aggregate(cohort)
    section, disclosure = build_section(DEFINITION, plan_columns(DEFINITION), rows, aggregates)
    section = apply_suppression(section, disclosure, threshold)
    real = truth(cohort)
    known, sums = attack(section)
    for name, value in known.items():
        assert value == real[name], name  # the attack reads the table right
    # Work out all that subtraction gives, then check nothing small is known.
    grew = True
    while grew:
        grew = False
        for total, members in sums:
            missing = [m for m in members if m not in known]
            if total in known and len(missing) == 1:
                known[missing[0]] = real.get(missing[0], 0)
                grew = True
            elif total not in known and members and not missing:
                known[total] = real.get(total, 0)
                grew = True
    small = {n: v for n, v in known.items() if 0 < v < threshold}
    assert not small
    for total, members in sums:
        if total in known:
            rest = sum(real.get(m, 0) for m in members if m not in known)
            assert not 0 < rest < threshold, (total, members)


# --- Suppression across a report's sections: the table and its progress matrix --------------
@dataclass(frozen=True)
class Tracked:
    year_group: str
    pupil_premium: str
    autumn: Category
    summer: Category


tracked_strategy = st.builds(
    Tracked,
    st.sampled_from(["3", "4"]),
    st.sampled_from(["yes", "no"]),
    st.sampled_from(list(Category)),
    st.sampled_from(list(Category)),
)
WITH_MATRIX = parse_definition(
    {
        "metrics": ["pupils", "attainment", "percent_at_or_above", "progress_matrix"],
        "dimensions": ["subject", "year_group"],
        "groups": ["pupil_premium"],
        "points": ["AUT", "SUM"],
        "attainment": [{"subject": "MA", "measure": "TA"}],
    }
)


def tracked_report(cohort: list[Tracked], threshold: int | None) -> tuple[Any, Any, dict]:
    """The table and the matrix of a cohort, suppressed together; and the true counts."""
    aggregates: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[Any, int] = defaultdict(int)
    real: dict[Any, int] = defaultdict(int)
    for pupil in cohort:
        for year in (pupil.year_group, None):
            for group, value in ((None, None), ("pupil_premium", pupil.pupil_premium)):
                key = RowKey(("MA", year), group, value)
                for point, category in ((0, pupil.autumn), (1, pupil.summer)):
                    aggregates[key, point]["pupils"] += 1
                    aggregates[key, point][f"cat_{category.value}"] += 1
                    real[key, point, "pupils"] += 1
                    real[key, point, category.value] += 1
                    if category in (Category.AT, Category.ABOVE):
                        real[key, point, "at_or_above"] += 1
                counts[key, pupil.autumn.value, pupil.summer.value] += 1
                real[key, "mx", pupil.autumn.value, pupil.summer.value] += 1
    keys = sorted({k for k, _ in aggregates}, key=repr)
    rows = [(k, {"subject": "MA", "year_group": k.crossed[1]}, {}) for k in keys]
    section, disclosure = build_section(
        WITH_MATRIX, plan_columns(WITH_MATRIX), rows, {k: dict(v) for k, v in aggregates.items()}
    )
    spec = WITH_MATRIX.metrics[3]
    matrix = build_matrix(spec, 3, ("Autumn", "Summer"), rows, counts, aggregates, disclosure)
    apply_suppression([section, matrix], disclosure, threshold)
    return section, matrix, real


def attack_report(section: Any, matrix: Any) -> tuple[dict[Any, int], list[Any]]:
    """What a viewer reads from the table (pupils, each category as a count or a %, at or
    above, at each point) and the matrix (each cell), and the sums linking them: a row's
    categories make its pupils; a matrix row makes the row's category at autumn, a matrix
    column its category at summer; group rows make "All pupils", year groups "All year
    groups", in the table and cell by cell in the matrix."""
    known: dict[Any, int] = {}
    sums: list[Any] = []
    for row in section.rows:
        for column, cell in zip(section.columns, row.cells, strict=True):
            if cell.suppressed or cell.value is None:
                continue
            at = (row.key, column.point)
            if column.metric.value == "pupils":
                known[(*at, "pupils")] = int(cell.value)
            elif column.part is not None:
                known[(*at, "pupils")] = cell.n
                count = cell.value if not column.percent else cell.value * cell.n / 100
                known[(*at, column.part)] = round(count)
            elif cell.n:
                known[(*at, "at_or_above")] = round(cell.value * cell.n / 100)
    for row in matrix.rows:
        for column, cell in zip(matrix.columns, row.cells, strict=True):
            if not cell.suppressed:
                known[row.key, "mx", row.keys["from"], column.part] = int(cell.value)
    keys = {row.key for row in section.rows}
    cats = [c.value for c in Category]
    for key in keys:
        for point in (0, 1):
            sums.append(((key, point, "pupils"), [(key, point, c) for c in cats]))
            sums.append(((key, point, "at_or_above"), [(key, point, "at"), (key, point, "above")]))
        for c in cats:
            sums.append(((key, 0, c), [(key, "mx", c, a) for a in cats]))
            sums.append(((key, 1, c), [(key, "mx", b, c) for b in cats]))
    names = [(p, n) for p in (0, 1) for n in ("pupils", "at_or_above", *cats)]
    names += [("mx", b, a) for b in cats for a in cats]
    for key in keys:
        families = []
        if key.group is None:
            families.append([k for k in keys if k.crossed == key.crossed and k.group])
        if key.crossed[1] is None:
            families.append(
                [
                    k
                    for k in keys
                    if k.crossed[1] is not None
                    and (k.group, k.group_value) == (key.group, key.group_value)
                ]
            )
        for members in families:
            sums += [((key, *n), [(m, *n) for m in members]) for n in names]
    return known, sums


def worked_out(known: dict[Any, int], sums: list[Any], real: dict[Any, int]) -> dict[Any, int]:
    """All that subtraction (and addition) gives from what is known."""
    known = dict(known)
    grew = True
    while grew:
        grew = False
        for total, members in sums:
            missing = [m for m in members if m not in known]
            if total in known and len(missing) == 1:
                known[missing[0]] = real[missing[0]]
                grew = True
            elif total not in known and not missing:
                known[total] = real[total]
                grew = True
    return known


@settings(max_examples=150, deadline=None)
@given(cohort=st.lists(tracked_strategy, max_size=30), threshold=st.integers(3, 6))
def test_no_small_count_is_worked_out_across_the_table_and_its_matrix(cohort, threshold):
    section, matrix, real = tracked_report(cohort, threshold)
    read, sums = attack_report(section, matrix)
    for name, value in read.items():
        assert value == real[name], name
    known = worked_out(read, sums, real)
    assert not {n: v for n, v in known.items() if 0 < v < threshold}
    for total, members in sums:
        if total in known:
            rest = sum(real[m] for m in members if m not in known)
            assert not 0 < rest < threshold, (total, members)


def test_a_matrix_cell_is_not_given_back_by_the_tables_counts():
    # In autumn 7 pupils are at (5 stay at, 2 move above) and 8 above (all stay). The table
    # shows autumn's and summer's counts; the matrix must not show cells from which, with
    # those, the 2 could be worked out.
    cohort = [Tracked("4", "no", Category.AT, Category.AT) for _ in range(5)]
    cohort += [Tracked("4", "no", Category.AT, Category.ABOVE) for _ in range(2)]
    cohort += [Tracked("4", "no", Category.ABOVE, Category.ABOVE) for _ in range(8)]
    section, matrix, real = tracked_report(cohort, 3)
    read, sums = attack_report(section, matrix)
    known = worked_out(read, sums, real)
    assert (RowKey(("MA", None)), "mx", "at", "above") not in known
    assert not [v for v in known.values() if 0 < v < 3]


@given(cohort=st.lists(pupils_strategy, min_size=1, max_size=30))
def test_without_a_threshold_nothing_is_hidden(cohort):
    rows, aggregates = aggregate(cohort)
    section, disclosure = build_section(DEFINITION, plan_columns(DEFINITION), rows, aggregates)
    section = apply_suppression(section, disclosure, None)
    assert not any(cell.suppressed for row in section.rows for cell in row.cells)


def test_one_pupil_below_hides_the_next_smallest_category_too():
    cohort = (
        [Pupil("4", "no", Category.BELOW, 2.0)]
        + [Pupil("4", "no", Category.AT, 2.0) for _ in range(10)]
        + [Pupil("4", "no", Category.ABOVE, 2.0) for _ in range(4)]
    )
    rows, aggregates = aggregate(cohort)
    section, disclosure = build_section(DEFINITION, plan_columns(DEFINITION), rows, aggregates)
    section = apply_suppression(section, disclosure, 3)
    everyone = next(r for r in section.rows if r.key == RowKey(("MA", None)))
    shown = {
        c.part: cell.suppressed
        for c, cell in zip(section.columns, everyone.cells, strict=True)
        if c.part and not c.percent
    }
    assert shown == {
        "below": True,
        "at": False,
        "above": True,
        "earlier_curriculum": False,
        "not_assessed": False,
    }


def test_report_definition_is_plain_data():
    assert isinstance(DEFINITION, ReportDefinition)
    assert DEFINITION.to_json()["metrics"][0] == {"metric": "pupils"}
