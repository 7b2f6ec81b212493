"""The one access policy: may this principal do this to that, and what may it reach?

Rights are granted per resource family and action, by role (people) or by scope (integration
clients), within the scope of the grant: the whole service, one trust (and all its schools), or
one school. REST and GraphQL both ask here; queries take a ``Reach`` as their filter.

Something out of a principal's reach is reported as not found, never as forbidden, so that
nobody learns what exists outside their reach. Forbidden is only for things they can see but
may not change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.auth.principal import Principal
from app.domain.roles import ROLE_SCOPE, ClientScope, Role, ScopeKind
from app.errors import Forbidden, NotFound


class Resource(StrEnum):
    TRUST = "trust"
    SCHOOL = "school"
    ASSESSMENT_POINT = "assessment_point"
    USER = "user"
    INTEGRATION_CLIENT = "integration_client"
    AUDIT_EVENT = "audit_event"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


R, W = Action.READ, Action.WRITE
_RW = frozenset({R, W})
_R = frozenset({R})

ROLE_RIGHTS: dict[Role, dict[Resource, frozenset[Action]]] = {
    Role.SYSTEM_ADMIN: {resource: _RW for resource in Resource},
    Role.TRUST_ADMIN: {
        Resource.TRUST: _RW,
        Resource.SCHOOL: _RW,
        Resource.ASSESSMENT_POINT: _RW,
        Resource.USER: _RW,
        Resource.INTEGRATION_CLIENT: _RW,
        Resource.AUDIT_EVENT: _R,
    },
    Role.TRUST_ANALYST: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
    },
    Role.SCHOOL_LEADER: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _RW,
        Resource.ASSESSMENT_POINT: _RW,
        Resource.USER: _RW,
        Resource.INTEGRATION_CLIENT: _RW,
        Resource.AUDIT_EVENT: _R,
    },
    Role.TEACHER: {Resource.TRUST: _R, Resource.SCHOOL: _R, Resource.ASSESSMENT_POINT: _R},
    Role.GOVERNOR: {Resource.TRUST: _R, Resource.SCHOOL: _R, Resource.ASSESSMENT_POINT: _R},
    Role.PUPIL: {Resource.SCHOOL: _R, Resource.ASSESSMENT_POINT: _R},
    Role.PARENT: {Resource.SCHOOL: _R, Resource.ASSESSMENT_POINT: _R},
}

# Every client may see the school(s) and trust it is scoped to, and their calendars.
CLIENT_BASE_RIGHTS: dict[Resource, frozenset[Action]] = {
    Resource.TRUST: _R,
    Resource.SCHOOL: _R,
    Resource.ASSESSMENT_POINT: _R,
}
SCOPE_RIGHTS: dict[ClientScope, dict[Resource, frozenset[Action]]] = {
    ClientScope.DEFINITIONS_WRITE: {Resource.ASSESSMENT_POINT: _RW},
}

# Which roles a principal holding each role may hand out (within its own scope).
GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.SYSTEM_ADMIN: frozenset(Role),
    Role.TRUST_ADMIN: frozenset(Role) - {Role.SYSTEM_ADMIN},
    Role.SCHOOL_LEADER: frozenset(r for r, k in ROLE_SCOPE.items() if k is ScopeKind.SCHOOL),
}


@dataclass(frozen=True, slots=True)
class Reach:
    """What a principal reaches for one resource family and action.

    School-owned things are reached through ``school_ids`` (which include every school of a
    trust held trust-wide); trust-owned things through ``trust_ids``.
    """

    everything: bool = False
    trust_ids: frozenset[uuid.UUID] = frozenset()
    school_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.trust_ids or self.school_ids)

    def covers(
        self, *, trust_id: uuid.UUID | None = None, school_id: uuid.UUID | None = None
    ) -> bool:
        if self.everything:
            return True
        if school_id is not None:
            return school_id in self.school_ids
        return trust_id is not None and trust_id in self.trust_ids


def _rights(
    principal: Principal,
) -> list[tuple[dict[Resource, frozenset[Action]], ScopeKind, uuid.UUID | None]]:
    """Each source of rights with the scope it applies in."""
    if principal.is_client:
        kind = ScopeKind.TRUST if principal.client_trust_id else ScopeKind.SCHOOL
        scope_id = principal.client_trust_id or principal.client_school_id
        sources = [(CLIENT_BASE_RIGHTS, kind, scope_id)]
        sources += [
            (SCOPE_RIGHTS[s], kind, scope_id) for s in principal.scopes if s in SCOPE_RIGHTS
        ]
        return sources
    return [
        (ROLE_RIGHTS[g.role], ROLE_SCOPE[g.role], g.trust_id or g.school_id)
        for g in principal.grants
    ]


def reach(principal: Principal, resource: Resource, action: Action) -> Reach:
    trust_ids: set[uuid.UUID] = set()
    school_ids: set[uuid.UUID] = set()
    for rights, kind, scope_id in _rights(principal):
        if action not in rights.get(resource, frozenset()):
            continue
        if kind is ScopeKind.SERVICE:
            return Reach(everything=True)
        assert scope_id is not None
        if kind is ScopeKind.TRUST:
            trust_ids.add(scope_id)
            school_ids.update(principal.schools_of_trust.get(scope_id, frozenset()))
        else:
            school_ids.add(scope_id)
            # A school's own people may read the name of the trust it belongs to.
            trust_id = principal.trust_of_school.get(scope_id)
            if resource is Resource.TRUST and trust_id is not None:
                trust_ids.add(trust_id)
    return Reach(trust_ids=frozenset(trust_ids), school_ids=frozenset(school_ids))


def require(
    principal: Principal,
    resource: Resource,
    action: Action,
    *,
    trust_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
    what: str | None = None,
) -> None:
    """Raise NotFound if the thing is out of reach, Forbidden if visible but not writable."""
    if not reach(principal, resource, Action.READ).covers(trust_id=trust_id, school_id=school_id):
        raise NotFound(f"{what or resource.value.replace('_', ' ')} not found")
    if action is not Action.READ and not reach(principal, resource, action).covers(
        trust_id=trust_id, school_id=school_id
    ):
        raise Forbidden(f"you may not change this {what or resource.value.replace('_', ' ')}")


def require_any(principal: Principal, resource: Resource, action: Action) -> Reach:
    """For creating or listing: the principal must reach something of this family."""
    found = reach(principal, resource, action)
    if found.empty:
        raise Forbidden(f"you may not {action.value} {resource.value.replace('_', ' ')}s")
    return found


def may_grant(principal: Principal, role: Role) -> bool:
    return any(role in GRANTABLE.get(g.role, frozenset()) for g in principal.grants)
