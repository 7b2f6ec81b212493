"""The roster through the API: pupils, enrolments, classes and custom groups as sent and read
back, and the bulk sync with its per-row results. The tables are in app/db/roster.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, EmailStr, model_validator
from sqlmodel import Field, SQLModel

from app.api.schemas.base import Input, Output, PageOf, PlainInput
from app.db.roster import (
    UPN,
    ClassCode,
    ClassFields,
    Ethnicity,
    ExternalId,
    GroupFields,
    OptionalPupilName,
    PupilFields,
    PupilName,
)
from app.domain.errors import DomainError
from app.domain.pupils import SenStatus, Sex, YearGroup


def _year_group(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return YearGroup.parse(value)
        except DomainError as exc:
            raise ValueError(exc.message) from exc
    return value


YearGroupIn = Annotated[
    YearGroup,
    BeforeValidator(_year_group),
    Field(description="NC year group: N1, N2, R or 1-13 ('07', 'Y7' and 'Year 7' are read too)."),
]


class PupilCreate(PupilFields, Input):
    legal_forename: PupilName
    legal_surname: PupilName
    preferred_forename: OptionalPupilName
    preferred_surname: OptionalPupilName

    @model_validator(mode="after")
    def _has_key(self) -> PupilCreate:
        if self.external_id is None and self.upn is None:
            raise ValueError("give external_id or upn (or both): the pupil needs a key")
        return self


class PupilUpdate(Input):
    # Omit a field to leave it as it is; null clears an optional one.
    external_id: ExternalId
    upn: UPN
    legal_forename: PupilName = None  # type: ignore[assignment]
    legal_surname: PupilName = None  # type: ignore[assignment]
    preferred_forename: OptionalPupilName
    preferred_surname: OptionalPupilName
    date_of_birth: date = None  # type: ignore[assignment]
    sex: Sex | None = None
    pupil_premium: bool | None = None
    fsm: bool | None = None
    sen_status: SenStatus | None = None
    eal: bool | None = None
    looked_after: bool | None = None
    ethnicity: Ethnicity
    left_on: date | None = None


class EnrolmentRead(SQLModel):
    id: uuid.UUID
    pupil_id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    year_group: YearGroup
    joined_on: date | None
    left_on: date | None
    updated_at: datetime


class PupilRead(PupilFields, Output):
    id: uuid.UUID
    school_id: uuid.UUID
    upn_temporary: bool
    left_on: date | None
    enrolments: list[EnrolmentRead] = Field(default_factory=list, description="By year.")
    created_at: datetime
    updated_at: datetime


class EnrolmentPut(Input):
    year_group: YearGroupIn
    joined_on: date | None = None
    left_on: date | None = None


class ClassCreate(ClassFields, Input):
    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
    teacher_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    pupil_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class ClassUpdate(Input):
    code: ClassCode = None  # type: ignore[assignment]
    name: str = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=100)
    teacher_ids: list[uuid.UUID] = Field(
        default=None, max_length=50, description="Replaces the class's teachers."
    )
    pupil_ids: list[uuid.UUID] = Field(
        default=None, max_length=1000, description="Replaces the class's pupils."
    )


class ClassRead(ClassFields, Output):
    id: uuid.UUID
    school_id: uuid.UUID
    academic_year: int
    teacher_ids: list[uuid.UUID]
    pupil_ids: list[uuid.UUID] = Field(description="Only the pupils within your reach.")
    created_at: datetime
    updated_at: datetime


class GroupCreate(GroupFields, Input):
    pupil_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000)


class GroupUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    pupil_ids: list[uuid.UUID] = Field(
        default=None, max_length=10_000, description="Replaces the group's members."
    )


class GroupRead(GroupFields, Output):
    id: uuid.UUID
    school_id: uuid.UUID
    pupil_ids: list[uuid.UUID] = Field(description="Only the pupils within your reach.")
    created_at: datetime
    updated_at: datetime


class StageAssessmentIn(PlainInput):
    stage: str = Field(min_length=1, max_length=16, description="e.g. KS1, KS2, EYFSP, PHON.")
    subject: str = Field(min_length=1, max_length=16)
    method: str | None = Field(default=None, max_length=16, description="e.g. TA, TT.")
    component: str | None = Field(default=None, max_length=32)
    result: str = Field(min_length=1, max_length=32)
    result_qualifier: str | None = Field(default=None, max_length=16)
    year: int | None = Field(default=None, ge=1990, le=2099)
    result_on: date | None = None


class ClassSyncRow(ClassFields, Input):
    teacher_emails: list[EmailStr] | None = Field(
        default=None,
        max_length=50,
        description="The class's teachers, as users of the school by email; omit to leave "
        "them as they are.",
    )
    school_urn: str | None = Field(
        default=None, description="Which school (trust-wide sync only).", max_length=6
    )


class PupilSyncRow(PlainInput):
    """One pupil in a sync. Keyed by external_id, else UPN. Characteristics left out (or
    null) are left as stored; ``classes`` and ``groups`` left out leave memberships alone."""

    # Choices (sex, SEN status, year group) kept as their codes, as they are stored.
    model_config = ConfigDict(use_enum_values=True)

    external_id: ExternalId
    upn: UPN
    legal_forename: PupilName
    legal_surname: PupilName
    preferred_forename: OptionalPupilName
    preferred_surname: OptionalPupilName
    date_of_birth: date | None = Field(
        default=None, description="Omit to leave as stored (a new pupil then has none)."
    )
    sex: Sex | None = None
    pupil_premium: bool | None = None
    fsm: bool | None = None
    sen_status: SenStatus | None = None
    eal: bool | None = None
    looked_after: bool | None = None
    ethnicity: Ethnicity
    year_group: YearGroupIn
    joined_on: date | None = None
    left_on: date | None = None
    classes: list[ClassCode] | None = Field(
        default=None,
        max_length=50,
        description="Codes of this year's classes; replaces the pupil's class memberships.",
    )
    groups: list[str] | None = Field(
        default=None, max_length=50, description="Names of custom groups; replaces memberships."
    )
    stage_assessments: list[StageAssessmentIn] | None = Field(default=None, max_length=500)
    school_urn: str | None = Field(
        default=None, description="Which school (trust-wide sync only).", max_length=6
    )

    @model_validator(mode="after")
    def _has_key(self) -> PupilSyncRow:
        if self.external_id is None and self.upn is None:
            raise ValueError("give external_id or upn (or both): the pupil needs a key")
        return self


MAX_SYNC_PUPILS = 10_000


SyncMode = Literal["all_or_nothing", "partial"]


class RosterSync(Input):
    """A roster sync: classes first, then pupils with their enrolment for ``academic_year``."""

    academic_year: int = Field(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
    mode: SyncMode = Field(
        default="all_or_nothing",
        description="all_or_nothing: one bad row stores nothing. partial: good rows are stored "
        "and bad ones reported.",
    )
    full: bool = Field(
        default=False,
        description="The payload is the whole roster: pupils on roll this year but missing "
        "from it are marked as left (never deleted).",
    )
    classes: list[ClassSyncRow] = Field(default_factory=list, max_length=5_000)
    pupils: list[PupilSyncRow] = Field(default_factory=list, max_length=MAX_SYNC_PUPILS)


class RosterSyncEnvelope(Input):
    """RosterSync with its rows still unread: the service reads each row on its own, so that
    in partial mode one bad row does not sink the rest."""

    academic_year: int = Field(ge=2000, le=2099)
    mode: SyncMode = "all_or_nothing"
    full: bool = False
    classes: list[dict[str, Any]] = Field(default_factory=list, max_length=5_000)
    pupils: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_SYNC_PUPILS)


class RowResult(SQLModel, Output):
    index: int = Field(description="Position of the row in the payload (from 0).")
    key: str = Field(description="external_id or UPN, as sent.")
    status: Literal["created", "updated", "unchanged", "left", "rejected"]
    id: uuid.UUID | None = None
    errors: list[dict[str, str]] | None = None


class SyncResult(SQLModel):
    academic_year: int
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Pupil rows refused.")
    left: int
    left_pupil_ids: list[uuid.UUID] = Field(description="Marked as left by a full sync.")
    classes_created: int
    classes_updated: int
    classes_rejected: int = Field(description="Class rows refused.")
    pupils: list[RowResult]
    classes: list[RowResult]


class PupilPage(PageOf[PupilRead]):
    pass


class EnrolmentPage(PageOf[EnrolmentRead]):
    pass


class ClassPage(PageOf[ClassRead]):
    pass


class GroupPage(PageOf[GroupRead]):
    pass
