"""A report as a printable pack (PDF, A4): the school's name, the report, its points and the
day it was printed; the table, on one page however many rows it has (the type shrinks to fit,
down to a size still legible in print, and only then does it run on); its charts; the key to
``c``; and what each figure means, in plain words (app.domain.reports.MEANINGS).

fpdf2 writes it (pure Python, no system libraries). The pack shows aggregates only, never a
pupil's name, in the PDF core fonts: text they cannot show is written without its accents.
"""

from __future__ import annotations

import io
import struct
import unicodedata
from collections.abc import Sequence
from datetime import date

from fpdf import FPDF
from fpdf.fonts import FontFace

from app.domain.reports import MEANINGS, ReportTable, Section, dimension_label
from app.reports.pictures import PNG_SCALE

MARGIN = 10  # mm
MIN_FONT, MAX_FONT = 4.0, 8.0  # pt
LINE = 0.3528 * 1.15  # mm of line per pt of type
PADDING = 0.15  # mm above and below a cell's text
SUPPRESSED = "c"


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
    """The pack: the table on page one, then the charts (PNGs drawn at ``PNG_SCALE``), then
    the key and meanings."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.set_title(_plain(f"{school}: {table.title}"))
    pdf.set_creator("Markbook")
    pdf.add_page()
    _heading(pdf, table, school, printed_on)
    for section in table.sections:
        _table(pdf, section, pdf.h - pdf.get_y() - MARGIN)
    for image in charts:
        width, height = _size_mm(image)
        scale = min(1.0, pdf.epw / width)
        if pdf.get_y() + height * scale > pdf.h - MARGIN:
            pdf.add_page()
        pdf.image(io.BytesIO(image), w=width * scale)
        pdf.ln(4)
    _notes(pdf, table)
    return bytes(pdf.output())


def _size_mm(png: bytes) -> tuple[float, float]:
    """A chart's size as drawn on screen, in mm: its PNG's pixels (IHDR: width and height
    at bytes 16-24) at ``PNG_SCALE`` pixels a CSS pixel of 0.2646 mm."""
    width, height = struct.unpack(">II", png[16:24])
    return width / PNG_SCALE * 0.2646, height / PNG_SCALE * 0.2646


def _heading(pdf: FPDF, table: ReportTable, school: str, printed_on: date) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 6, _plain(f"{school}: {table.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    points = ", ".join(_point(p) for p in table.points)
    line = f"{points}. Printed on {printed_on.strftime('%-d %B %Y')}."
    if table.suppress_below:
        line += f" Figures for fewer than {table.suppress_below} pupils are shown as c."
    pdf.multi_cell(0, 4, _plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _point(point: dict[str, object]) -> str:
    label = str(point.get("label", ""))
    year = point.get("academic_year")
    return f"{label} {year}" if year else label


def _table(pdf: FPDF, section: Section, height: float) -> None:
    """A section as a table, its type sized so that it fits in ``height`` if it can."""
    lines = len(section.rows) + 5  # the header's labels wrap onto up to five lines
    size = max(MIN_FONT, min(MAX_FONT, (height / lines - 2 * PADDING) / LINE))
    labels = list(section.rows[0].labels) if section.rows else []
    names = [
        ("From" if k == "from" else "Group" if k == "group" else dimension_label(k)) for k in labels
    ]
    pdf.set_font("Helvetica", "", size)
    widths = [3.0 if k == "group" else 1.6 for k in labels] + [1.0] * len(section.columns)
    with pdf.table(
        col_widths=widths,
        line_height=size * LINE,
        text_align=["LEFT"] * len(labels) + ["RIGHT"] * len(section.columns),
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 233, 238)),
        borders_layout="HORIZONTAL_LINES",
        padding=(PADDING, 0.4),
        first_row_as_headings=True,
    ) as out:
        header = out.row()
        for name in [*names, *(c.label for c in section.columns)]:
            header.cell(_plain(name))
        for row in section.rows:
            line = out.row()
            for key in labels:
                line.cell(_plain(row.labels.get(key) or ""))
            for column, cell in zip(section.columns, row.cells, strict=True):
                line.cell(_figure(cell.value, cell.suppressed, column.decimals))
    pdf.ln(3)


def _figure(value: float | None, suppressed: bool, decimals: int) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None:
        return ""
    return f"{value:.{decimals}f}" if decimals else str(round(value))


def _notes(pdf: FPDF, table: ReportTable) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 5, "What the figures mean", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    metrics = dict.fromkeys(c.metric for s in table.sections for c in s.columns)
    for text in [*(MEANINGS[m] for m in metrics), *table.notes]:
        pdf.multi_cell(0, 3.8, _plain(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.8)
