"""A CSV of objectives to a framework's objectives.

The columns are those of the shipped national curriculum files (app/starter/national_curriculum):
``subject, curriculum_year, strand, sub_strand, code, statement``, with an optional ``key``
(or ``is_key``) column flagging key / non-negotiable objectives. Column names are matched
without regard to case; other columns are ignored (with a warning). Objectives keep file order.

Unlike a roster file, a framework is stored whole or not at all, so any bad row rejects the
file with ``FileRejected`` naming the row as a spreadsheet numbers it (the header is row 1).

``ImportedFramework`` is also what the CASE importer (app/importers/case.py) returns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from app.domain.curriculum import (
    MAX_OBJECTIVES,
    CurriculumYears,
    check_label,
    check_objective_code,
    check_statement,
    check_unique_codes,
)
from app.domain.errors import DomainError
from app.importers.errors import FileRejected


@dataclass(frozen=True)
class ImportedFramework:
    """What an objectives file says, ready for the framework service to store.

    Each objective is a dict with the keys ``code``, ``statement``, ``curriculum_years`` (a
    ``CurriculumYears.label`` such as "3" or "3-4", or None when the file does not say),
    ``strand`` and ``sub_strand`` (None when blank), ``is_key``, ``position`` (1-based, parents
    before children) and ``parent_code`` (None at the top level, and always for a CSV).
    """

    subject: str | None  # as the file names it; None when it does not
    source: str  # where it came from: "CSV: english.csv", "CASE: ACT, Inc."
    title: str | None  # the framework's title, when the file has one (CASE)
    objectives: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)  # short: counts, not one per row


REQUIRED_COLUMNS = ("subject", "curriculum_year", "strand", "sub_strand", "code", "statement")
KEY_COLUMNS = ("key", "is_key")
_TRUE = frozenset({"true", "yes", "y", "1", "x", "key"})
_FALSE = frozenset({"", "false", "no", "n", "0"})


def decode_utf8(data: bytes, *, filename: str) -> str:
    """UTF-8 text, with or without a byte order mark; otherwise rejected naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            filename,
            f"line {line}",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        ) from None


def parse_objectives_csv(data: bytes, *, filename: str = "objectives.csv") -> ImportedFramework:
    """Read a CSV of objectives; raise ``FileRejected`` naming the row if any row is bad, or
    naming the file if it cannot be read as an objectives CSV at all."""
    text = decode_utf8(data, filename=filename)
    header, rows = _read_rows(text, filename)
    warnings: list[str] = []
    extra = [column for column in header if column not in REQUIRED_COLUMNS + KEY_COLUMNS]
    if extra:
        warnings.append(f"columns not read: {', '.join(extra)}")
    key_column = next((column for column in KEY_COLUMNS if column in header), None)

    if not rows:
        raise FileRejected(filename, None, "no objectives: the file has a header and no rows")
    if len(rows) > MAX_OBJECTIVES:
        raise FileRejected(
            filename, None, f"more than {MAX_OBJECTIVES} objectives: too many for one framework"
        )

    objectives: list[dict[str, Any]] = []
    numbers: list[int] = []
    subject: str | None = None
    subject_row = 0
    for number, values in rows:
        where = f"row {number}"
        try:
            objective = _objective(values, key_column)
        except DomainError as exc:
            raise FileRejected(filename, where, exc.message) from None
        row_subject = values["subject"]
        if row_subject:
            if subject is None:
                subject, subject_row = row_subject, number
            elif _fold(row_subject) != _fold(subject):
                raise FileRejected(
                    filename,
                    where,
                    f"subject {row_subject!r} differs from {subject!r} (row {subject_row}): "
                    "one file is one subject",
                )
        objective["position"] = len(objectives) + 1
        objectives.append(objective)
        numbers.append(number)

    repeats = check_unique_codes(objective["code"] for objective in objectives)
    if repeats:
        first, repeat = repeats[0]
        raise FileRejected(
            filename,
            f"row {numbers[repeat]}",
            f"code {objectives[repeat]['code']!r} is already used in row {numbers[first]}",
        )
    return ImportedFramework(
        subject=subject,
        source=f"CSV: {filename}",
        title=None,
        objectives=objectives,
        warnings=warnings,
    )


def _objective(values: dict[str, str], key_column: str | None) -> dict[str, Any]:
    code = check_objective_code(values["code"])
    raw_year = values["curriculum_year"]
    if not raw_year:
        raise DomainError("curriculum_year is empty", field="curriculum_year")
    years = CurriculumYears.parse(raw_year)
    statement = check_statement(values["statement"])
    strand = check_label(values["strand"], field="strand")
    if strand is None:
        raise DomainError("strand is empty", field="strand")
    return {
        "code": code,
        "statement": statement,
        "curriculum_years": years.label,
        "strand": strand,
        "sub_strand": check_label(values["sub_strand"], field="sub_strand"),
        "is_key": _flag(values[key_column], key_column) if key_column else False,
        "parent_code": None,
    }


def _flag(raw: str, column: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise DomainError(f"{column} is {raw!r}: use yes or no (or leave it blank)", field=column)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _read_rows(text: str, filename: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header's column names (lower case) and the data rows as (row number, values by
    column), values stripped. Blank lines are skipped but still counted, as a spreadsheet
    shows them."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = next(reader, None)
        if header is None:
            raise FileRejected(filename, None, "empty file: no header row")
        columns = [column.strip().lower() for column in header]
        if not all(columns) or len(set(columns)) != len(columns):
            raise FileRejected(
                filename, "row 1", "unreadable header: blank or repeated column names"
            )
        missing = [column for column in REQUIRED_COLUMNS if column not in columns]
        if missing:
            names = ", ".join(missing)
            raise FileRejected(
                filename,
                "row 1",
                f"missing column{'s' if len(missing) > 1 else ''} {names} (the header needs "
                f"{', '.join(REQUIRED_COLUMNS)})",
            )
        if all(column in columns for column in KEY_COLUMNS):
            raise FileRejected(filename, "row 1", "both key and is_key columns: keep one")
        for number, fields in enumerate(reader, start=2):
            if not any(value.strip() for value in fields):
                continue
            if len(fields) != len(columns):
                raise FileRejected(
                    filename,
                    f"row {number}",
                    f"{len(fields)} fields, but the header has {len(columns)}",
                )
            rows.append(
                (number, dict(zip(columns, (value.strip() for value in fields), strict=True)))
            )
            if len(rows) > MAX_OBJECTIVES:
                break
    except csv.Error as exc:
        raise FileRejected(filename, f"line {reader.line_num}", f"unreadable CSV ({exc})") from None
    return columns, rows
