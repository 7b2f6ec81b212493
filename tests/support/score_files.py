"""Score files for tests: CSVs as test providers and spreadsheets write them, XLSX workbooks
made with openpyxl, hostile uploads (a zip bomb dressed as a workbook, an old .xls, binary
files), and column mappings.

Tables are given as a header and rows of cells; a cell may be text, a number, a date or
None (blank). The CSV writer writes cells as a spreadsheet would show them (dates the UK
way unless given as text).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

Cells = Sequence[Any]

# What a test provider's export looks like: a title line above the header, the pupil's
# UPN and names, then the scores. header_row is 2.
PROVIDER_TITLE = "New Group Reading Test - Autumn 2025 - Group export"
PROVIDER_HEADER = (
    "UPN",
    "Surname",
    "Forename",
    "Date of Birth",
    "Gender",
    "Class",
    "Standard Age Score",
    "Stanine",
    "National Percentile Rank",
)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y %H:%M")
    if isinstance(cell, date):
        return cell.strftime("%d/%m/%Y")
    return str(cell)


def scores_csv(
    header: Cells,
    rows: Iterable[Cells],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    title_lines: Iterable[str] = (),
    line_end: str = "\r\n",
) -> bytes:
    """A CSV of the table, with ``title_lines`` above the header (as provider exports have)."""
    out = io.StringIO()
    for line in title_lines:
        out.write(line + line_end)
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow([_text(cell) for cell in header])
    for row in rows:
        writer.writerow([_text(cell) for cell in row])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def provider_csv(rows: Iterable[Cells], **options: Any) -> bytes:
    """A reading-test provider's export (see ``PROVIDER_HEADER``), header on row 2."""
    return scores_csv(PROVIDER_HEADER, rows, title_lines=[PROVIDER_TITLE], **options)


def scores_xlsx(
    header: Cells,
    rows: Iterable[Cells],
    *,
    sheet: str = "Results",
    before: Sequence[str] = (),
    title_rows: Iterable[Cells] = (),
    date_format: str = "dd/mm/yyyy",
) -> bytes:
    """A workbook whose sheet ``sheet`` holds the table (``title_rows`` above the header),
    after empty sheets named ``before``. Dates are real spreadsheet dates."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    sheets = [*before, sheet]
    first.title = sheets[0]
    for name in sheets[1:]:
        workbook.create_sheet(name)
    worksheet = workbook[sheet]
    for row in [*title_rows, header, *rows]:
        worksheet.append(list(row))
    for row in worksheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, date | datetime):
                cell.number_format = date_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def mapping(
    point_id: uuid.UUID,
    columns: dict[str, uuid.UUID],
    *,
    pupil: dict[str, str] | None = None,
    **extra: Any,
) -> str:
    """A mapping's JSON text: pupils by UPN in column "UPN" unless ``pupil`` says otherwise."""
    return json.dumps(
        {
            "assessment_point_id": str(point_id),
            "pupil": pupil or {"by": "upn", "column": "UPN"},
            "columns": [
                {"column": column, "measure_id": str(measure_id)}
                for column, measure_id in columns.items()
            ],
            **extra,
        }
    )


# --- Hostile and wrong files -------------------------------------------------------------------


def patched_xlsx(data: bytes, replacements: dict[bytes, bytes]) -> bytes:
    """A workbook with bytes of its sheets' XML replaced, as a crafted file could have them
    (say a number ``<v>1E999</v>`` that no spreadsheet would write)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            member = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                for old, new in replacements.items():
                    member = member.replace(old, new)
            archive.writestr(info, member)
    return buffer.getvalue()


def xlsx_bomb(megabytes: int = 20) -> bytes:
    """A zip shaped like a workbook whose sheet is ``megabytes`` MB of one repeated byte: it
    compresses about 1000:1, the ratio of a zip bomb."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def plain_zip() -> bytes:
    """A zip of a text file: not a workbook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def damaged_xlsx() -> bytes:
    """A zip with a workbook's member names but nonsense inside them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "not xml at all")
        archive.writestr("xl/workbook.xml", "<workbook")
    return buffer.getvalue()


# The first bytes of the old binary Excel format (an OLE2 compound file).
OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
# A PNG image's signature and header: binary, not a table.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


# --- Several sittings, US dates, padded ids -------------------------------------------------------
# A US reading-test provider's export, as its "all tests" report writes it: one row per
# sitting (four per pupil this autumn, not in date order), dates month first with the time
# of day where the test was taken online, and student ids zero-padded to six digits.
US_HEADER = (
    "Student ID",
    "Student Last Name",
    "Student First Name",
    "Birthdate",
    "Completed Date",
    "Scaled Score",
    "Percentile Rank",
)
# (padded id, sittings as (completed, scaled score, percentile)); per pupil the latest
# sitting is not the highest.
US_SITTINGS: dict[str, list[tuple[str, int, int]]] = {
    "000123": [
        ("09/08/2025", 98, 45),
        ("10/14/2025 9:05 AM", 104, 61),  # the highest
        ("11/20/2025 2:30:00 PM", 101, 53),  # the latest
        ("11/03/2025", 95, 38),
    ],
    "004567": [
        ("10/13/2025", 115, 84),  # the highest
        ("09/09/2025", 110, 75),
        ("12/01/2025", 108, 70),  # the latest
        ("11/17/2025", 112, 79),
    ],
}


def us_sittings_csv(
    people: dict[str, tuple[str, str, str]],
    sittings: dict[str, list[tuple[str, int, int]]] | None = None,
) -> bytes:
    """The US export for ``people`` (padded id -> surname, forename, birthdate as the file
    writes it, month first), with ``sittings`` (default ``US_SITTINGS``) interleaved by
    sitting, as a provider lists its tests."""
    chosen = US_SITTINGS if sittings is None else sittings
    rows = []
    for index in range(max(len(tests) for tests in chosen.values())):
        for student, tests in chosen.items():
            if index < len(tests):
                surname, forename, born = people[student]
                completed, scaled, percentile = tests[index]
                rows.append((student, surname, forename, born, completed, scaled, percentile))
    return scores_csv(US_HEADER, rows)
