"""A report as a printable pack (PDF, A4 portrait): the school's name, the report, its points
and the day it was printed; the table; its charts; the key to ``c``; and what each figure
means, in plain words (app.domain.reports.MEANINGS).

The whole report goes on one page where it can ("data on a page"). The table is folded to
take less paper: its leading labels (e.g. subject and year group) become a band over their
rows instead of a column repeated on every row; a metric's points share one heading; the rows
run on in up to three columns of the page, as a newspaper's do; and its type shrinks, down to a
size still legible in print, to leave room for the charts (side by side, under the table) and
the notes. When that is still too long (a full primary school: six year groups and all of them,
for each subject), the table is folded the other way: its first label (e.g. subject) becomes
groups of columns side by side (English | Mathematics | Science, each with its metrics over
their points), the rows keyed by the other labels (a band for each year group, a row for each
key group), so a row holds every subject's figures and the table takes a third of the lines. A
subject's column that prints nothing in any of its rows (neither a figure nor a ``c``) is left
out of that print; a ``c`` is never left out. Only a report too big for either runs
on: the table, folded the first way, at the smallest type over as many pages as it takes, then
the charts and the notes.

A pack holds many reports (``Pack``: a trust's pack is the trust's page, then a page per
school), each added as it is run so that only one report's rows are held at a time.

fpdf2 writes it (pure Python, no system libraries). The pack shows aggregates only, never a
pupil's name, in the PDF core fonts: text they cannot show is written without its accents.
"""

from __future__ import annotations

import io
import math
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf import FPDF

from app.domain.reports import MEANINGS, ReportTable, Section
from app.reports.pictures import PNG_SCALE

MARGIN = 10.0  # mm
MIN_FONT, MAX_FONT = 4.5, 8.0  # pt
STEP = 0.25  # pt: how finely the type is shrunk
LINE = 0.3528 * 1.1  # mm of line per pt of type
PADDING = 0.12  # mm above and below a cell's text
CELL_X = 0.45  # mm either side of a cell's text
GAP = 3.0  # mm between the table's columns on the page
MOST_BLOCKS = 3
CHART_HEIGHT = 58.0  # mm: the most the row of charts under a table may take
NOTE_FONT = 6.5  # pt
SUPPRESSED = "c"
HEAD_FILL = (230, 233, 238)
BAND_FILL = (244, 245, 247)


def _plain(text: str) -> str:
    """Text the core fonts can show (Latin-1): accents dropped where needed, else "?"."""
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        stripped = unicodedata.normalize("NFKD", text).encode("latin-1", "ignore").decode("latin-1")
        return "".join(c for c in stripped if not unicodedata.combining(c)) or "?"


def render_pdf(
    table: ReportTable, *, school: str, printed_on: date, charts: Sequence[bytes] = ()
) -> bytes:
    """A pack of one report (see ``Pack``)."""
    pack = Pack(title=f"{school}: {table.title}")
    pack.add(table, school=school, printed_on=printed_on, charts=charts)
    return pack.output()


class Pack:
    """A PDF of one or more reports, each starting on a new page."""

    def __init__(self, *, title: str) -> None:
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=False)
        pdf.set_title(_plain(title))
        pdf.set_creator("Markbook")
        # Identical input, identical bytes (reference images, caches).
        pdf.set_creation_date(_EPOCH)
        self.pdf = pdf

    @property
    def pages(self) -> int:
        return self.pdf.page

    def add(
        self,
        table: ReportTable,
        *,
        school: str,
        printed_on: date,
        charts: Sequence[bytes] = (),
    ) -> None:
        """The report on a new page: heading, table, charts, notes; on one page if it fits."""
        pdf = self.pdf
        pdf.add_page()
        _heading(pdf, table, school, printed_on)
        shown = [(s, i > 0) for i, s in enumerate(table.sections) if s.rows]
        sections = [_Grid.folded(pdf, s, titled=titled) for s, titled in shown]
        notes = _notes_text(table)
        bottom = pdf.h - MARGIN
        row, row_height = _chart_row(pdf, charts)
        fixed = _notes_height(pdf, notes) + (row_height + 3 if charts else 0)
        room = bottom - pdf.get_y() - fixed
        size = _fitting_size(sections, room)
        if size is None:  # folded the other way, the tables may yet fit with the rest
            pivoted = [
                _Grid.pivoted(pdf, s, titled=titled) or grid
                for (s, titled), grid in zip(shown, sections, strict=True)
            ]
            size = _fitting_size(pivoted, room)
            if size is not None:
                sections = pivoted
        if size is not None:
            for grid in sections:
                grid.draw(size, bottom - fixed)
            if charts:
                _draw_chart_row(pdf, charts, row)
            _notes(pdf, notes)
            return
        # Too big for one page: the tables run on at the smallest type, then the rest.
        for grid in sections:
            grid.draw(_fitting_size([grid], bottom - pdf.get_y()) or MIN_FONT, bottom)
        if charts:
            if pdf.get_y() + row_height > bottom:
                pdf.add_page()
            _draw_chart_row(pdf, charts, row)
        if pdf.get_y() + _notes_height(pdf, notes) > bottom:
            pdf.add_page()
        _notes(pdf, notes)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


# --- The heading and the notes ----------------------------------------------------------------
def _heading(pdf: FPDF, table: ReportTable, school: str, printed_on: date) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 6, _plain(f"{school}: {table.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    points = ", ".join(_point(p) for p in table.points)
    line = f"{points}. Printed on {printed_on.strftime('%-d %B %Y')}."
    if table.suppress_below:
        line += f" Figures for fewer than {table.suppress_below} pupils are shown as c."
    pdf.multi_cell(0, 3.6, _plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _point(point: dict[str, object]) -> str:
    label = str(point.get("label", ""))
    year = point.get("academic_year")
    return f"{label} {year}" if year else label


def _notes_text(table: ReportTable) -> list[str]:
    metrics = dict.fromkeys(c.metric for s in table.sections for c in s.columns)
    return [*(MEANINGS[m] for m in metrics), *table.notes]


def _notes_height(pdf: FPDF, notes: list[str]) -> float:
    pdf.set_font("Helvetica", "", NOTE_FONT)
    lines = sum(
        len(pdf.multi_cell(pdf.epw, 3, _plain(t), dry_run=True, output="LINES")) for t in notes
    )
    return 5 + lines * NOTE_FONT * LINE + 0.5 * len(notes)


def _notes(pdf: FPDF, notes: list[str]) -> None:
    pdf.set_x(pdf.l_margin)
    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(0, 4.5, "What the figures mean", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", NOTE_FONT)
    for text in notes:
        pdf.multi_cell(0, NOTE_FONT * LINE, _plain(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.5)


# --- The charts -------------------------------------------------------------------------------
def _size_mm(png: bytes) -> tuple[float, float]:
    """A chart's size as drawn on screen, in mm: its PNG's pixels (IHDR: width and height
    at bytes 16-24) at ``PNG_SCALE`` pixels a CSS pixel of 0.2646 mm."""
    width, height = struct.unpack(">II", png[16:24])
    return width / PNG_SCALE * 0.2646, height / PNG_SCALE * 0.2646


def _chart_row(pdf: FPDF, charts: Sequence[bytes]) -> tuple[list[tuple[float, float]], float]:
    """The charts side by side, each at most CHART_HEIGHT tall and all fitting the page's width
    (never drawn bigger than on screen): each one's size, and the row's height."""
    if not charts:
        return [], 0.0
    sizes = [_size_mm(c) for c in charts]
    # Each no taller than CHART_HEIGHT, then all alike to fit the width.
    sizes = [(w * min(1.0, CHART_HEIGHT / h), h * min(1.0, CHART_HEIGHT / h)) for w, h in sizes]
    gaps = GAP * (len(sizes) - 1)
    scale = min(1.0, (pdf.epw - gaps) / sum(w for w, _ in sizes))
    placed = [(w * scale, h * scale) for w, h in sizes]
    return placed, max(h for _, h in placed)


def _draw_chart_row(pdf: FPDF, charts: Sequence[bytes], sizes: list[tuple[float, float]]) -> None:
    top = pdf.get_y() + 1.5
    x = pdf.l_margin
    for chart, (width, height) in zip(charts, sizes, strict=True):
        pdf.image(io.BytesIO(chart), x=x, y=top, w=width, h=height)
        x += width + GAP
    pdf.set_xy(pdf.l_margin, top + max(h for _, h in sizes) + 1.5)


# --- The table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    """A line of a folded table: a band (``figures`` None) or a row."""

    label: str
    figures: tuple[str, ...] | None = None


class _Grid:
    """A section laid out for print: its lines (bands over their rows), its figure columns and
    the headings over them, in tiers (e.g. subject, then metric), then each column's point."""

    def __init__(
        self,
        pdf: FPDF,
        *,
        title: str,
        lines: list[_Line],
        tiers: list[list[tuple[str, int]]],
        subs: list[str],
    ) -> None:
        self.pdf = pdf
        self.title = title
        self.lines = lines
        self.tiers = tiers
        self.subs = subs
        # Where a group of the outer tier starts (a rule between groups), when there are two.
        self.breaks: list[int] = []
        if len(tiers) > 1:
            at = 0
            for _, span in tiers[0][:-1]:
                at += span
                self.breaks.append(at)
        self._widths: dict[float, tuple[float, list[float]]] = {}

    @classmethod
    def folded(cls, pdf: FPDF, section: Section, *, titled: bool) -> _Grid:
        """The section as it comes, folded: its leading labels (e.g. subject and year group)
        as bands over their rows, the last label as the row's; the columns under their metric,
        a point each."""
        keys = list(section.rows[0].labels)
        lines: list[_Line] = []
        band = None
        for row in section.rows:
            values = [row.labels.get(k) or "" for k in keys]
            here = " - ".join(v for v in values[:-1] if v)
            if here and here != band:
                lines.append(_Line(_plain(here)))
                band = here
            lines.append(
                _Line(
                    _plain(values[-1]),
                    tuple(
                        _figure(cell.value, cell.suppressed, column.decimals)
                        for column, cell in zip(section.columns, row.cells, strict=True)
                    ),
                )
            )
        heads, subs = _under_metrics([c.label for c in section.columns])
        return cls(pdf, title=_title(section, titled), lines=lines, tiers=[heads], subs=subs)

    @classmethod
    def pivoted(cls, pdf: FPDF, section: Section, *, titled: bool) -> _Grid | None:
        """The section folded the other way, to take fewer lines: its first label (e.g.
        subject) as groups of columns side by side, each with its metrics over their points;
        the rows keyed by the other labels (year group as bands, key groups as rows). A
        group's column with nothing to print in any of its rows (no figure, no ``c``) is left
        out. None when the section has no second label to key its rows by."""
        keys = list(section.rows[0].labels)
        if len(keys) < 2:
            return None
        figures: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        for row in section.rows:
            rest = tuple(row.labels.get(k) or "" for k in keys[1:])
            figures[(row.labels.get(keys[0]) or "", rest)] = tuple(
                _figure(cell.value, cell.suppressed, column.decimals)
                for column, cell in zip(section.columns, row.cells, strict=True)
            )
        groups = list(dict.fromkeys(group for group, _ in figures))
        if len(groups) < 2 or len(figures) < len(section.rows):  # nothing to gain, or rows lost
            return None
        order = list(dict.fromkeys(rest for _, rest in figures))
        kept: dict[str, list[int]] = {}
        for group in groups:
            printed = [figures[(group, rest)] for rest in order if (group, rest) in figures]
            columns = [i for i in range(len(section.columns)) if any(p[i] for p in printed)]
            if columns:
                kept[group] = columns
        lines: list[_Line] = []
        band = None
        for rest in order:
            here = " - ".join(v for v in rest[:-1] if v)
            if here and here != band:
                lines.append(_Line(_plain(here)))
                band = here
            side_by_side: list[str] = []
            for group, columns in kept.items():
                own = figures.get((group, rest))  # None: the group has no such row
                side_by_side.extend(own[i] if own else "" for i in columns)
            lines.append(_Line(_plain(rest[-1]), tuple(side_by_side)))
        outer: list[tuple[str, int]] = []
        metrics: list[tuple[str, int]] = []
        subs: list[str] = []
        for group, columns in kept.items():
            outer.append((group, len(columns)))
            heads, points = _under_metrics([section.columns[i].label for i in columns])
            metrics.extend(heads)
            subs.extend(points)
        title = _title(section, titled)
        return cls(pdf, title=title, lines=lines, tiers=[outer, metrics], subs=subs)

    # Measuring
    def widths(self, size: float) -> tuple[float, list[float]]:
        """The row label's width and each figure column's, at ``size``."""
        if size not in self._widths:
            pdf = self.pdf
            pdf.set_font("Helvetica", "", size)
            rows = [line for line in self.lines if line.figures is not None]
            label = max(pdf.get_string_width(line.label) for line in rows) + 2 * CELL_X
            figures = []
            for i, sub in enumerate(self.subs):
                texts = {line.figures[i] for line in rows if line.figures}  # type: ignore[index]
                widest = max((pdf.get_string_width(t) for t in texts | {_short(sub)}), default=0)
                figures.append(widest + 2 * CELL_X)
            # A heading wraps between words, never within one (the inner tier first, so that
            # the outer one sees its columns' final widths).
            pdf.set_font("Helvetica", "B", size)
            for tier in reversed(self.tiers):
                at = 0
                for name, span in tier:
                    word = max(pdf.get_string_width(w) for w in _plain(name).split() or [""])
                    short = word + 2 * CELL_X - sum(figures[at : at + span])
                    for i in range(at, at + span):
                        figures[i] += max(0.0, short) / span
                    at += span
            self._widths[size] = (label, figures)
        return self._widths[size]

    def blocks(self, size: float) -> int:
        """How many columns of the page the table can run in at ``size``."""
        label, figures = self.widths(size)
        width = label + sum(figures)
        most = int((self.pdf.epw + GAP) // (width + GAP))
        return max(1, min(MOST_BLOCKS, most, len(self.lines)))

    def tier_lines(self, size: float) -> list[int]:
        """Lines each tier of headings takes (each heading wraps within its columns' width)."""
        pdf = self.pdf
        pdf.set_font("Helvetica", "B", size)
        _, figures = self.widths(size)
        counts = []
        for tier in self.tiers:
            lines, at = 1, 0
            for name, span in tier:
                width = sum(figures[at : at + span])
                at += span
                wrapped = pdf.multi_cell(width, 1, _plain(name), dry_run=True, output="LINES")
                lines = max(lines, len(wrapped))
            counts.append(lines)
        return counts

    def head_lines(self, size: float) -> int:
        """Lines the headings take: their tiers, then the points."""
        return sum(self.tier_lines(size)) + (1 if any(self.subs) else 0)

    def height(self, size: float) -> float:
        """The table's height on one page at ``size``, its rows shared between its columns."""
        per_block = math.ceil(len(self.lines) / self.blocks(size)) + 1  # a band repeated
        return (self.head_lines(size) + per_block) * _line(size) + 3 + (4 if self.title else 0)

    # Drawing
    def draw(self, size: float, bottom: float) -> None:
        """The table at ``size`` from the current position, in as many columns as fit, onto
        new pages while it lasts."""
        pdf = self.pdf
        blocks = self.blocks(size)
        label, figures = self.spread(size, blocks)
        width = label + sum(figures)
        lh = _line(size)
        head = self.head_lines(size) * lh
        pending = list(self.lines)
        if self.title:
            pdf.set_font("Helvetica", "B", 8)
            pdf.cell(0, 4, self.title, new_x="LMARGIN", new_y="NEXT")
        top = pdf.get_y()
        while pending:
            room = max(2, int((bottom - top - head) // lh))
            share = min(room, math.ceil(len(pending) / blocks) + 1)
            bottoms = []
            for block in range(blocks):
                if not pending:
                    break
                taken: list[_Line] = []
                if pending[0].figures is not None:  # a column starts with its band
                    band = self._band_before(pending[0])
                    if band is not None:
                        taken.append(band)
                while pending and len(taken) < share:
                    taken.append(pending.pop(0))
                if taken[-1].figures is None and pending:  # a band never ends a column
                    pending.insert(0, taken.pop())
                x = pdf.l_margin + block * (width + GAP)
                bottoms.append(self._block(x, top, size, taken))
            if pending:
                pdf.add_page()
                top = pdf.get_y()
            else:
                pdf.set_xy(pdf.l_margin, max(bottoms) + 2)

    def _band_before(self, line: _Line) -> _Line | None:
        at = next(i for i, other in enumerate(self.lines) if other is line)
        return next((b for b in reversed(self.lines[:at]) if b.figures is None), None)

    def spread(self, size: float, blocks: int) -> tuple[float, list[float]]:
        """The widths at ``size`` with the page's spare width shared between the figures (up
        to 2 mm more each), so that they stand apart."""
        label, figures = self.widths(size)
        spare = (self.pdf.epw - GAP * (blocks - 1)) / blocks - label - sum(figures)
        more = max(0.0, min(2.0, spare / max(1, len(figures))))
        return label, [w + more for w in figures]

    def _block(self, x: float, top: float, size: float, lines: list[_Line]) -> float:
        pdf = self.pdf
        label, figures = self.spread(size, self.blocks(size))
        width = label + sum(figures)
        lh = _line(size)
        # The headings: each tier (e.g. subject, then metric) over its columns, then the points.
        pdf.set_font("Helvetica", "B", size)
        pdf.set_fill_color(*HEAD_FILL)
        pdf.rect(x, top, width, self.head_lines(size) * lh, style="F")
        y = top
        for tier, tall in zip(self.tiers, self.tier_lines(size), strict=True):
            at, left = 0, x + label
            for name, span in tier:
                span_width = sum(figures[at : at + span])
                at += span
                pdf.set_xy(left, y)
                pdf.multi_cell(span_width, lh, _plain(name), align="C", max_line_height=lh)
                left += span_width
            y += tall * lh
        if any(self.subs):
            pdf.set_font("Helvetica", "", size)
            left = x + label
            for sub, w in zip(self.subs, figures, strict=True):
                pdf.set_xy(left, y)
                pdf.cell(w, lh, _plain(_short(sub)), align="R")
                left += w
            y += lh
        pdf.set_draw_color(150, 155, 165)
        pdf.line(x, y, x + width, y)
        # The rows, a band over each subject and year group.
        for line in lines:
            pdf.set_xy(x, y)
            if line.figures is None:
                pdf.set_font("Helvetica", "B", size)
                pdf.set_fill_color(*BAND_FILL)
                pdf.cell(width, lh, line.label, fill=True)
            else:
                pdf.set_font("Helvetica", "", size)
                pdf.cell(label, lh, line.label)
                for text, w in zip(line.figures, figures, strict=True):
                    pdf.cell(w, lh, text, align="R")
            y += lh
        pdf.line(x, y, x + width, y)
        for at in self.breaks:  # a rule between groups of columns, headings to foot
            left = x + label + sum(figures[:at])
            pdf.line(left, top, left, y)
        return y


def _title(section: Section, titled: bool) -> str:
    return _plain(section.title) if titled else ""


def _under_metrics(labels: list[str]) -> tuple[list[tuple[str, int]], list[str]]:
    """Columns under their metric: "% at or above (Autumn)" -> "% at or above", "Autumn".
    Each metric with the number of its columns next to one another, and each column's point."""
    heads: list[tuple[str, int]] = []
    subs: list[str] = []
    for text in labels:
        name, _, point = text.rpartition(" (")
        name, point = (name, point.rstrip(")")) if name else (text, "")
        if heads and heads[-1][0] == name:
            heads[-1] = (name, heads[-1][1] + 1)
        else:
            heads.append((name, 1))
        subs.append(point)
    return heads, subs


def _short(point: str) -> str:
    """A point's name as a column's heading: the term names shortened (Autumn -> Aut)."""
    return point[:3] if point in {"Autumn", "Spring", "Summer"} else point


def _line(size: float) -> float:
    return size * LINE + 2 * PADDING


def _fitting_size(grids: Sequence[_Grid], height: float) -> float | None:
    """The largest type (MIN_FONT to MAX_FONT) at which the tables fit in ``height``, or None."""
    size = MAX_FONT
    while size >= MIN_FONT:
        if sum(g.height(size) for g in grids) <= height:
            return size
        size -= STEP
    return None


def _figure(value: float | None, suppressed: bool, decimals: int) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None:
        return ""
    return f"{value:.{decimals}f}" if decimals else str(round(value))
