"""Users, their role grants, and integration clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import EmailStr
from sqlmodel import Field, SQLModel

from app.db.base import JSONType, UTCDateTime, created_at_field, id_field, updated_at_field
from app.domain.roles import ROLE_SCOPE, SELF_ROLES, ClientScope, Role, ScopeKind

_TRUST_ROLES = ", ".join(f"'{r}'" for r, k in ROLE_SCOPE.items() if k is ScopeKind.TRUST)
_SCHOOL_ROLES = ", ".join(f"'{r}'" for r, k in ROLE_SCOPE.items() if k is ScopeKind.SCHOOL)
GRANT_SCOPE_RULE = (
    f"(role = '{Role.SYSTEM_ADMIN}' AND trust_id IS NULL AND school_id IS NULL)"
    f" OR (role IN ({_TRUST_ROLES}) AND trust_id IS NOT NULL AND school_id IS NULL)"
    f" OR (role IN ({_SCHOOL_ROLES}) AND school_id IS NOT NULL AND trust_id IS NULL)"
)

# Pupils and parents see one pupil's own record: the grant names the pupil.
SELF_PUPIL_RULE = "pupil_id IS NULL OR role IN ({})".format(
    ", ".join(f"'{r}'" for r in sorted(SELF_ROLES))
)


def _credentials_version() -> Any:
    """Bumped whenever what a token stands for changes (password or secret, grants or scopes,
    disabled or enabled): tokens and refresh tokens of an older version are refused."""
    return Field(default=0, nullable=False, sa_column_kwargs={"server_default": "0"})


# --- Role grant --------------------------------------------------------------------------
class RoleGrantBase(SQLModel):
    role: Role
    trust_id: uuid.UUID | None = Field(default=None, description="For trust roles.")
    school_id: uuid.UUID | None = Field(default=None, description="For school roles.")
    pupil_id: uuid.UUID | None = Field(
        default=None,
        description="Pupil and parent roles: the pupil (of the school) whose record they see.",
    )


class RoleGrant(RoleGrantBase, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (
        sa.CheckConstraint(GRANT_SCOPE_RULE, name="scope_matches_role"),
        sa.CheckConstraint(SELF_PUPIL_RULE, name="pupil_for_self_roles"),
    )
    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=32)  # type: ignore[assignment]
    trust_id: uuid.UUID | None = Field(
        default=None, foreign_key="trust.id", ondelete="CASCADE", index=True
    )
    school_id: uuid.UUID | None = Field(
        default=None, foreign_key="school.id", ondelete="CASCADE", index=True
    )
    pupil_id: uuid.UUID | None = Field(
        default=None, foreign_key="pupil.id", ondelete="CASCADE", index=True
    )
    created_at: datetime = created_at_field()


# --- User --------------------------------------------------------------------------------
class UserBase(SQLModel):
    email: EmailStr = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=200)


class User(UserBase, table=True):
    __table_args__ = (sa.UniqueConstraint("email"),)
    id: uuid.UUID = id_field()
    email: str = Field(max_length=254)  # type: ignore[assignment]
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    credentials_version: int = _credentials_version()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


# --- Integration client ------------------------------------------------------------------
class IntegrationClientBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, description="e.g. 'Arbor sync'.")
    scopes: list[ClientScope] = Field(min_length=1, max_length=len(ClientScope))
    trust_id: uuid.UUID | None = None
    school_id: uuid.UUID | None = None


class IntegrationClient(IntegrationClientBase, table=True):
    __tablename__ = "integration_client"
    __table_args__ = (
        sa.UniqueConstraint("client_id"),
        sa.CheckConstraint("(trust_id IS NULL) <> (school_id IS NULL)", name="one_scope"),
    )
    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=64)
    secret_hash: str = Field(max_length=255)
    scopes: list[str] = Field(sa_type=JSONType)  # type: ignore[assignment]
    trust_id: uuid.UUID | None = Field(
        default=None, foreign_key="trust.id", ondelete="CASCADE", index=True
    )
    school_id: uuid.UUID | None = Field(
        default=None, foreign_key="school.id", ondelete="CASCADE", index=True
    )
    is_active: bool = True
    credentials_version: int = _credentials_version()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


# --- Refresh token -----------------------------------------------------------------------
class RefreshToken(SQLModel, table=True):
    """One refresh token a person was given (OAuth2, RFC 6749 section 6), stored as a hash.

    Each refresh revokes the token used and gives a new one of the same family (the sign-in it
    descends from); a revoked token presented again means it was copied, so the whole family
    is revoked. Signing out revokes the family too.
    """

    __tablename__ = "refresh_token"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)
    id: uuid.UUID = id_field()
    family_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64)
    credentials_version: int
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
