"""Score imports: CSV or XLSX files of values from test providers and spreadsheets, read with a
column mapping, checked in a dry run and committed all-or-nothing."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.score_imports import ScoreFilePreview, ScoreImportResult, ScoreMapping
from app.services import score_imports as service

router = APIRouter(tags=["score-imports"])

ScoreFile = Annotated[
    UploadFile,
    File(
        description="The scores: a CSV (UTF-8 or Windows-1252; comma, semicolon or tab "
        "separated) or an Excel .xlsx workbook. At most 10,000 rows of data and 200 columns."
    ),
]
MAPPING_DOC = """JSON text: which columns name the pupil and which hold values of which measures,
at which assessment point. For example:

```json
{"assessment_point_id": "…",
 "pupil": {"by": "upn", "column": "UPN"},
 "columns": [{"column": "Standardised score", "measure_id": "…"}],
 "sheet": "Results", "header_row": 1, "blank": "skip"}
```

`pupil.by` is `upn`, `external_id` (both with `column`) or `name_dob` (with `first_name`,
`last_name` and `date_of_birth` columns). An MIS id of digits only matches without regard to
leading zeros ("000123" is "123") where no two of the school's ids differ only in them.
`blank` (also per column): `skip` leaves a stored value as it is where the cell is blank,
`clear` clears it. `date_format`: how dates written as text are read, `DD/MM/YYYY` (the
default), `MM/DD/YYYY` or `YYYY-MM-DD`; ISO and spreadsheet dates are always read.
`sittings`: several rows for one pupil (a test sat more than once) are refused
(`{"keep": "refuse"}`, the default), or the latest by a date column is kept
(`{"keep": "latest", "date_column": "Completed Date"}`), or the highest
(`{"keep": "highest", "score_column": "SAS"}`, equal scores going to the latest if a
`date_column` is given); the others are set aside and answered with the row kept and why.
Its schema is this field's `contentSchema`."""


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its definitions written in place, so it can stand inside a
    form field's description of its content."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            # A discriminator's mapping points at definitions that are now written in place.
            return {
                key: {"propertyName": value["propertyName"]}
                if key == "discriminator" and isinstance(value, dict)
                else resolve(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


MAPPING_FIELD = Form(
    description=MAPPING_DOC,
    max_length=service.MAX_MAPPING_CHARS,
    json_schema_extra={
        "contentMediaType": "application/json",
        "contentSchema": _inlined(ScoreMapping.model_json_schema()),
    },
)


def _filename(file: UploadFile) -> str:
    name = (file.filename or "").replace("\\", "/").rpartition("/")[2].strip()
    return name[:255] or "scores"


@router.post(
    "/v1/schools/{school_id}/values/imports",
    response_model=ScoreImportResult,
    responses=problems(400, 403, 404),
    description="Import measure values from a score file with a column mapping.\n\n"
    "With `dry_run=true` (the default) every row is checked and answered (its pupil, its "
    "values and what storing each would do, and its errors) and nothing is stored. With "
    "`dry_run=false` the values are stored all-or-nothing: if any row has an error the "
    "answer is 422, each error's field naming the row and column (`file.row.5.SAS`), and "
    "nothing is stored; otherwise the counts of values written, cleared and unchanged.\n\n"
    "Pupils are matched among the school's pupils you may record for (a teacher: the pupils "
    "of the classes they teach).",
)
async def import_scores(
    school_id: uuid.UUID,
    file: ScoreFile,
    mapping: Annotated[str, MAPPING_FIELD],
    session: SessionDep,
    principal: PrincipalDep,
    dry_run: Annotated[
        bool, Query(description="Check and answer every row, store nothing.")
    ] = True,
) -> Response:
    result = await service.import_scores(
        session,
        principal=principal,
        school_id=school_id,
        data=await file.read(),
        filename=_filename(file),
        content_type=file.content_type,
        mapping_text=mapping,
        dry_run=dry_run,
    )
    # A dry run answers up to 10,000 rows: serialised straight from the checked model, not
    # validated again against it on the way out.
    return Response(result.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/schools/{school_id}/values/imports/columns",
    response_model=ScoreFilePreview,
    responses=problems(400, 403, 404),
    description="Read a score file's shape to build a mapping: its sheets (XLSX), the header "
    "row's column names and the first five rows of data. Stores nothing.",
)
async def read_score_file_columns(
    school_id: uuid.UUID,
    file: ScoreFile,
    session: SessionDep,
    principal: PrincipalDep,
    sheet: Annotated[
        str | None, Form(max_length=200, description="XLSX: the sheet. Default: the first.")
    ] = None,
    header_row: Annotated[
        int, Form(ge=1, le=1000, description="The row holding the column names.")
    ] = 1,
) -> ScoreFilePreview:
    return await service.preview_file(
        session,
        principal=principal,
        school_id=school_id,
        data=await file.read(),
        filename=_filename(file),
        content_type=file.content_type,
        sheet=sheet,
        header_row=header_row,
    )
