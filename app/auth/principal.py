"""Who is calling: a person with role grants, or an integration client with scopes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.domain.roles import ClientScope, Role


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    trust_id: uuid.UUID | None = None
    school_id: uuid.UUID | None = None
    pupil_id: uuid.UUID | None = None  # pupil and parent roles: whose record


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, with everything the policy needs resolved up front.

    ``schools_of_trust`` lists the schools of each trust the principal holds a trust-wide
    grant or client scope in; ``trust_of_school`` the trust (if any) of each school it holds a
    school grant in.
    """

    kind: str  # "user" or "client"
    id: uuid.UUID
    name: str
    email: str | None = None
    grants: tuple[Grant, ...] = ()
    scopes: frozenset[ClientScope] = frozenset()
    client_trust_id: uuid.UUID | None = None
    client_school_id: uuid.UUID | None = None
    schools_of_trust: Mapping[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    trust_of_school: Mapping[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    @property
    def is_system_admin(self) -> bool:
        return any(g.role is Role.SYSTEM_ADMIN for g in self.grants)
