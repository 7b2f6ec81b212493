"""Who people are to a school or trust, and what integrations may be allowed to do.

A role is held within a scope: the whole service (system administrator), one trust, or one
school. Integration clients hold scopes (OAuth2 sense) within one school or trust.
"""

from __future__ import annotations

from enum import StrEnum


class PrincipalKind(StrEnum):
    """Who calls: a person (with role grants) or an integration client (with scopes), as a
    token's subject and a principal name them."""

    USER = "user"
    CLIENT = "client"


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    TRUST_ADMIN = "trust_admin"
    TRUST_ANALYST = "trust_analyst"
    SCHOOL_LEADER = "school_leader"
    TEACHER = "teacher"
    GOVERNOR = "governor"
    PUPIL = "pupil"
    PARENT = "parent"


# Roles held for one pupil's own record (pupils and parents): their grant names the pupil.
SELF_ROLES: frozenset[Role] = frozenset({Role.PUPIL, Role.PARENT})


class ScopeKind(StrEnum):
    SERVICE = "service"
    TRUST = "trust"
    SCHOOL = "school"


ROLE_SCOPE: dict[Role, ScopeKind] = {
    Role.SYSTEM_ADMIN: ScopeKind.SERVICE,
    Role.TRUST_ADMIN: ScopeKind.TRUST,
    Role.TRUST_ANALYST: ScopeKind.TRUST,
    Role.SCHOOL_LEADER: ScopeKind.SCHOOL,
    Role.TEACHER: ScopeKind.SCHOOL,
    Role.GOVERNOR: ScopeKind.SCHOOL,
    Role.PUPIL: ScopeKind.SCHOOL,
    Role.PARENT: ScopeKind.SCHOOL,
}


class ClientScope(StrEnum):
    """What an integration client may do, within its school or trust."""

    ROSTER_READ = "roster:read"
    ROSTER_WRITE = "roster:write"
    DEFINITIONS_READ = "definitions:read"
    DEFINITIONS_WRITE = "definitions:write"
    JUDGEMENTS_READ = "judgements:read"
    JUDGEMENTS_WRITE = "judgements:write"
    VALUES_READ = "values:read"
    VALUES_WRITE = "values:write"
    REPORTS_READ = "reports:read"
