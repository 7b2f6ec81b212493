"""Score imports through the API: the column mapping a client sends with a file, what a dry
run and a commit answer, and a file's shape for building a mapping.

A mapping says which column names each pupil (by UPN, by the MIS's external id, or by
forename, surname and date of birth), which columns hold values of which measures, and the
assessment point the values are for. Column names are matched without regard to case or
surrounding spaces.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from app.api.schemas.base import Input, Output
from app.domain.sittings import DateFormat, KeepSitting
from app.importers.scores import MAX_COLUMNS

BlankCells = Literal["skip", "clear"]
ColumnName = Annotated[str, Field(min_length=1, max_length=200)]
FileCell = str | int | float | bool | date | None


# --- The mapping ---------------------------------------------------------------------------
class PupilByKey(Input):
    """Pupils named by one column: their UPN (read in capitals, spaces ignored) or the MIS's
    external id (as stored, spaces around it ignored). An MIS id of digits only is matched
    without regard to leading zeros (a spreadsheet drops them, a provider may pad them:
    "000123" and "123" are the same id), but only where that is unambiguous: if the school
    has two pupils whose ids differ only in leading zeros, a row naming either is refused."""

    by: Literal["upn", "external_id"]
    column: ColumnName = Field(description="The column holding the key, e.g. UPN.")


class PupilByNameAndBirth(Input):
    """Pupils named by forename, surname and date of birth. The forename may be the legal or
    the preferred one (and so may the surname); case, accents and extra spaces are ignored.
    Dates are read in the mapping's ``date_format`` (by default 2016-03-04 or 04/03/2016, day
    first) or as spreadsheet dates."""

    by: Literal["name_dob"]
    first_name: ColumnName = Field(description="The forename column, e.g. Forename.")
    last_name: ColumnName = Field(description="The surname column, e.g. Surname.")
    date_of_birth: ColumnName = Field(description="The date of birth column, e.g. DOB.")


PupilMatch = Annotated[PupilByKey | PupilByNameAndBirth, PydanticField(discriminator="by")]


class ColumnToMeasure(Input):
    column: ColumnName = Field(description="A column of the file, e.g. Standardised score.")
    measure_id: uuid.UUID = Field(description="The measure its values are stored as.")
    blank: BlankCells | None = Field(
        default=None, description="What a blank cell does in this column. Default: the mapping's."
    )


class Sittings(Input):
    """What to do with several rows for one pupil (a test sat more than once)."""

    keep: KeepSitting = Field(
        default=KeepSitting.REFUSE,
        description="refuse: each pupil has one row, a second row naming them is an error; "
        "latest: keep the sitting with the latest date in date_column; highest: keep the "
        "sitting with the highest score in score_column (equal scores: the latest, if "
        "date_column is given). Sittings not kept are set aside, with the reason. Two "
        "sittings the rule cannot tell apart are refused unless their results are the same.",
    )
    date_column: ColumnName | None = Field(
        default=None,
        description="The column with each sitting's date (and time, if written), read in the "
        "mapping's date_format. Required to keep the latest.",
    )
    score_column: ColumnName | None = Field(
        default=None,
        description="The column whose number decides the highest. Default: the mapping's "
        "only column; required when it maps more than one.",
    )


class ScoreMapping(Input):
    """How to read a score file: sent as the ``mapping`` form field, JSON text."""

    assessment_point_id: uuid.UUID = Field(description="The point every value is recorded at.")
    pupil: PupilMatch
    columns: list[ColumnToMeasure] = Field(min_length=1, max_length=MAX_COLUMNS)
    sheet: str | None = Field(
        default=None, max_length=200, description="XLSX: the sheet to read. Default: the first."
    )
    header_row: int = Field(
        default=1, ge=1, le=1000, description="The row holding the column names (1 = first)."
    )
    blank: BlankCells = Field(
        default="skip",
        description="A blank value cell leaves the stored value as it is (skip), or clears it.",
    )
    date_format: DateFormat = Field(
        default=DateFormat.DAY_FIRST,
        description="How the file writes dates as text (dates of birth, date measures, "
        "sittings' dates): DD/MM/YYYY (day first, as in the UK), MM/DD/YYYY (month first, as "
        "US providers write) or YYYY-MM-DD. ISO dates (2016-03-04) and spreadsheet dates are "
        "read whatever it says.",
    )
    sittings: Sittings = Field(
        default_factory=Sittings,
        description="Several rows for one pupil: refuse (the default), or keep the latest or "
        "the highest.",
    )


# --- What the routes answer -----------------------------------------------------------------
class ImportCellError(SQLModel):
    field: str = Field(description="Where: file.row.5.SAS (row 5, column SAS).")
    column: str | None = Field(description="The file's column, where one is to blame.")
    reason: str


class ImportValue(SQLModel, Output):
    column: str
    measure_id: uuid.UUID
    value: FileCell = Field(
        description="As it would be stored (a number, a descriptor code, text, true/false or "
        "a date); as read from the file where it is refused; null clears the stored value."
    )
    status: Literal["written", "cleared", "unchanged"] | None = Field(
        default=None,
        description="What storing it would do: write a new or changed value, clear one, or "
        "nothing (already so). Null where the value or its row has an error.",
    )


class SetAside(SQLModel):
    taken_row: int = Field(description="The row of the same pupil's sitting kept instead.")
    reason: str = Field(description="Why, e.g. an earlier sitting: row 7 is the latest.")


class ImportRow(SQLModel):
    row: int = Field(description="The row number, as the spreadsheet shows it.")
    pupil_id: uuid.UUID | None = Field(description="The pupil matched; null if none was.")
    values: list[ImportValue]
    errors: list[ImportCellError]
    set_aside: SetAside | None = Field(
        default=None,
        description="Another sitting of the same pupil was kept (mapping.sittings): this "
        "row's values, as read, are not stored.",
    )


class SetAsideRow(SetAside):
    row: int
    pupil_id: uuid.UUID


class ImportTotals(SQLModel):
    rows: int = Field(description="Data rows read (blank rows are skipped).")
    with_errors: int
    values: int = Field(description="Values the rows without errors would write or clear.")
    set_aside: int = Field(
        default=0, description="Rows set aside: another sitting of the same pupil was kept."
    )


class ScoreImportResult(SQLModel, Output):
    """A dry run lists every row, with its values and errors, and stores nothing. A commit
    answers only when every row was good and all were stored: the counts of values written
    (new or changed), cleared, and unchanged (already stored as the file has them)."""

    dry_run: bool
    filename: str
    sheet: str | None
    totals: ImportTotals
    rows: list[ImportRow] | None = Field(default=None, description="Dry run: every data row.")
    set_aside: list[SetAsideRow] = Field(
        default_factory=list,
        description="The rows set aside because another sitting of the same pupil was kept, "
        "each with the row kept and why (a dry run's rows say it too).",
    )
    written: int | None = Field(default=None, description="Commit: values written.")
    cleared: int | None = Field(default=None, description="Commit: values cleared.")
    unchanged: int | None = Field(default=None, description="Commit: values already so.")


class FilePreviewRow(SQLModel):
    row: int
    cells: list[FileCell]


class ScoreFilePreview(SQLModel):
    """A file's shape, for building a mapping: its sheets, the header's columns and the first
    rows of data."""

    filename: str
    format: Literal["csv", "xlsx"]
    sheets: list[str] = Field(description="XLSX: the workbook's sheets; [] for a CSV.")
    sheet: str | None = Field(description="The sheet read.")
    header_row: int
    columns: list[str] = Field(description='The header row\'s names ("" for a blank one).')
    rows: list[FilePreviewRow] = Field(description="The first five data rows.")
    total_rows: int = Field(description="Data rows in the sheet (blank rows are skipped).")
