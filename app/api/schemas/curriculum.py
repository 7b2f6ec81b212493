"""Definitions through the API: subjects, scales and descriptors, frameworks and objectives,
measures. The tables are in app/db/curriculum.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import model_validator
from sqlmodel import Field

from app.api.schemas.base import Input, Output, PageOf
from app.db.curriculum import (
    DescriptorFields,
    FrameworkFields,
    MeasureFields,
    ObjectiveFields,
    Owner,
    ScaleFields,
    SubjectFields,
)
from app.domain.grades import GradeMapping


class OwnerIn(Owner, Input):
    @model_validator(mode="after")
    def _one_owner(self) -> Any:
        if (self.trust_id is None) == (self.school_id is None):
            raise ValueError("give exactly one of trust_id or school_id")
        return self


class SubjectCreate(SubjectFields, OwnerIn):
    pass


class SubjectUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=100)
    code: str = Field(default=None, min_length=1, max_length=16)
    position: int = Field(default=None, ge=1, le=1000)


class SubjectRead(SubjectFields, Owner, Output):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class DescriptorIn(DescriptorFields, Input):
    pass


class ScaleCreate(ScaleFields, OwnerIn):
    descriptors: list[DescriptorIn] = Field(min_length=2, max_length=50, description="In order.")


class ScaleUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    secure_from: str | None = Field(default=None, max_length=16)
    descriptors: list[DescriptorIn] = Field(
        default=None,
        min_length=2,
        max_length=50,
        description="The whole list, in order. Descriptors keep their identity by code; one "
        "left out is archived.",
    )


class DescriptorRead(DescriptorFields, Output):
    id: uuid.UUID
    position: int
    archived: bool


class ScaleRead(ScaleFields, Owner, Output):
    id: uuid.UUID
    descriptors: list[DescriptorRead]
    created_at: datetime
    updated_at: datetime


class FrameworkCreate(FrameworkFields, OwnerIn):
    pass


class FrameworkUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=200)
    source: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    scale_id: uuid.UUID = Field(default=None, description="The depth scale for judgements.")


class FrameworkRead(FrameworkFields, Owner, Output):
    id: uuid.UUID
    objective_count: int = Field(description="Objectives not archived.")
    created_at: datetime
    updated_at: datetime


class FrameworkImportRead(FrameworkRead):
    """A framework imported from a file, with what the import should tell its uploader."""

    warnings: list[str] = Field(
        default_factory=list,
        description="What the file held that was not read, or read with a fallback "
        "(association types other than isChildOf, education levels with no England year, "
        "columns not read).",
    )
    grade_mapping: GradeMapping | None = Field(
        default=None, description="CASE: how educationLevel was read as curriculum years."
    )


class ObjectiveIn(ObjectiveFields, Input):
    pass


class ObjectiveUpdate(Input):
    statement: str = Field(default=None, min_length=1, max_length=2000)
    curriculum_years: str = Field(default=None, max_length=5)
    strand: str | None = Field(default=None, max_length=200)
    sub_strand: str | None = Field(default=None, max_length=200)
    is_key: bool = None  # type: ignore[assignment]
    archived: bool = None  # type: ignore[assignment]


class ObjectivesReplace(Input):
    objectives: list[ObjectiveIn] = Field(
        max_length=5_000,
        description="The framework's objectives, in order. Objectives keep their identity (and "
        "judgements) by code; one left out is archived, never deleted.",
    )


class ObjectiveRead(ObjectiveFields, Output):
    id: uuid.UUID
    framework_id: uuid.UUID
    position: int
    archived: bool
    updated_at: datetime


class MeasureCreate(MeasureFields, OwnerIn):
    pass


class MeasureUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=100)
    position: int = Field(default=None, ge=1, le=1000)
    archived: bool = None  # type: ignore[assignment]


class MeasureRead(MeasureFields, Owner, Output):
    id: uuid.UUID
    archived: bool
    created_at: datetime
    updated_at: datetime


class SubjectPage(PageOf[SubjectRead]):
    pass


class ScalePage(PageOf[ScaleRead]):
    pass


class MeasurePage(PageOf[MeasureRead]):
    pass


class FrameworkPage(PageOf[FrameworkRead]):
    pass


class ObjectivePage(PageOf[ObjectiveRead]):
    pass
