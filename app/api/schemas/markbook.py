"""The markbook through the API: a grid of pupils x objectives as read and written, and
working curriculum years. The tables are in app/db/markbook.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from app.api.schemas.base import Input
from app.domain.scales import Band


class CellIn(Input):
    pupil_id: uuid.UUID
    objective_id: uuid.UUID
    descriptor: str | None = Field(
        max_length=16,
        description="A descriptor code of the depth scale the objective's framework is judged "
        "on; null clears the cell (the clearing is kept in its history).",
    )
    assessed_on: date | None = Field(default=None, description="Default: the body's.")
    note: str | None = Field(default=None, max_length=1000)


class GridWrite(Input):
    assessed_on: date | None = Field(
        default=None, description="The day the learning was assessed. Default: today."
    )
    cells: list[CellIn] = Field(min_length=1, max_length=5_000)


class CellRead(SQLModel):
    """What stands in a cell: the descriptor's code (on the scale of the objective's
    framework) and who judged it when."""

    pupil_id: uuid.UUID
    objective_id: uuid.UUID
    descriptor: str | None = Field(description="Its code; null: cleared.")
    assessed_on: date
    recorded_at: datetime
    recorded_by: uuid.UUID
    note: str | None


class GridDescriptor(SQLModel):
    id: uuid.UUID
    code: str
    label: str
    value: Decimal
    band: Band | None
    colour: str | None
    secure: bool


class GridScale(SQLModel):
    id: uuid.UUID
    name: str
    secure_from: str | None
    descriptors: list[GridDescriptor]


class GridFramework(SQLModel):
    id: uuid.UUID
    name: str
    scale_id: uuid.UUID | None


class GridObjective(SQLModel):
    id: uuid.UUID
    framework_id: uuid.UUID
    code: str
    statement: str
    curriculum_years: str
    strand: str | None
    sub_strand: str | None
    is_key: bool


class GridPupil(SQLModel):
    id: uuid.UUID
    name: str
    year_group: str | None
    working_year: str | None = Field(description="The curriculum year they work within: R-13.")
    working_year_set: bool = Field(description="False: their year group's.")


class Grid(SQLModel):
    """Pupils x objectives of one subject. ``objectives`` are those of the pupils' working
    years (or of ``curriculum_year``); ``cells`` hold what stands in each judged cell."""

    school_id: uuid.UUID
    subject_id: uuid.UUID
    academic_year: int
    curriculum_year: str | None
    as_at: date | None
    version: int = Field(description="Also the ETag: send it back as If-Match when writing.")
    frameworks: list[GridFramework]
    scales: list[GridScale]
    objectives: list[GridObjective]
    pupils: list[GridPupil]
    cells: list[CellRead]


class GridSaved(SQLModel):
    version: int = Field(description="The grid's version now: the next write's If-Match.")
    written: int
    assessed_on: date


class WorkingYearIn(Input):
    pupil_id: uuid.UUID
    subject_id: uuid.UUID
    curriculum_year: str | None = Field(
        max_length=7,
        description="R or 1-13 (Y3, Year 3 are read too); null: back to the year group's.",
    )


class WorkingYearsWrite(Input):
    academic_year: int | None = Field(
        default=None, ge=2000, le=2099, description="Start year. Default: this academic year."
    )
    rows: list[WorkingYearIn] = Field(min_length=1, max_length=10_000)


class WorkingYearsSaved(SQLModel):
    version: int
    written: int
    academic_year: int
