"""Reports through the API: definitions sent ad hoc, templates (stored, versioned definitions),
the report table answered as JSON, and the pupils behind a progress-matrix cell. The
definition's shape and the meaning of each figure are in app/domain/reports.py; the tables in
app/db/reports.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Field

from app.api.schemas.base import Input, PageOf
from app.api.schemas.curriculum import OwnerIn
from app.db.curriculum import Owner
from app.domain.reports import Category

DEFINITION_HELP = (
    "A report definition: {metrics[], dimensions[], groups[], points[], filters[], "
    "attainment[], academic_year, out_of_year, suppress_below, title}. See the README's "
    "Reports section for every name and what each figure means."
)
DEFINITION_EXAMPLE: dict[str, Any] = {
    "title": "Maths on a page",
    "metrics": ["pupils", "percent_secured_of_year", "percent_at_or_above"],
    "dimensions": ["subject", "year_group"],
    "groups": ["pupil_premium"],
    "points": ["start", "end"],
    "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
}


def _definition(**extra: Any) -> Any:
    return Field(
        description=DEFINITION_HELP,
        schema_extra={"examples": [DEFINITION_EXAMPLE]},
        **extra,
    )


# --- Running a report --------------------------------------------------------------------
class ReportRequest(Input):
    definition: dict[str, Any] = _definition()


class MatrixPupilsRequest(Input):
    """One cell of a progress matrix: the report (a definition, or a template and version),
    the matrix (its position in ``metrics``), the row (its ``keys`` as the table gives them)
    and the categories at its two points."""

    definition: dict[str, Any] | None = _definition(default=None)
    template_id: uuid.UUID | None = Field(
        default=None, description="Instead of a definition: a template of the school or trust."
    )
    version: int | None = Field(default=None, ge=1, description="The template's version.")
    metric: int = Field(ge=0, le=100, description="The progress matrix's index in metrics.")
    keys: dict[str, str | None] = Field(
        default_factory=dict,
        description="The row's keys as the matrix gives them (subject, year_group, class, "
        "school, group, group_value; null: all).",
    )
    from_category: Category = Field(description="The category at the matrix's first point.")
    to_category: Category = Field(description="The category at its second point.")


class CellRead(BaseModel):
    value: float | None = Field(description="null: no figure, or suppressed.")
    n: int | None = Field(description="Pupils counted in the figure.")
    suppressed: bool


class ColumnRead(BaseModel):
    key: str
    label: str
    unit: str
    decimals: int
    metric: str
    point: int
    category: str | None


class RowRead(BaseModel):
    keys: dict[str, str | None]
    labels: dict[str, str]
    cells: list[CellRead]


class SectionRead(BaseModel):
    name: str
    title: str
    columns: list[ColumnRead]
    rows: list[RowRead]


class ReportRead(BaseModel):
    """A report: sections (the table, and a progress matrix per matrix metric), each of
    columns and rows of cells."""

    title: str
    suppress_below: int | None = Field(
        description="Counts of 1 up to this minus one are hidden (null: nothing hidden)."
    )
    points: list[dict[str, Any]]
    sections: list[SectionRead]
    notes: list[str]
    charts: list[dict[str, Any]] | None = Field(
        default=None,
        description="With `charts=true`: Vega-Lite specifications of the report's pictures "
        "(render with vega-embed); `usermeta.markbook.kind` is distribution, comparison, trend "
        "or matrix.",
    )


class PupilInCell(BaseModel):
    id: uuid.UUID
    upn: str | None
    forename: str
    surname: str


class MatrixPupilsRead(BaseModel):
    pupils: list[PupilInCell]


# --- Templates ---------------------------------------------------------------------------
TemplateCode = Field(
    min_length=1,
    max_length=32,
    schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"},
    description="Unique within its owner.",
)


class ReportTemplateCreate(OwnerIn):
    code: str = TemplateCode
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    definition: dict[str, Any] = _definition()


class ReportTemplateUpdate(Input):
    # Optional but not nullable: omit a field to leave it as it is.
    name: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    definition: dict[str, Any] = _definition(default=None)
    archived: bool = None  # type: ignore[assignment]


class ReportTemplateRead(Owner):
    id: uuid.UUID
    code: str
    name: str
    description: str | None
    version: int = Field(description="Rises with each change of name or definition.")
    definition: dict[str, Any]
    archived: bool
    created_at: datetime
    updated_at: datetime


class ReportTemplateVersionRead(BaseModel):
    template_id: uuid.UUID
    version: int
    name: str
    definition: dict[str, Any]
    saved_at: datetime
    saved_by: uuid.UUID | None


class ReportTemplatePage(PageOf[ReportTemplateRead]):
    pass


class ReportTemplateVersionPage(PageOf[ReportTemplateVersionRead]):
    pass
