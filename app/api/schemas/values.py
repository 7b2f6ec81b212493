"""Measure values through the API: what a bulk write sends and answers, and how a value
reads back. The tables are ``measure_value`` and ``measure_value_history`` (app/db/markbook.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import WithJsonSchema, field_validator
from sqlmodel import Field, SQLModel

from app.api.schemas.base import Input, Output
from app.domain.scales import Band

MAX_VALUES = 10_000
RowStatus = Literal["written", "cleared", "unchanged"]

_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string"},
        {"type": "boolean"},
        {"type": "null"},
    ],
    "description": 'As the measure\'s kind says: a number (104, 98.5, or "104"); a '
    'descriptor code of the measure\'s scale ("EXS"); text; true/false (also "yes"/"no", '
    '"Y"/"N"); a date YYYY-MM-DD. null clears the value.',
}
RawValue = Annotated[Any, WithJsonSchema(_VALUE_SCHEMA)]


class ValueIn(Input):
    """One value: a pupil's value of a measure at an assessment point."""

    pupil_id: uuid.UUID
    measure_id: uuid.UUID
    assessment_point_id: uuid.UUID | None = Field(default=None, description="Default: the body's.")
    value: RawValue
    curriculum_year: str | None = Field(
        default=None,
        max_length=10,
        description="Curriculum measures only: the curriculum year the pupil is working within "
        "(R, 1-13). Default: their working year in the measure's subject.",
        schema_extra={"examples": ["4"]},
    )

    @field_validator("curriculum_year", mode="before")
    @classmethod
    def _year_as_text(cls, value: Any) -> Any:
        # 4 and "4" mean the same year; true is not a year (left for the str check to refuse).
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class ValuesWrite(Input):
    assessment_point_id: uuid.UUID | None = Field(
        default=None, description="The assessment point of every value that names none."
    )
    values: list[ValueIn] = Field(min_length=1, max_length=MAX_VALUES)


class ValuesWritten(SQLModel, Output):
    """What a bulk write did: values written (new or changed), cleared, and unchanged (sent
    as they already stood, so not written again)."""

    written: int
    cleared: int
    unchanged: int
    recorded_at: datetime = Field(description="When this write was recorded (every value's).")
    rows: list[RowStatus] | None = Field(
        default=None,
        description="Each value's outcome, in the order sent; given for writes of up to 1,000 "
        "values, null for larger ones.",
    )


class ValueRead(SQLModel):
    """A pupil's value of a measure at an assessment point."""

    pupil_id: uuid.UUID
    measure_id: uuid.UUID
    assessment_point_id: uuid.UUID
    value: bool | int | float | str | None = Field(
        description="Typed by the measure's kind: a number, the descriptor's code, text, "
        "true/false, or a date YYYY-MM-DD. null: cleared (in the history)."
    )
    descriptor_id: uuid.UUID | None = Field(description="Scale measures: the descriptor.")
    band: Band | None = Field(
        description="below / at / above expected, by the measure's thresholds or the "
        "descriptor's band; null where the measure sets none."
    )
    curriculum_year: str | None = Field(
        description="Curriculum measures: the curriculum year the pupil was working within."
    )
    recorded_at: datetime
    recorded_by: uuid.UUID = Field(description="The user or integration client that wrote it.")


class ValueHistoryRead(ValueRead):
    id: uuid.UUID
