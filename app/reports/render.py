"""Renderers: a report table as JSON-ready data, CSV or XLSX. Pure: no I/O beyond the bytes
they yield, so a route can stream them.

- JSON: ``render_json``, the table as plain dicts and lists.
- CSV (RFC 4180, UTF-8, CRLF, optional BOM so Excel reads UTF-8): one header line of the row
  labels' names and the columns' labels, then a line per row; several sections follow one
  another, each under its title. Numbers are written with their column's decimals;
  suppressed cells as ``c``, with a key line at the end. Text that a spreadsheet would take
  for a formula (starting with = + - @, a tab or a carriage return) is prefixed with ``'``.
- XLSX (openpyxl in write-only mode: rows are streamed to disk, so memory stays bounded):
  a sheet per section, typed numbers with number formats from the column's decimals, the
  header row frozen, suppressed cells as ``c``, and the suppression key under the table.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.domain.reports import Column, ReportTable, Section, dimension_label
from app.reports.charts import chart_specs

SUPPRESSED = "c"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 64 * 1024


def render_json(table: ReportTable, *, charts: bool = False) -> dict[str, Any]:
    """The table as plain data; with ``charts``, its Vega-Lite charts too (app.reports.charts)."""
    rendered = table.to_json()
    if charts:
        rendered["charts"] = chart_specs(table)
    return rendered


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _label_names(section: Section) -> list[str]:
    if not section.rows:
        return []
    names = []
    for key in section.rows[0].labels:
        if key == "group":
            names.append("Group")
        elif key == "from":
            names.append("From")
        else:
            names.append(dimension_label(key))
    return names


def _number_text(column: Column, value: float | int) -> str:
    if column.decimals == 0:
        return str(round(value))
    return f"{value:.{column.decimals}f}"


def _key_lines(table: ReportTable) -> list[str]:
    return list(table.notes)


def render_csv(table: ReportTable, *, bom: bool = False) -> Iterator[bytes]:
    """The table as CSV, yielded in pieces (a line at a time, roughly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    if bom:
        yield "\ufeff".encode()
    several = len(table.sections) > 1
    for index, section in enumerate(table.sections):
        if several:
            if index:
                writer.writerow([])
            writer.writerow([neutralise(section.title)])
        writer.writerow(
            [neutralise(n) for n in _label_names(section)]
            + [neutralise(c.label) for c in section.columns]
        )
        for row in section.rows:
            line = [neutralise(str(label)) for label in row.labels.values()]
            for column, cell in zip(section.columns, row.cells, strict=True):
                if cell.suppressed:
                    line.append(SUPPRESSED)
                elif cell.value is None:
                    line.append("")
                else:
                    line.append(_number_text(column, cell.value))
            writer.writerow(line)
            if buffer.tell() > _CHUNK:
                yield flush()
    writer.writerow([])
    for note in _key_lines(table):
        writer.writerow([neutralise(note)])
    yield flush()


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Report"
    clean = clean[:31]
    found, serial = clean, 2
    while found.lower() in used:
        suffix = f" ({serial})"
        found = clean[: 31 - len(suffix)] + suffix
        serial += 1
    used.add(found.lower())
    return found


def _format(decimals: int) -> str:
    return "0" if decimals == 0 else "0." + "0" * decimals


def render_xlsx(table: ReportTable) -> Iterator[bytes]:
    """The table as an XLSX workbook, written in bounded memory, yielded in pieces."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for section in table.sections:
        sheet = book.create_sheet(_sheet_title(section.title or section.name, used))
        sheet.freeze_panes = "A2"
        header = []
        for name in [*_label_names(section), *(c.label for c in section.columns)]:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        formats = [_format(c.decimals) for c in section.columns]
        for row in section.rows:
            line: list[Any] = [str(label) for label in row.labels.values()]
            for number_format, cell in zip(formats, row.cells, strict=True):
                if cell.suppressed:
                    line.append(SUPPRESSED)
                elif cell.value is None:
                    line.append(None)
                else:
                    written = WriteOnlyCell(sheet, value=cell.value)
                    written.number_format = number_format
                    line.append(written)
            sheet.append(line)
        sheet.append([])
        for note in _key_lines(table):
            sheet.append([note])
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk
