"""Users, role grants and integration clients through the API. The tables are in
app/db/people.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import model_validator
from sqlmodel import Field

from app.api.schemas.base import Input, Output, PageOf
from app.db.people import IntegrationClientBase, RoleGrantBase, UserBase
from app.domain.roles import ROLE_SCOPE, SELF_ROLES, ClientScope, ScopeKind


class RoleGrantCreate(RoleGrantBase, Input):
    @model_validator(mode="after")
    def _scope_matches_role(self) -> RoleGrantCreate:
        kind = ROLE_SCOPE[self.role]
        if kind is ScopeKind.SERVICE and (self.trust_id or self.school_id):
            raise ValueError(f"{self.role} is service-wide: give neither trust_id nor school_id")
        if kind is ScopeKind.TRUST and (self.trust_id is None or self.school_id is not None):
            raise ValueError(f"{self.role} is a trust role: give trust_id and no school_id")
        if kind is ScopeKind.SCHOOL and (self.school_id is None or self.trust_id is not None):
            raise ValueError(f"{self.role} is a school role: give school_id and no trust_id")
        if self.pupil_id is not None and self.role not in SELF_ROLES:
            raise ValueError("pupil_id is only for the pupil and parent roles")
        return self


class RoleGrantRead(RoleGrantBase, Output):
    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime


class UserCreate(UserBase, Input):
    password: str | None = Field(
        default=None, min_length=12, max_length=256, description="Omit for SSO-only users."
    )
    grants: list[RoleGrantCreate] = Field(
        default_factory=list, max_length=50, description="Roles to give the new user."
    )


class UserUpdate(Input):
    display_name: str = Field(default=None, min_length=1, max_length=200)
    password: str = Field(default=None, min_length=12, max_length=256)
    is_active: bool = None  # type: ignore[assignment]


class UserRead(UserBase, Output):
    id: uuid.UUID
    is_active: bool
    grants: list[RoleGrantRead]
    created_at: datetime
    updated_at: datetime


class IntegrationClientCreate(IntegrationClientBase, Input):
    @model_validator(mode="after")
    def _one_scope(self) -> IntegrationClientCreate:
        if (self.trust_id is None) == (self.school_id is None):
            raise ValueError("give exactly one of trust_id or school_id")
        return self


class IntegrationClientUpdate(Input):
    name: str = Field(default=None, min_length=1, max_length=200)
    scopes: list[ClientScope] = Field(default=None, min_length=1, max_length=len(ClientScope))
    is_active: bool = None  # type: ignore[assignment]


class IntegrationClientRead(IntegrationClientBase, Output):
    id: uuid.UUID
    client_id: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class IntegrationClientCredentials(IntegrationClientRead):
    client_secret: str = Field(description="Shown once; store it in the integration's vault.")


class UserPage(PageOf[UserRead]):
    pass


class IntegrationClientPage(PageOf[IntegrationClientRead]):
    pass
