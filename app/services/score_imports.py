"""Score imports: a CSV or XLSX file from a test provider or a school's spreadsheet, read with
a column mapping into measure values at one assessment point.

How a file is read:
- The mapping (app/db/score_imports.py) names the columns; names are matched without regard
  to case or surrounding spaces. A column the file does not have is a mistake in the mapping
  (422 on ``mapping.columns.N.column``, listing the file's columns), and so is a measure that
  is not the school's or its trust's, or an assessment point of another school.
- Each data row names one pupil, among the school's pupils the caller may record for (a
  teacher: the pupils of the classes they teach): by UPN, by the MIS's external id, or by
  forename and surname (legal or preferred; case, accents and spaces ignored) with the date
  of birth. A row whose pupil is not found, or could be more than one pupil, is a row error.
  An MIS id of digits only matches without regard to leading zeros where that is unambiguous
  in the school (a spreadsheet drops them; a provider may pad them).
- Several rows for one pupil (a test sat more than once) are refused, or, as the mapping's
  ``sittings`` says, the latest or the highest is kept and the others set aside, each with the
  reason (app/domain/sittings.py). Dates written as text are read in the mapping's
  ``date_format`` (day first unless it says otherwise).
- Each mapped column's cell is the pupil's value of that column's measure, checked as any
  value is (app/domain/values.py). A blank cell leaves the stored value as it is, unless the
  mapping says blank cells clear.

A dry run reads everything, checks every row and answers what would be stored, row by row,
with every row's errors; it stores nothing. A commit stores every value or none: if any row
has an error the answer is 422 naming each bad cell as ``file.row.N.<column>``.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.score_imports import (
    FilePreviewRow,
    ImportCellError,
    ImportRow,
    ImportTotals,
    ImportValue,
    PupilByKey,
    ScoreFilePreview,
    ScoreImportResult,
    ScoreMapping,
    SetAside,
    SetAsideRow,
)
from app.api.schemas.values import MAX_VALUES, ValueIn
from app.auth.guards import SchoolReach, school_to_record
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.curriculum import Measure
from app.db.queries.score_imports import (
    PupilKeys,
    measures_for,
    point_of_school,
    pupils_by,
    pupils_by_digits,
)
from app.db.tenancy import School
from app.domain.scales import MeasureKind
from app.domain.schools import school_uses
from app.domain.sittings import (
    DateFormat,
    KeepSitting,
    Sitting,
    choose_sitting,
    digits_key,
    ids_matching,
)
from app.errors import InvalidInput, field_error
from app.importers.errors import FileRejected
from app.importers.scores import (
    Cell,
    OptionMismatch,
    ScoreTable,
    cell_date,
    cell_moment,
    cell_number,
    cell_text,
    fold_name,
    normalise_upn,
    read_scores,
)
from app.services import offload
from app.services import values as values_service

PREVIEW_ROWS = 5
MAX_MAPPING_CHARS = 100_000
# At most this many cell errors are named in one refusal; ``error_count`` says how many.
MAX_LISTED_ERRORS = 1000
_NO_PUPIL = "no pupil in this school with {what} among those you may record for"


# --- Reading the file and the mapping ---------------------------------------------------------
async def _read(
    data: bytes,
    *,
    filename: str,
    content_type: str | None,
    sheet: str | None,
    header_row: int,
    option_prefix: str,
) -> ScoreTable:
    """The file as a table; an unreadable file is a 422 on ``file``, a sheet or header row
    it does not have a 422 on the option (``mapping.sheet``, or the form field). The file is
    read off the event loop."""
    try:
        return await offload.read_file(
            read_scores,
            data,
            filename=filename,
            content_type=content_type,
            sheet=sheet,
            header_row=header_row,
        )
    except FileRejected as exc:
        raise InvalidInput.at("file", exc.message) from None
    except OptionMismatch as exc:
        raise InvalidInput.at(f"{option_prefix}{exc.option}", exc.message) from None


def parse_mapping(text: str) -> ScoreMapping:
    """The mapping form field: JSON text, checked; mistakes are 422s on ``mapping.<path>``."""
    if len(text) > MAX_MAPPING_CHARS:
        raise InvalidInput.at("mapping", f"at most {MAX_MAPPING_CHARS:,} characters")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput.at(
            "mapping", f"not valid JSON at character {exc.pos}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InvalidInput.at("mapping", "nested too deeply") from None
    if not isinstance(raw, dict):
        raise InvalidInput.at("mapping", "must be a JSON object")
    try:
        return ScoreMapping.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            # A discriminated union puts the tag ("upn", "name_dob") into the location.
            if len(loc) > 1 and loc[0] == "pupil" and loc[1] in ("upn", "external_id", "name_dob"):
                del loc[1]
            errors.append(field_error({**error, "loc": tuple(loc)}, "mapping"))
        raise InvalidInput.of(errors) from None


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where the mapped columns are in the file (positions in a row's cells)."""

    pupil: dict[str, int]  # "key", or "first_name" / "last_name" / "date_of_birth"
    values: list[tuple[int, str, uuid.UUID, bool]]  # position, header name, measure, clears
    sitting_date: int | None = None  # the column of a sitting's date, if the mapping names one
    sitting_score: int | None = None  # the column deciding the highest sitting


def _locate(table: ScoreTable, mapping: ScoreMapping) -> _Columns:
    """Each mapped column's position in the file's header; every column the file lacks (or
    has twice) is named at once."""
    positions: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(table.columns):
        if name:
            positions[name.casefold()].append(position)
    listed = ", ".join(repr(name) for name in table.columns if name) or "none"
    errors: list[dict[str, str]] = []

    def find(name: str, where: str) -> int:
        found = positions.get(" ".join(name.split()).casefold(), [])
        if not found:
            errors.append(
                {"field": where, "reason": f"no column {name!r} in the file; its columns: {listed}"}
            )
            return -1
        if len(found) > 1:
            errors.append(
                {
                    "field": where,
                    "reason": f"the file has {len(found)} columns called {name!r}: rename all "
                    "but one",
                }
            )
        return found[0]

    pupil: dict[str, int] = {}
    if isinstance(mapping.pupil, PupilByKey):
        pupil["key"] = find(mapping.pupil.column, "mapping.pupil.column")
    else:
        for part in ("first_name", "last_name", "date_of_birth"):
            pupil[part] = find(getattr(mapping.pupil, part), f"mapping.pupil.{part}")
    values = []
    for index, column in enumerate(mapping.columns):
        position = find(column.column, f"mapping.columns.{index}.column")
        clears = (column.blank or mapping.blank) == "clear"
        values.append((position, table.columns[position], column.measure_id, clears))
    sittings = mapping.sittings
    date_at = score_at = None
    if sittings.date_column is not None:
        date_at = find(sittings.date_column, "mapping.sittings.date_column")
    elif sittings.keep is KeepSitting.LATEST:
        errors.append(
            {
                "field": "mapping.sittings.date_column",
                "reason": "required to keep the latest sitting: the column with each "
                "sitting's date",
            }
        )
    if sittings.score_column is not None:
        score_at = find(sittings.score_column, "mapping.sittings.score_column")
    elif sittings.keep is KeepSitting.HIGHEST:
        if len(mapping.columns) == 1:
            score_at = values[0][0]
        else:
            errors.append(
                {
                    "field": "mapping.sittings.score_column",
                    "reason": "required to keep the highest sitting when the mapping has more "
                    "than one column: the column whose score decides",
                }
            )
    if errors:
        raise InvalidInput.of(errors)
    return _Columns(pupil, values, date_at, score_at)


async def _check_definitions(
    session: AsyncSession, school: School, mapping: ScoreMapping
) -> dict[uuid.UUID, Measure]:
    """The mapping's measures (each the school's or its trust's, in use, and mapped from one
    column) and its assessment point (the school's)."""
    errors: list[dict[str, str]] = []
    point = await point_of_school(
        session, point_id=mapping.assessment_point_id, school_id=school.id
    )
    if point is None:
        errors.append(
            {
                "field": "mapping.assessment_point_id",
                "reason": "no such assessment point in this school",
            }
        )
    measures = await measures_for(
        session, measure_ids={column.measure_id for column in mapping.columns}
    )
    first_column: dict[uuid.UUID, int] = {}
    for index, column in enumerate(mapping.columns):
        where = f"mapping.columns.{index}.measure_id"
        measure = measures.get(column.measure_id)
        if measure is None or not (school_uses(school, measure)):
            errors.append(
                {"field": where, "reason": "no such measure for this school or its trust"}
            )
        elif measure.archived:
            errors.append({"field": where, "reason": f"measure {measure.code} is archived"})
        first = first_column.setdefault(column.measure_id, index)
        if first != index:
            errors.append(
                {
                    "field": where,
                    "reason": f"this measure is already mapped from column "
                    f"{mapping.columns[first].column!r}: a pupil has one value of it at a point",
                }
            )
    if errors:
        raise InvalidInput.of(errors)
    return measures


# --- Matching pupils -------------------------------------------------------------------------
# Values of rows whose pupil is unknown are still checked (so one dry run lists every
# problem), under this stand-in pupil; its refusal is dropped, the row's own error stands.
_NOBODY = uuid.UUID(int=0)


@dataclass
class _Row:
    number: int
    cells: tuple[Cell | None, ...]
    pupil_id: uuid.UUID | None = None
    # Not to be stored for its pupil: a repeated sitting refused, or one of sittings the rule
    # could not choose among. Its values are still checked (under no pupil).
    repeated: bool = False
    set_aside: SetAside | None = None  # another sitting of its pupil is kept
    values: list[ImportValue] = field(default_factory=list)
    errors: list[ImportCellError] = field(default_factory=list)

    def refuse(self, column: str | None, reason: str) -> None:
        where = f"file.row.{self.number}" + (f".{column}" if column else "")
        self.errors.append(ImportCellError(field=where, column=column, reason=reason))


async def _match_by_key(
    session: AsyncSession,
    access: SchoolReach,
    mapping: ScoreMapping,
    table: ScoreTable,
    rows: list[_Row],
    position: int,
) -> None:
    """Each row's pupil by UPN or external id: one key, at most one pupil (keys are unique
    within a school)."""
    assert isinstance(mapping.pupil, PupilByKey)
    by = mapping.pupil.by
    column = table.columns[position]
    keys: dict[int, str] = {}
    for row in rows:
        cell = row.cells[position]
        if cell is None:
            row.refuse(column, f"blank: every row needs the pupil's {_KEY_WORDS[by]}")
            continue
        text = cell_text(cell)
        keys[row.number] = normalise_upn(text) if by == "upn" else text
    # MIS ids of digits only are matched by their digits without leading zeros.
    digits = {key: digits_key(key) for key in keys.values()} if by == "external_id" else {}
    found = await pupils_by(
        session,
        reach=access.write,
        school_id=access.school.id,
        key=by,
        values={key for key in keys.values() if digits.get(key) is None},
    )
    pupil_of = {getattr(pupil, by): pupil.id for pupil in found}
    # School-wide, so an id is judged ambiguous against every pupil, not only those in reach.
    by_digits: dict[str, dict[str, tuple[uuid.UUID, bool]]] = defaultdict(dict)
    wanted_digits = {value for value in digits.values() if value is not None}
    if wanted_digits:
        for pupil, within in await pupils_by_digits(
            session, reach=access.write, school_id=access.school.id, digits=wanted_digits
        ):
            stored = pupil.external_id or ""
            if (number := digits_key(stored)) is not None:
                by_digits[number][stored] = (pupil.id, within)
    for row in rows:
        key = keys.get(row.number)
        if key is None:
            continue
        what = f"{_KEY_WORDS[by]} {key!r}"
        number = digits.get(key)
        if number is None:
            row.pupil_id = pupil_of.get(key)
        else:
            candidates = by_digits.get(number, {})
            matches = [candidates[found] for found in ids_matching(key, candidates)]
            if len(matches) > 1:
                row.refuse(
                    column,
                    f"{what} could be more than one pupil's: the school has MIS ids that "
                    "differ only in leading zeros, so name these pupils by UPN",
                )
                continue
            if matches and matches[0][1]:
                row.pupil_id = matches[0][0]
        if row.pupil_id is None:
            row.refuse(column, _NO_PUPIL.format(what=what))


_KEY_WORDS = {"upn": "UPN", "external_id": "MIS id"}


async def _match_by_name(
    session: AsyncSession,
    access: SchoolReach,
    table: ScoreTable,
    rows: list[_Row],
    positions: dict[str, int],
    date_format: DateFormat,
) -> None:
    """Each row's pupil by forename, surname and date of birth. A pupil answers to their
    legal and to their preferred names; two pupils who both answer make the row ambiguous."""
    first_at, last_at, born_at = (
        positions["first_name"],
        positions["last_name"],
        positions["date_of_birth"],
    )
    wanted: dict[int, tuple[str, str, date]] = {}
    for row in rows:
        first, last, born = row.cells[first_at], row.cells[last_at], row.cells[born_at]
        for cell, at, what in ((first, first_at, "forename"), (last, last_at, "surname")):
            if cell is None:
                row.refuse(table.columns[at], f"blank: every row needs the pupil's {what}")
        birth: date | None = None
        if born is None:
            row.refuse(table.columns[born_at], "blank: every row needs the pupil's date of birth")
        else:
            try:
                birth = cell_date(born, date_format)
            except ValueError as exc:
                row.refuse(table.columns[born_at], str(exc))
        if first is not None and last is not None and birth is not None:
            wanted[row.number] = (fold_name(cell_text(first)), fold_name(cell_text(last)), birth)
    found = await pupils_by(
        session,
        reach=access.write,
        school_id=access.school.id,
        key="date_of_birth",
        values={birth for _, _, birth in wanted.values()},
    )
    candidates: dict[tuple[str, str, date], set[uuid.UUID]] = defaultdict(set)
    for pupil in found:
        for name in _names(pupil):
            candidates[(*name, pupil.date_of_birth)].add(pupil.id)
    for row in rows:
        key = wanted.get(row.number)
        if key is None:
            continue
        matches = candidates.get(key, set())
        first, last, birth = key
        who = f"{cell_text(row.cells[first_at] or '')} {cell_text(row.cells[last_at] or '')}"
        if not matches:
            row.refuse(
                None, _NO_PUPIL.format(what=f"the name {who.strip()!r}, born {birth.isoformat()}")
            )
        elif len(matches) > 1:
            row.refuse(
                None,
                f"{len(matches)} pupils are called {who.strip()!r} and born {birth.isoformat()}: "
                "name them by UPN instead",
            )
        else:
            row.pupil_id = next(iter(matches))


def _names(pupil: PupilKeys) -> set[tuple[str, str]]:
    forenames = {pupil.legal_forename, pupil.preferred_forename or pupil.legal_forename}
    surnames = {pupil.legal_surname, pupil.preferred_surname or pupil.legal_surname}
    return {(fold_name(first), fold_name(last)) for first in forenames for last in surnames}


def _choose_sittings(
    mapping: ScoreMapping, table: ScoreTable, columns: _Columns, rows: list[_Row]
) -> None:
    """Rows naming the same pupil are sittings of the test: the mapping's rule keeps one (or
    refuses them) and sets the others aside, each with the reason (app/domain/sittings.py).
    A sitting's date or score the rule reads but cannot is an error on its cell."""
    keep = mapping.sittings.keep
    date_at, score_at = columns.sitting_date, columns.sitting_score
    date_name = None if date_at is None else table.columns[date_at]
    score_name = None if score_at is None else table.columns[score_at]
    decimal_comma = table.delimiter == ";"
    by_pupil: dict[uuid.UUID, list[tuple[_Row, Sitting]]] = defaultdict(list)
    for row in rows:
        if row.pupil_id is None:
            continue
        when = score = None
        if keep is not KeepSitting.REFUSE and date_at is not None and date_name is not None:
            cell = row.cells[date_at]
            if cell is not None:
                try:
                    when = cell_moment(cell, mapping.date_format)
                except ValueError as exc:
                    row.refuse(date_name, str(exc))
        if keep is KeepSitting.HIGHEST and score_at is not None and score_name is not None:
            cell = row.cells[score_at]
            if cell is not None:
                try:
                    score = cell_number(cell, decimal_comma=decimal_comma)
                except ValueError as exc:
                    row.refuse(score_name, str(exc))
        results = tuple(_same(row.cells[position]) for position, *_ in columns.values)
        by_pupil[row.pupil_id].append(
            (row, Sitting(row=row.number, when=when, score=score, results=results))
        )
    for sittings in by_pupil.values():
        if len(sittings) == 1:
            continue
        choice = choose_sitting(
            [sitting for _, sitting in sittings],
            keep,
            date_column=date_name,
            score_column=score_name,
        )
        for row, sitting in sittings:
            if row.number == choice.taken:
                continue
            if (aside := choice.set_aside.get(row.number)) is not None:
                row.set_aside = SetAside(taken_row=aside.taken, reason=aside.reason)
                continue
            row.repeated = True
            reason = choice.refused.get(row.number)
            if reason is None:
                continue  # undecided, as another sitting is refused: the file is refused
            column = None
            if keep is KeepSitting.LATEST and sitting.when is None:
                column = date_name
            elif keep is KeepSitting.HIGHEST and sitting.score is None:
                column = score_name
            if column is not None and any(error.column == column for error in row.errors):
                continue  # its cell's own error says it
            row.refuse(column, reason)


def _same(cell: Cell | None) -> object:
    """A cell as compared between sittings: 104 and "104" are the same result."""
    return None if cell is None else cell_text(cell).casefold()


# --- Values ----------------------------------------------------------------------------------
def _prepared(cell: Cell, measure: Measure, *, decimal_comma: bool, date_format: DateFormat) -> Any:
    """A cell as the value service reads values: numbers stay numbers ("102,5" is 102.5 in a
    semicolon-separated file), dates may be written the UK way or be spreadsheet dates, and
    descriptor codes and text are read as the spreadsheet shows them. Raises ValueError."""
    kind = MeasureKind(measure.kind)
    if kind is MeasureKind.NUMBER:
        if isinstance(cell, str) and decimal_comma:
            try:
                return cell_number(cell, decimal_comma=True)
            except ValueError:
                return cell  # the value service says what is wrong with it
        return cell
    if kind is MeasureKind.DATE:
        return cell_date(cell, date_format)
    if kind in (MeasureKind.TEXT, MeasureKind.SCALE):
        return cell_text(cell)
    return cell


def _shown(cell: Any) -> Any:
    """A cell as JSON can carry it in an answer."""
    if isinstance(cell, datetime):
        return cell_text(cell)  # a date and a time: as the spreadsheet shows it
    if cell is None or isinstance(cell, str | int | float | bool | date):
        return cell
    return cell_text(cell)


async def _plan(
    session: AsyncSession,
    access: SchoolReach,
    mapping: ScoreMapping,
    table: ScoreTable,
    columns: _Columns,
    measures: dict[uuid.UUID, Measure],
    rows: list[_Row],
) -> list[values_service.ValuesPlan]:
    """Check every value of the matched rows with the value service, in writes of at most
    10,000 values, and put each value (or its error) on its row."""
    decimal_comma = table.delimiter == ";"
    items: list[tuple[_Row, str, uuid.UUID, Any, ValueIn]] = []
    for row in rows:
        if row.set_aside is not None:
            # Not stored: its values are listed as read, and not checked.
            row.values = [
                ImportValue(column=column, measure_id=measure_id, value=_shown(row.cells[at]))
                for at, column, measure_id, _clears in columns.values
                if row.cells[at] is not None
            ]
            continue
        for position, column, measure_id, clears in columns.values:
            cell = row.cells[position]
            if cell is None and not clears:
                continue
            try:
                value = (
                    None
                    if cell is None
                    else _prepared(
                        cell,
                        measures[measure_id],
                        decimal_comma=decimal_comma,
                        date_format=mapping.date_format,
                    )
                )
            except ValueError as exc:
                row.refuse(column, str(exc))
                row.values.append(
                    ImportValue(column=column, measure_id=measure_id, value=_shown(cell))
                )
                continue
            known = row.pupil_id is not None and not row.repeated
            item = ValueIn(
                pupil_id=row.pupil_id if known else _NOBODY,
                measure_id=measure_id,
                assessment_point_id=mapping.assessment_point_id,
                value=value,
            )
            items.append((row, column, measure_id, cell, item))
    plans = []
    for start in range(0, len(items), MAX_VALUES):
        chunk = items[start : start + MAX_VALUES]
        plan = await values_service.plan_values(
            session, access=access, rows=[item for *_, item in chunk]
        )
        planned = {value.index: value for value in plan.values}
        for error in plan.errors:
            row, column, _measure_id, _cell, item = chunk[error.index]
            if error.field == "pupil_id":
                if item.pupil_id != _NOBODY:
                    row.refuse(None, error.reason)
            else:
                row.refuse(column, error.reason)
        for index, (row, column, measure_id, cell, _item) in enumerate(chunk):
            value = planned.get(index)
            row.values.append(
                ImportValue(
                    column=column,
                    measure_id=measure_id,
                    value=_shown(cell) if value is None else value.value,
                    status=None if value is None else value.status,
                )
            )
        plans.append(plan)
    return plans


# --- The use cases ---------------------------------------------------------------------------
async def preview_file(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    data: bytes,
    filename: str,
    content_type: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
) -> ScoreFilePreview:
    """A file's sheets, header columns and first five data rows, for building a mapping. Only
    those who may import values for the school may look (others: not found / forbidden)."""
    await school_to_record(session, principal, Resource.VALUE, school_id)
    table = await _read(
        data,
        filename=filename,
        content_type=content_type,
        sheet=sheet,
        header_row=header_row,
        option_prefix="body.",
    )
    return ScoreFilePreview(
        filename=filename,
        format=table.file_format,
        sheets=table.sheets,
        sheet=table.sheet,
        header_row=table.header_row,
        columns=table.columns,
        rows=[
            FilePreviewRow(row=row.number, cells=[_shown(cell) for cell in row.cells])
            for row in table.rows[:PREVIEW_ROWS]
        ],
        total_rows=len(table.rows),
    )


async def import_scores(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    data: bytes,
    filename: str,
    mapping_text: str,
    dry_run: bool,
    content_type: str | None = None,
) -> ScoreImportResult:
    """Read a score file with its mapping and check every row. A dry run answers every row
    (its pupil, values and errors) and stores nothing; a commit stores all the values, or,
    if any row has an error, nothing (422 naming each bad cell as ``file.row.N.<column>``)."""
    access = await school_to_record(session, principal, Resource.VALUE, school_id)
    school = access.school
    mapping = parse_mapping(mapping_text)
    table = await _read(
        data,
        filename=filename,
        content_type=content_type,
        sheet=mapping.sheet,
        header_row=mapping.header_row,
        option_prefix="mapping.",
    )
    columns = _locate(table, mapping)
    measures = await _check_definitions(session, school, mapping)
    rows = [_Row(row.number, row.cells) for row in table.rows]
    if "key" in columns.pupil:
        await _match_by_key(session, access, mapping, table, rows, columns.pupil["key"])
    else:
        await _match_by_name(session, access, table, rows, columns.pupil, mapping.date_format)
    _choose_sittings(mapping, table, columns, rows)
    plans = await _plan(session, access, mapping, table, columns, measures, rows)
    bad = [row for row in rows if row.errors]
    set_aside = [
        SetAsideRow(
            row=row.number,
            pupil_id=row.pupil_id,
            taken_row=row.set_aside.taken_row,
            reason=row.set_aside.reason,
        )
        for row in rows
        if row.set_aside is not None and row.pupil_id is not None
    ]
    totals = ImportTotals(
        rows=len(rows),
        with_errors=len(bad),
        values=sum(len(row.values) for row in rows if not row.errors and not row.set_aside),
        set_aside=len(set_aside),
    )
    if dry_run:
        return ScoreImportResult(
            dry_run=True,
            filename=filename,
            sheet=table.sheet,
            totals=totals,
            rows=[
                ImportRow(
                    row=row.number,
                    pupil_id=row.pupil_id,
                    values=row.values,
                    errors=row.errors,
                    set_aside=row.set_aside,
                )
                for row in rows
            ],
            set_aside=set_aside,
        )
    if not rows:
        raise InvalidInput.at("file", "the file has no rows of data below its header")
    if bad:
        errors = [
            {"field": error.field, "reason": error.reason} for row in bad for error in row.errors
        ]
        raise InvalidInput.of(
            errors[:MAX_LISTED_ERRORS],
            lead=f"{len(bad)} of {len(rows)} rows have errors, nothing was stored: ",
            total=len(errors),
            error_count=len(errors),
            rows_with_errors=[row.number for row in bad][:MAX_LISTED_ERRORS],
        )
    written = cleared = unchanged = 0
    for plan in plans:
        result = await values_service.store_values(
            session, principal=principal, school=school, plan=plan
        )
        written += result.written
        cleared += result.cleared
        unchanged += result.unchanged
    return ScoreImportResult(
        dry_run=False,
        filename=filename,
        sheet=table.sheet,
        totals=totals,
        written=written,
        cleared=cleared,
        unchanged=unchanged,
        set_aside=set_aside,
    )
