"""Trusts, schools and assessment points through the API: what is sent and what is read back.
The tables are in app/db/tenancy.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field

from app.api.schemas.base import Input, Output, PageOf
from app.db.tenancy import URN, AssessmentPoint, AssessmentPointBase, SchoolBase, TrustBase
from app.domain.calendar import AcademicYear
from app.domain.reports import MIN_THRESHOLD
from app.domain.schools import Phase


class TrustCreate(TrustBase, Input):
    pass


class TrustUpdate(Input):
    # Optional but not nullable: omit a field to leave it as it is.
    name: str = Field(default=None, min_length=1, max_length=200)


class TrustRead(TrustBase, Output):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class SchoolCreate(SchoolBase, Input):
    pass


class OnTrackWords(Input):
    """A school's own words for where a pupil stands, as their page says it; one left out (or
    null) keeps the default."""

    above: str | None = Field(
        default=None, min_length=1, max_length=60, description="Default: Working beyond."
    )
    at: str | None = Field(
        default=None, min_length=1, max_length=60, description="Default: On track."
    )
    below: str | None = Field(
        default=None, min_length=1, max_length=60, description="Default: Working towards."
    )
    earlier_curriculum: str | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description="Working within an earlier year's curriculum (unless the template places "
        "such pupils by it). Default: Working on their own curriculum.",
    )
    not_assessed: str | None = Field(
        default=None, min_length=1, max_length=60, description="Default: Not assessed yet."
    )


ON_TRACK_TEMPLATE_DOC = (
    "The code of the report template (the school's own, else its trust's) whose attainment rule "
    "per subject says whether a pupil is on track on their page; null: no on-track line."
)
ON_TRACK_FOR_PUPILS_DOC = (
    "Whether pupils and parents see the on-track line on the pupil's page (teachers and "
    "leaders always do)."
)


class SchoolUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=200)
    urn: URN = None  # type: ignore[assignment]
    phase: Phase = None  # type: ignore[assignment]
    trust_id: uuid.UUID | None = Field(default=None, description="null: a standalone school.")
    report_threshold: int = Field(
        default=None,
        ge=MIN_THRESHOLD,
        le=1000,
        description="Reports for those who may not see pupils (governors) hide any figure "
        f"counting fewer pupils than this; never below {MIN_THRESHOLD}.",
    )
    on_track_template: str | None = Field(
        default=None, min_length=1, max_length=32, description=ON_TRACK_TEMPLATE_DOC
    )
    on_track_for_pupils: bool = Field(default=None, description=ON_TRACK_FOR_PUPILS_DOC)
    on_track_words: OnTrackWords | None = Field(
        default=None, description="The school's words for the on-track line; null: defaults."
    )


class SchoolRead(SchoolBase, Output):
    id: uuid.UUID
    report_threshold: int = Field(
        description="Reports for governors hide figures counting fewer pupils than this."
    )
    on_track_template: str | None = Field(description=ON_TRACK_TEMPLATE_DOC)
    on_track_for_pupils: bool = Field(description=ON_TRACK_FOR_PUPILS_DOC)
    on_track_words: dict[str, str] | None = Field(
        description="The school's own words for the on-track line (the others are the "
        "defaults); null: the defaults."
    )
    created_at: datetime
    updated_at: datetime


class AssessmentPointCreate(AssessmentPointBase, Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")


class AssessmentPointUpdate(Input):
    # Optional but not nullable: omit a field to leave it as it is.
    code: str = Field(
        default=None, min_length=1, max_length=16, schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"}
    )
    name: str = Field(default=None, min_length=1, max_length=100)
    position: int = Field(default=None, ge=1, le=100)
    assessed_on: date = None  # type: ignore[assignment]


class AssessmentPointRead(AssessmentPointBase, Output):
    id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    academic_year_label: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, point: AssessmentPoint) -> AssessmentPointRead:
        return cls.model_validate(
            point, update={"academic_year_label": AcademicYear(point.academic_year).label}
        )


class DefaultCalendarRequest(Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")


class TrustPage(PageOf[TrustRead]):
    pass


class SchoolPage(PageOf[SchoolRead]):
    pass


class AssessmentPointPage(PageOf[AssessmentPointRead]):
    pass
