"""Charts for a report, as data: Vega-Lite specifications any frontend renders with the usual
embedding library (vega-embed), and the service renders as SVG or PNG.

A report's natural pictures, from its table alone (so every figure has passed through the
access policy and suppression first):

- **distribution**: for an attainment or category-movement metric, a stacked bar per row
  (subject, year group, key group) of the % in each category, a panel per point;
- **comparison**: for any other figure, a bar per key group at the last point, with a rule at
  the "All pupils" figure of the same subject and year group (the count of pupils only when
  the report has nothing else);
- **trend**: the same figure at each point, a line per row, when the report has several (not
  for the count of pupils);
- **matrix**: a progress matrix as a heat table, from-category by to-category, counts in the
  cells.

A suppressed cell stays suppressed: it is left out of the bars and lines and drawn as the
suppression key "c"; its count is never in the data. Every chart has a title and a text
description (its text alternative), and labels its bars with their figures, so it reads in
greyscale as well as in colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.domain.colours import MOVEMENT_COLOURS, category_palette, contrast
from app.domain.reports import (
    CATEGORY_LABELS,
    MOVEMENT_LABELS,
    Column,
    Metric,
    ReportTable,
    Row,
    Section,
)

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
SUPPRESSED = "c"
_DISTRIBUTIONS = {Metric.ATTAINMENT: CATEGORY_LABELS, Metric.CATEGORY_MOVEMENT: MOVEMENT_LABELS}
ALL_PUPILS = "All pupils"


def chart_specs(table: ReportTable, *, printed: bool = False) -> list[dict[str, Any]]:
    """Every chart the report's table makes, in the order of its metrics, then its matrices.
    ``printed``: as drawn small on paper (a line over the year for each total row only, e.g.
    each subject's "All year groups", where the report has such rows)."""
    charts: list[dict[str, Any]] = []
    main = next((s for s in table.sections if not s.name.startswith("matrix")), None)
    if main is not None:
        slots = list(_by_slot(main.columns).values())
        # The count of pupils is drawn only when it is all the report has.
        only_pupils = all(columns[0].metric is Metric.PUPILS for columns in slots)
        for columns in slots:
            metric = columns[0].metric
            if metric is Metric.PUPILS and not only_pupils:
                continue
            if metric in _DISTRIBUTIONS:
                charts.append(_distribution(table, main, columns))
                continue
            charts.append(_comparison(table, main, columns))
            if metric is not Metric.PUPILS and len({c.point for c in columns}) > 1:
                charts.append(_trend(table, main, columns, printed=printed))
    charts += [
        _matrix(table, s, printed=printed) for s in table.sections if s.name.startswith("matrix")
    ]
    return charts


# --- The charts ------------------------------------------------------------------------------
def _distribution(table: ReportTable, section: Section, columns: list[Column]) -> dict[str, Any]:
    metric = columns[0].metric
    labels = _DISTRIBUTIONS[metric]
    colours = category_palette(table.colours) if metric is Metric.ATTAINMENT else MOVEMENT_COLOURS
    percents = [c for c in columns if c.percent]
    index = {c.key: i for i, c in enumerate(section.columns)}
    values = []
    for row in section.rows:
        for column in percents:
            cell = row.cells[index[column.key]]
            values.append(
                {
                    "row": _row_label(row),
                    "point": _point_label(column),
                    "category": labels[column.part],  # type: ignore[index]
                    "order": list(labels).index(column.part),  # type: ignore[arg-type]
                    "percent": None if cell.suppressed else cell.value,
                    "shown": SUPPRESSED if cell.suppressed else _number(cell.value, 0, "%"),
                }
            )
    name = _metric_name(columns[0])
    domain = list(labels.values())
    dark = [labels[p] for p in labels if _dark(colours[p])]
    bars = {
        # A white edge between the parts: neighbours apart however they print.
        "mark": {"type": "bar", "tooltip": True, "stroke": "#FFFFFF", "strokeWidth": 1},
        "encoding": {
            "y": {"field": "row", "type": "nominal", "sort": None, "title": None},
            "x": {
                "field": "percent",
                "type": "quantitative",
                "stack": "zero",
                "title": "% of pupils",
                "scale": {"domain": [0, 100]},
            },
            "color": {
                "field": "category",
                "type": "nominal",
                "title": None,
                "scale": {"domain": domain, "range": [colours[p] for p in labels]},
                "sort": domain,
            },
            "order": {"field": "order"},
        },
    }
    text = {
        "mark": {"type": "text", "dx": -3, "align": "right", "baseline": "middle"},
        "encoding": {
            "y": {"field": "row", "type": "nominal", "sort": None},
            "x": {"field": "percent", "type": "quantitative", "stack": "zero", "bandPosition": 1},
            "text": {"field": "shown"},
            "order": {"field": "order"},
            "color": {
                "condition": {"test": f"indexof({dark}, datum.category) >= 0", "value": "#FFFFFF"},
                "value": "#000000",
            },
            "opacity": {"condition": {"test": "datum.percent >= 8", "value": 1}, "value": 0},
        },
    }
    return _spec(
        table,
        kind="distribution",
        slot=columns[0].slot,
        title=name,
        description=f"{name}: for each row, the % of pupils in each category "
        f"({', '.join(domain)}), at each point. Suppressed figures are not drawn.",
        values=values,
        body={
            "facet": {"column": {"field": "point", "title": None, "sort": None}},
            "spec": {"layer": [bars, text, _suppressed_marks()]},
        },
    )


def _comparison(table: ReportTable, section: Section, columns: list[Column]) -> dict[str, Any]:
    """The figure for each row at the last point, against All pupils of the same breakdown."""
    column = max(columns, key=lambda c: c.point)
    at = section.columns.index(column)
    values = []
    for row in section.rows:
        cell = row.cells[at]
        values.append(
            {
                "row": _row_label(row),
                "within": _within(row),
                "group": row.labels.get("group", ALL_PUPILS),
                "value": None if cell.suppressed else cell.value,
                "shown": SUPPRESSED
                if cell.suppressed
                else _number(cell.value, column.decimals, column.unit),
                "all": row.labels.get("group", ALL_PUPILS) == ALL_PUPILS,
            }
        )
    overall = {v["within"]: v["value"] for v in values if v["all"]}
    for value in values:
        value["all_pupils"] = overall.get(value["within"])
    name = _metric_name(column)
    y = {"field": "row", "type": "nominal", "sort": None, "title": None}
    layers = [
        {
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": y,
                "x": {"field": "value", "type": "quantitative", "title": _axis(column)},
                "color": {
                    "condition": {"test": "datum.all", "value": "#24395A"},
                    "value": "#7D8FA9",
                },
            },
        },
        {
            "mark": {"type": "tick", "color": "#B83A4B", "thickness": 2},
            "encoding": {"y": y, "x": {"field": "all_pupils", "type": "quantitative"}},
        },
        {
            "mark": {"type": "text", "align": "left", "dx": 3},
            "encoding": {
                "y": y,
                "x": {"field": "value", "type": "quantitative"},
                "text": {"field": "shown"},
            },
        },
        _suppressed_marks(),
    ]
    return _spec(
        table,
        kind="comparison",
        slot=column.slot,
        title=f"{name} ({_point_label(column)})",
        description=f"{name} at {_point_label(column)} for each row; the red tick marks the "
        "figure for all pupils of the same subject and year group. Suppressed figures are "
        "shown as c and not drawn.",
        values=values,
        body={"layer": layers},
    )


def _trend(
    table: ReportTable, section: Section, columns: list[Column], *, printed: bool = False
) -> dict[str, Any]:
    """The figure at each point, a line per row (all pupils only, to stay readable; on paper,
    only the rows that total the others, where there are such rows)."""
    rows = [r for r in section.rows if r.labels.get("group", ALL_PUPILS) == ALL_PUPILS]
    totals = [r for r in rows if len(r.key.crossed) > 1 and not any(r.key.crossed[1:])]
    name_of = _row_label
    if printed and totals:
        rows = totals
        name_of = _first_label  # "English" for "English · All year groups · All pupils"
    values = []
    for row in rows:
        for column in columns:
            cell = row.cells[section.columns.index(column)]
            values.append(
                {
                    "row": name_of(row),
                    "point": _point_label(column),
                    "order": column.point,
                    "value": None if cell.suppressed else cell.value,
                }
            )
    name = _metric_name(columns[0])
    return _spec(
        table,
        kind="trend",
        slot=columns[0].slot,
        title=f"{name} over the year",
        description=f"{name} at each point, a line for all pupils of each row.",
        values=values,
        body={
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": {
                    "field": "point",
                    "type": "ordinal",
                    "sort": {"field": "order"},
                    "title": None,
                },
                "y": {
                    "field": "value",
                    "type": "quantitative",
                    "title": _axis(columns[0]),
                    # A percentage from 0; a score (a mean of standardised scores) where it is.
                    "scale": {"zero": columns[0].unit == "%"},
                },
                "color": {"field": "row", "type": "nominal", "title": None},
            },
        },
    )


def _matrix(table: ReportTable, section: Section, *, printed: bool = False) -> dict[str, Any]:
    """A progress matrix: rows are where pupils were, columns where they are; a panel per
    breakdown (on paper, per total breakdown where there are such, e.g. a subject's "All year
    groups")."""
    rows = section.rows
    totals = [r for r in rows if len(r.key.crossed) > 1 and not any(r.key.crossed[1:])]
    if printed and totals:
        rows = totals
    values = []
    for row in rows:
        within = " · ".join(v for k, v in row.labels.items() if k != "from" and v)
        for column, cell in zip(section.columns, row.cells, strict=True):
            values.append(
                {
                    "within": within,
                    "from": row.labels.get("from", ""),
                    "to": column.label,
                    "pupils": None if cell.suppressed else cell.value,
                    "shown": SUPPRESSED if cell.suppressed else _number(cell.value, 0, "pupils"),
                }
            )
    cells = {
        "mark": {"type": "rect", "tooltip": True},
        "encoding": {
            "color": {
                "field": "pupils",
                "type": "quantitative",
                "title": "Pupils",
                "scale": {"scheme": "blues"},
            }
        },
    }
    text = {
        "mark": {"type": "text"},
        "encoding": {
            "text": {"field": "shown"},
            "color": {
                "condition": {"test": "datum.pupils > 10", "value": "#FFFFFF"},
                "value": "#000000",
            },
        },
    }
    return _spec(
        table,
        kind="matrix",
        slot=None,
        title=section.title,
        description=f"{section.title}: how many pupils moved from each category (rows) to each "
        "category (columns). Suppressed counts are shown as c.",
        values=values,
        body={
            "facet": {"row": {"field": "within", "title": None, "sort": None}},
            "spec": {
                "encoding": {
                    "y": {"field": "from", "type": "nominal", "sort": None, "title": "From"},
                    "x": {"field": "to", "type": "nominal", "sort": None, "title": "To"},
                },
                "layer": [cells, text],
            },
        },
    )


# --- Pieces ----------------------------------------------------------------------------------
def _suppressed_marks() -> dict[str, Any]:
    """The suppression key "c" at the start of each row whose figure is suppressed."""
    return {
        "transform": [{"filter": f"datum.shown === '{SUPPRESSED}'"}],
        "mark": {"type": "text", "align": "left", "dx": 3, "fontStyle": "italic"},
        "encoding": {
            "y": {"field": "row", "type": "nominal", "sort": None},
            "x": {"datum": 0, "type": "quantitative"},
            "text": {"value": SUPPRESSED},
        },
    }


def _spec(
    table: ReportTable,
    *,
    kind: str,
    slot: int | None,
    title: str,
    description: str,
    values: list[dict[str, Any]],
    body: Mapping[str, Any],
) -> dict[str, Any]:
    note = (
        f" Figures under {table.suppress_below} pupils are suppressed (c)."
        if table.suppress_below
        else ""
    )
    return {
        "$schema": SCHEMA,
        "title": {"text": title, **({"subtitle": table.title} if table.title != title else {})},
        "description": description + note,
        "data": {"values": values},
        **body,
        "config": {"font": "DejaVu Sans, Arial, sans-serif", "view": {"stroke": None}},
        "usermeta": {"markbook": {"kind": kind, "metric_slot": slot}},
    }


def _by_slot(columns: Iterable[Column]) -> dict[int, list[Column]]:
    found: dict[int, list[Column]] = {}
    for column in columns:
        found.setdefault(column.slot, []).append(column)
    return found


def _row_label(row: Row) -> str:
    return " · ".join(v for v in row.labels.values() if v)


def _first_label(row: Row) -> str:
    return next(iter(row.labels.values()), "")


def _within(row: Row) -> str:
    return " · ".join(v for k, v in row.labels.items() if k != "group" and v)


def _point_label(column: Column) -> str:
    """The point part of a column's label: "% At (Autumn)" -> "Autumn"."""
    return column.label.rsplit("(", 1)[-1].rstrip(")") if "(" in column.label else ""


def _metric_name(column: Column) -> str:
    """A column's label without its point or category."""
    label = column.label.rsplit(" (", 1)[0]
    if column.part is not None:
        return {
            "attainment": "Below, at and above",
            "category_movement": "Movement between points",
        }.get(column.metric.value, label)
    return label


def _axis(column: Column) -> str:
    return "%" if column.unit == "%" else column.unit


def _number(value: float | None, decimals: int, unit: str) -> str:
    if value is None:
        return ""
    text = f"{value:.{decimals}f}" if decimals else str(round(value))
    return text + ("%" if unit == "%" else "")


def _dark(colour: str) -> bool:
    """Whether white text reads better than black on the colour (the higher WCAG contrast)."""
    return contrast(colour, "#FFFFFF") > contrast(colour, "#000000")
