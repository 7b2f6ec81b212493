"""Response envelopes shared by the REST routers."""

from __future__ import annotations

import uuid
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from app.db.audit import AuditEventRead
from app.db.curriculum import FrameworkRead, MeasureRead, ObjectiveRead, ScaleRead, SubjectRead
from app.db.people import IntegrationClientRead, UserRead
from app.db.roster import ClassRead, EnrolmentRead, GroupRead, PupilRead
from app.db.tenancy import AssessmentPointRead, SchoolRead, TrustRead
from app.domain.roles import ClientScope, Role

T = TypeVar("T")


class PageOf(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


class TrustPage(PageOf[TrustRead]):
    pass


class SchoolPage(PageOf[SchoolRead]):
    pass


class AssessmentPointPage(PageOf[AssessmentPointRead]):
    pass


class UserPage(PageOf[UserRead]):
    pass


class IntegrationClientPage(PageOf[IntegrationClientRead]):
    pass


class AuditEventPage(PageOf[AuditEventRead]):
    pass


class PupilPage(PageOf[PupilRead]):
    pass


class EnrolmentPage(PageOf[EnrolmentRead]):
    pass


class ClassPage(PageOf[ClassRead]):
    pass


class GroupPage(PageOf[GroupRead]):
    pass


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


class GrantView(BaseModel):
    role: Role
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None


class Me(BaseModel):
    """Who the caller is and what they may reach."""

    kind: str = Field(description="user or client")
    id: uuid.UUID
    name: str
    email: str | None
    roles: list[GrantView]
    scopes: list[ClientScope]
    trust_ids: list[uuid.UUID] = Field(description="Trusts the caller can see.")
    school_ids: list[uuid.UUID] = Field(description="Schools the caller can see.")
    everything: bool = Field(description="True for system administrators.")
