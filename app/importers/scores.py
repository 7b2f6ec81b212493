"""Score files from test providers and spreadsheets: a CSV or an XLSX workbook read into a
header row and data rows, ready for a column mapping.

Pure: no database. What a cell *means* (which pupil, which measure) is the score import
service's business; this module only reads the table faithfully and safely:

- CSV: UTF-8 (with or without a byte order mark), UTF-16 with a byte order mark (Excel's
  "Unicode text"), else Windows-1252 (what Excel on Windows saves as "CSV"). The delimiter is
  whichever of comma, semicolon and tab splits the first lines most consistently. Cells are
  strings, trimmed.
- XLSX: read with openpyxl in read-only mode, cached formula results rather than formulas,
  after the zip has been checked for bombs and path tricks (``SafeZip``). Cells keep their
  types: text, whole and decimal numbers, true/false, and dates (a date-time at midnight is a
  date).
- Rows are numbered as a spreadsheet shows them (the first row is 1), blank rows included, so
  an error can point at the row a teacher sees. Blank rows (nothing under any of the header's
  columns) are skipped, and so is everything above the header row.
- At most ``MAX_ROWS`` data rows and ``MAX_COLUMNS`` columns; more, or a file that cannot be
  read as a table at all, raises ``FileRejected`` naming the file and, where it can, the row.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from app.domain.errors import DomainError
from app.domain.sittings import DateFormat, parse_moment
from app.importers.errors import FileRejected
from app.importers.safety import SafeZip, ZipLimits

MAX_ROWS = 10_000
MAX_COLUMNS = 200
# Blank rows are skipped, but each costs a step: a sheet may run this far past its header.
MAX_SHEET_ROWS = 100_000
# A workbook is small next to a roster zip; its XML may unpack to at most this much.
XLSX_LIMITS = ZipLimits(
    max_members=500, max_total_bytes=128 * 1024 * 1024, max_member_bytes=128 * 1024 * 1024
)
SNIFF_LINES = 50
DELIMITERS = (",", ";", "\t")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) format
XLSX_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    }
)

Cell = str | int | float | bool | date | datetime
FileFormat = Literal["csv", "xlsx"]


class OptionMismatch(DomainError):
    """The file is readable, but a reading option does not fit it: a sheet it does not have,
    or a header row past its end. ``option`` names the option ("sheet", "header_row")."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message, field=option)
        self.option = option


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One data row: its number as the spreadsheet shows it, and one cell per header column
    (None where the row is shorter than the header or the cell is blank)."""

    number: int
    cells: tuple[Cell | None, ...]


@dataclass(frozen=True)
class ScoreTable:
    """A score file read whole: its header (column names, trimmed; "" for an unnamed
    column) and its non-blank data rows in file order."""

    filename: str
    file_format: FileFormat
    sheets: list[str]  # the workbook's sheets, in order; [] for a CSV
    sheet: str | None  # the sheet read; None for a CSV
    header_row: int
    columns: list[str]
    rows: list[ScoreRow]
    delimiter: str | None = None  # for a CSV


def detect_format(data: bytes, *, filename: str, content_type: str | None = None) -> FileFormat:
    """CSV or XLSX, by content first (an XLSX is a zip), then by name and content type.

    A zip is read as a workbook whatever it is called; a file called .xlsx that is not a zip,
    and the old binary .xls format, are refused with the reason."""
    name = filename.lower()
    media = (content_type or "").split(";")[0].strip().lower()
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        raise FileRejected(
            filename, None, "this is an old Excel .xls workbook: save it as .xlsx or CSV"
        )
    if name.endswith((".xlsx", ".xlsm")) or media in XLSX_TYPES:
        raise FileRejected(filename, None, "not a valid .xlsx workbook (it is not a zip)")
    return "csv"


def read_scores(
    data: bytes,
    *,
    filename: str,
    content_type: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
) -> ScoreTable:
    """Read a score file (CSV or XLSX) into its header and data rows.

    ``sheet`` picks a workbook's sheet by name (case and surrounding spaces ignored); by
    default the first. ``header_row`` is the row holding the column names (1 = the first);
    rows above it are ignored. Raises ``FileRejected`` for an unreadable or oversized file,
    ``OptionMismatch`` for a sheet or header row the file does not have."""
    if header_row < 1:
        raise OptionMismatch("header_row", "the header row is counted from 1")
    if not data.strip():
        raise FileRejected(filename, None, "the file is empty")
    file_format = detect_format(data, filename=filename, content_type=content_type)
    if file_format == "xlsx":
        return _read_xlsx(data, filename=filename, sheet=sheet, header_row=header_row)
    return _read_csv(data, filename=filename, header_row=header_row)


# --- Table ---------------------------------------------------------------------------------


def _table(
    records: Iterable[tuple[int, Sequence[Cell | None]]],
    *,
    filename: str,
    header_row: int,
) -> tuple[list[str], list[ScoreRow]]:
    """The header and data rows of (row number, cells) records in order, with the limits
    applied. Cells must already be trimmed (blank cells None)."""
    columns: list[str] | None = None
    rows: list[ScoreRow] = []
    for number, raw in records:
        if number < header_row:
            continue
        cells = _trim_end(raw)
        if len(cells) > MAX_COLUMNS:
            raise FileRejected(
                filename,
                f"row {number}",
                f"{len(cells)} columns: at most {MAX_COLUMNS} are read",
            )
        if columns is None:
            if number > header_row or not cells:
                raise OptionMismatch("header_row", f"row {header_row} (the header row) is blank")
            columns = [_header_name(cell) for cell in cells]
            continue
        width = len(columns)
        padded = tuple(cells[:width]) + (None,) * (width - len(cells))
        if all(cell is None for cell in padded):
            continue  # blank, or notes only in columns with no name
        if len(rows) == MAX_ROWS:
            raise FileRejected(
                filename,
                f"row {number}",
                f"more than {MAX_ROWS:,} rows of data: split the file",
            )
        rows.append(ScoreRow(number, padded))
    if columns is None:
        raise OptionMismatch(
            "header_row", f"the file has no row {header_row}, so no header row there"
        )
    return columns, rows


def _trim_end(cells: Sequence[Cell | None]) -> list[Cell | None]:
    out = list(cells)
    while out and out[-1] is None:
        out.pop()
    return out


def _header_name(cell: Cell | None) -> str:
    if cell is None:
        return ""
    text = cell_text(cell)
    return " ".join(text.split())


# --- CSV -----------------------------------------------------------------------------------


def decode_csv(data: bytes, *, filename: str) -> str:
    """A CSV's text: UTF-8 (byte order mark or not), UTF-16 with its byte order mark, or else
    Windows-1252. A file with NUL characters is binary, not a spreadsheet's CSV."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileRejected(filename, None, "not readable UTF-16 text") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                raise FileRejected(
                    filename,
                    f"line {line}",
                    f"not text (byte 0x{data[exc.start]:02x}): upload a CSV or XLSX file",
                ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(filename, f"line {line}", "binary content: upload a CSV or XLSX file")
    # Old DOS tools end a text file with Ctrl-Z.
    return text.rstrip("\x1a")


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever splits the first lines into the same number of
    fields (more than one) most often; ties go to more fields, then to the comma. A delimiter
    that would leave a quoted cell's closing quote followed by anything but a delimiter (so
    ``"0";","`` is not read with commas) is tried only if every delimiter does."""
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    for strict in (True, False):
        best, best_score = None, (0, 0)
        for delimiter in DELIMITERS:
            try:
                widths = [
                    len(fields)
                    for fields in csv.reader(
                        io.StringIO(sample), delimiter=delimiter, strict=strict
                    )
                    if any(field.strip() for field in fields)
                ]
            except csv.Error:
                continue
            if not widths:
                continue
            width, count = Counter(widths).most_common(1)[0]
            score = (count if width > 1 else 0, width)
            if best is None or score > best_score:
                best, best_score = delimiter, score
        if best is not None:
            return best
    return ","


def _read_csv(data: bytes, *, filename: str, header_row: int) -> ScoreTable:
    text = decode_csv(data, filename=filename)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[Cell | None]]]:
        # Each record is a row as a spreadsheet opening the file shows it (a blank line is
        # a blank row; a quoted line break stays inside its cell).
        for number, fields in enumerate(reader, start=1):
            yield number, [field.strip() or None for field in fields]

    try:
        columns, rows = _table(records(), filename=filename, header_row=header_row)
    except csv.Error as exc:
        raise FileRejected(filename, f"line {reader.line_num}", f"unreadable CSV ({exc})") from None
    return ScoreTable(
        filename=filename,
        file_format="csv",
        sheets=[],
        sheet=None,
        header_row=header_row,
        columns=columns,
        rows=rows,
        delimiter=delimiter,
    )


# --- XLSX ----------------------------------------------------------------------------------


def check_workbook_zip(data: bytes, *, filename: str, limits: ZipLimits = XLSX_LIMITS) -> None:
    """Refuse a workbook whose zip is unsafe: too many members, paths leaving the archive,
    encryption, or members that unpack past the limits or at a zip bomb's ratio. Every
    member is unpacked once here, in chunks, so a header that understates its size is caught
    before openpyxl reads anything."""
    with SafeZip(data, filename=filename, limits=limits) as archive:
        names = archive.names
        for name in names:
            archive.drain(name)
        if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
            if "mimetype" in names:
                reason = "an OpenDocument file: save it as .xlsx or CSV"
            else:
                reason = "a zip, but not an Excel .xlsx workbook"
            raise FileRejected(filename, None, reason)


def _read_xlsx(data: bytes, *, filename: str, sheet: str | None, header_row: int) -> ScoreTable:
    check_workbook_zip(data, filename=filename)
    # Imported here: openpyxl is only needed for workbooks.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except FileRejected:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise FileRejected(
            filename, None, f"not a readable .xlsx workbook ({_brief(exc)})"
        ) from None
    try:
        sheets = [str(name) for name in workbook.sheetnames]
        if not sheets:
            raise FileRejected(filename, None, "the workbook has no sheets")
        chosen = _pick_sheet(sheets, sheet)
        worksheet = workbook[chosen]
        if not hasattr(worksheet, "iter_rows"):
            raise OptionMismatch("sheet", f"{chosen!r} is a chart, not a sheet of cells")
        # The stored dimension can claim any size; read what the sheet really holds.
        worksheet.reset_dimensions()
        where = f"sheet {chosen!r}"

        def records() -> Iterator[tuple[int, list[Cell | None]]]:
            # One column past the limit is read, so a wider sheet is noticed.
            rows = worksheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
            for number, values in enumerate(rows, start=1):
                if number > MAX_SHEET_ROWS + header_row:
                    raise FileRejected(
                        filename,
                        f"{where} row {number}",
                        f"the sheet runs past row {MAX_SHEET_ROWS + header_row:,}: "
                        "remove the blank rows or split the file",
                    )
                yield number, [xlsx_cell(value) for value in values]

        try:
            columns, rows = _table(records(), filename=filename, header_row=header_row)
        except (FileRejected, OptionMismatch):
            raise
        except Exception as exc:
            raise FileRejected(filename, where, f"not a readable sheet ({_brief(exc)})") from None
    finally:
        workbook.close()
    return ScoreTable(
        filename=filename,
        file_format="xlsx",
        sheets=sheets,
        sheet=chosen,
        header_row=header_row,
        columns=columns,
        rows=rows,
    )


def _pick_sheet(sheets: list[str], wanted: str | None) -> str:
    if wanted is None or not wanted.strip():
        return sheets[0]
    key = wanted.strip().casefold()
    for name in sheets:
        if name.strip().casefold() == key:
            return name
    listed = ", ".join(repr(name) for name in sheets)
    raise OptionMismatch("sheet", f"no sheet {wanted!r}: the workbook has {listed}")


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def xlsx_cell(value: object) -> Cell | None:
    """A workbook cell as a score table cell: text trimmed (blank is None), a date-time at
    midnight as a date, times and durations as text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # a crafted number such as 1E999: no spreadsheet holds one
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value
    if isinstance(value, date):
        return value
    if isinstance(value, time | timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return str(value).strip() or None


# --- Cells ---------------------------------------------------------------------------------

# Excel's day 1 is 1900-01-01, counted through its phantom 29 February 1900.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = range(61, 2_958_466)  # 1 March 1900 to 31 December 9999
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def cell_text(cell: Cell) -> str:
    """A cell as text: whole numbers without ".0", dates as YYYY-MM-DD, true/false as TRUE
    and FALSE (as a spreadsheet shows them)."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def cell_date(cell: Cell, date_format: DateFormat = DateFormat.DAY_FIRST) -> date:
    """A date of birth (or any date) from a cell: a spreadsheet date, an Excel day number, or
    text in the file's stated order (app/domain/sittings.py): by default 2016-03-04 or
    04/03/2016 (day first, as in the UK; 4/3/2016, 04.03.2016 and 04-03-2016 too). Raises
    ValueError with the reason."""
    moment = cell_moment(cell, date_format)
    if moment.time() != time(0) and not isinstance(cell, datetime):
        raise ValueError(f"{cell_text(cell)!r} is a date and a time: write only the date")
    return moment.date()


def cell_moment(cell: Cell, date_format: DateFormat = DateFormat.DAY_FIRST) -> datetime:
    """A date with its time of day (midnight if none is written) from a cell, as
    ``cell_date`` reads dates: a sitting's date, which may say when in the day it was."""
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime.combine(cell, time(0))
    if isinstance(cell, bool):
        raise ValueError(f"{cell_text(cell)} is not a date")
    if isinstance(cell, int | float):
        if not float(cell).is_integer() or int(cell) not in _EXCEL_SERIALS:
            raise ValueError(f"{cell_text(cell)} is not a date")
        return datetime.combine(_EXCEL_EPOCH + timedelta(days=int(cell)), time(0))
    return parse_moment(cell, date_format)


def cell_number(cell: Cell, *, decimal_comma: bool = False) -> Decimal:
    """A number from a cell, exactly as written (102.5 stays 102.5). With ``decimal_comma``
    (a semicolon-separated CSV, as European spreadsheets write), "102,5" is 102.5 too.
    Raises ValueError."""
    if isinstance(cell, bool) or isinstance(cell, date | datetime):
        raise ValueError(f"{cell_text(cell)} is not a number")
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        return Decimal(repr(cell))
    text = cell.strip()
    if decimal_comma and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return number


def fold_name(text: str) -> str:
    """A name for matching: accents dropped, case folded, spaces collapsed ("  Chloé  O'Brien"
    and "chloe o'brien" are the same name)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


def normalise_upn(text: str) -> str:
    """A UPN as stored: upper case, no spaces."""
    return "".join(text.split()).upper()
