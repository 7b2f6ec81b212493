"""The one access policy: may this principal do this to that, and what may it reach?

Rights are granted per resource family and action, by role (people) or by scope (integration
clients), within the scope of the grant: the whole service, one trust (and all its schools), or
one school. REST and GraphQL both ask here; queries take a ``Reach`` as their filter.

Something out of a principal's reach is reported as not found, never as forbidden, so that
nobody learns what exists outside their reach. Forbidden is only for things they can see but
may not change.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.auth.principal import Principal
from app.domain.calendar import AcademicYear
from app.domain.roles import ROLE_SCOPE, SELF_ROLES, ClientScope, Role, ScopeKind
from app.errors import Forbidden, NotFound


class Resource(StrEnum):
    TRUST = "trust"
    SCHOOL = "school"
    ASSESSMENT_POINT = "assessment_point"
    USER = "user"
    INTEGRATION_CLIENT = "integration_client"
    AUDIT_EVENT = "audit_event"
    PUPIL = "pupil"  # pupils, their enrolments, characteristics and roster imports
    CLASS = "class"  # classes (teaching groups), their teachers and pupils
    GROUP = "group"  # a school's custom groups of pupils
    DEFINITION = "definition"  # subjects, frameworks and objectives, scales, measures
    JUDGEMENT = "judgement"  # objective judgements (the markbook) and working years
    VALUE = "value"  # measure values at assessment points, and score imports
    REPORT = "report"  # running aggregate reports over the markbook and values
    # A pupil's targets: part of the markbook. Whoever records a pupil's judgements sets, changes
    # and closes their targets; pupils and parents read their own; governors see none. Clients
    # hold them with the judgements:* scopes (an MIS may show or push targets with judgements).
    TARGET = "target"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    ERASE = "erase"  # delete a pupil for good: a leader's explicit, audited decision
    # everything held about a pupil in one document (a subject access request): as for
    # erasure, the school's decision as data controller, taken by its leaders (or trust admins)
    EXPORT = "export"


R, W = Action.READ, Action.WRITE
_RW = frozenset({R, W})
_R = frozenset({R})
_RWE = frozenset(Action)  # every action: read, write, erase, export
_ROSTER_ADMIN = {Resource.PUPIL: _RWE, Resource.CLASS: _RW, Resource.GROUP: _RW}
_ROSTER_READ = {Resource.PUPIL: _R, Resource.CLASS: _R, Resource.GROUP: _R}
_MARKBOOK = {Resource.JUDGEMENT: _RW, Resource.VALUE: _RW, Resource.TARGET: _RW}
_MARKBOOK_READ = {Resource.JUDGEMENT: _R, Resource.VALUE: _R, Resource.TARGET: _R}
_REPORTS = {Resource.REPORT: _R}

ROLE_RIGHTS: dict[Role, dict[Resource, frozenset[Action]]] = {
    Role.SYSTEM_ADMIN: {resource: _RWE for resource in Resource},
    Role.TRUST_ADMIN: {
        Resource.TRUST: _RW,
        Resource.SCHOOL: _RW,
        Resource.ASSESSMENT_POINT: _RW,
        Resource.USER: _RW,
        Resource.INTEGRATION_CLIENT: _RW,
        Resource.AUDIT_EVENT: _R,
        Resource.DEFINITION: _RW,
        **_ROSTER_ADMIN,
        **_MARKBOOK,
        **_REPORTS,
    },
    Role.TRUST_ANALYST: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
        Resource.DEFINITION: _R,
        **_ROSTER_READ,
        **_MARKBOOK_READ,
        **_REPORTS,
    },
    Role.SCHOOL_LEADER: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _RW,
        Resource.ASSESSMENT_POINT: _RW,
        Resource.USER: _RW,
        Resource.INTEGRATION_CLIENT: _RW,
        Resource.AUDIT_EVENT: _R,
        Resource.DEFINITION: _RW,
        **_ROSTER_ADMIN,
        **_MARKBOOK,
        **_REPORTS,
    },
    # Teachers read the pupils of the classes they teach (TAUGHT_ONLY), all of the school's
    # classes and groups by name, and within those only the pupils they teach; they record
    # judgements and values for those pupils only, and run reports over them.
    Role.TEACHER: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
        Resource.DEFINITION: _R,
        **_ROSTER_READ,
        **_MARKBOOK,
        **_REPORTS,
    },
    # Definitions (objectives, scales) are what reports and a pupil's own record are written in.
    # Governors run reports but reach no pupils (``sees_pupils``): they see aggregates only.
    Role.GOVERNOR: {
        Resource.TRUST: _R,
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
        Resource.DEFINITION: _R,
        **_REPORTS,
    },
    # Pupils and parents read one pupil's own record (SELF_ROLES): the pupil their grant names.
    Role.PUPIL: {
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
        Resource.DEFINITION: _R,
        **_MARKBOOK_READ,
    },
    Role.PARENT: {
        Resource.SCHOOL: _R,
        Resource.ASSESSMENT_POINT: _R,
        Resource.DEFINITION: _R,
        **_MARKBOOK_READ,
    },
}

# Every client may see the school(s) and trust it is scoped to, and their calendars.
CLIENT_BASE_RIGHTS: dict[Resource, frozenset[Action]] = {
    Resource.TRUST: _R,
    Resource.SCHOOL: _R,
    Resource.ASSESSMENT_POINT: _R,
}
SCOPE_RIGHTS: dict[ClientScope, dict[Resource, frozenset[Action]]] = {
    ClientScope.DEFINITIONS_READ: {Resource.DEFINITION: _R},
    ClientScope.DEFINITIONS_WRITE: {Resource.ASSESSMENT_POINT: _RW, Resource.DEFINITION: _RW},
    ClientScope.ROSTER_READ: _ROSTER_READ,
    ClientScope.ROSTER_WRITE: {Resource.PUPIL: _RW, Resource.CLASS: _RW, Resource.GROUP: _RW},
    ClientScope.JUDGEMENTS_READ: {Resource.JUDGEMENT: _R, Resource.TARGET: _R},
    ClientScope.JUDGEMENTS_WRITE: {Resource.JUDGEMENT: _RW, Resource.TARGET: _RW},
    ClientScope.VALUES_READ: {Resource.VALUE: _R},
    ClientScope.VALUES_WRITE: {Resource.VALUE: _RW},
    ClientScope.REPORTS_READ: _REPORTS,
}

# Rights that reach only the pupils a teacher teaches, not the whole school of the grant.
TAUGHT_ONLY: frozenset[tuple[Role, Resource]] = frozenset(
    (Role.TEACHER, resource)
    for resource in (
        Resource.PUPIL,
        Resource.JUDGEMENT,
        Resource.VALUE,
        Resource.TARGET,
        Resource.REPORT,
    )
)

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
    trust held trust-wide); trust-owned things through ``trust_ids``. In ``taught_school_ids``
    only the pupils that ``taught_by`` teaches are reached (a teacher's pupils): the pupils of
    their classes of academic year ``taught_from_year`` (this year) or later, once next year's
    classes exist. Whether one pupil is among them is a question for the database, so
    ``covers`` says no for those schools and queries filter with
    ``app.db.queries.reach.pupils_within``. ``pupil_ids`` are single pupils reached on their
    own (a pupil's or parent's own record).
    """

    everything: bool = False
    trust_ids: frozenset[uuid.UUID] = frozenset()
    school_ids: frozenset[uuid.UUID] = frozenset()
    taught_school_ids: frozenset[uuid.UUID] = frozenset()
    taught_by: uuid.UUID | None = None
    taught_from_year: int | None = None
    pupil_ids: frozenset[uuid.UUID] = frozenset()
    pupil_school_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def empty(self) -> bool:
        return not (
            self.everything
            or self.trust_ids
            or self.school_ids
            or self.taught_school_ids
            or self.pupil_ids
        )

    def touches(self, *, school_id: uuid.UUID) -> bool:
        """Reaches the school, or some of its pupils."""
        return (
            self.covers(school_id=school_id)
            or school_id in self.taught_school_ids
            or school_id in self.pupil_school_ids
        )

    def covers(
        self, *, trust_id: uuid.UUID | None = None, school_id: uuid.UUID | None = None
    ) -> bool:
        if self.everything:
            return True
        if school_id is not None:
            return school_id in self.school_ids
        return trust_id is not None and trust_id in self.trust_ids


_Source = tuple[
    dict[Resource, frozenset[Action]], ScopeKind, uuid.UUID | None, Role | None, uuid.UUID | None
]
# What a pupil's or parent's grant reaches of its one pupil; the rest of their rights
# (the school's name, its calendar and definitions) are the school's.
_SELF_RESOURCES = frozenset({Resource.JUDGEMENT, Resource.VALUE, Resource.TARGET})


def _rights(principal: Principal) -> list[_Source]:
    """Each source of rights with the scope it applies in (and the role it comes from)."""
    if principal.is_client:
        kind = ScopeKind.TRUST if principal.client_trust_id else ScopeKind.SCHOOL
        scope_id = principal.client_trust_id or principal.client_school_id
        sources: list[_Source] = [(CLIENT_BASE_RIGHTS, kind, scope_id, None, None)]
        sources += [
            (SCOPE_RIGHTS[s], kind, scope_id, None, None)
            for s in principal.scopes
            if s in SCOPE_RIGHTS
        ]
        return sources
    return [
        (ROLE_RIGHTS[g.role], ROLE_SCOPE[g.role], g.trust_id or g.school_id, g.role, g.pupil_id)
        for g in principal.grants
    ]


def reach(principal: Principal, resource: Resource, action: Action) -> Reach:
    trust_ids: set[uuid.UUID] = set()
    school_ids: set[uuid.UUID] = set()
    taught_school_ids: set[uuid.UUID] = set()
    pupil_ids: set[uuid.UUID] = set()
    pupil_school_ids: set[uuid.UUID] = set()
    for rights, kind, scope_id, role, pupil_id in _rights(principal):
        if action not in rights.get(resource, frozenset()):
            continue
        if kind is ScopeKind.SERVICE:
            return Reach(everything=True)
        assert scope_id is not None
        if role in SELF_ROLES and resource in _SELF_RESOURCES:
            if pupil_id is not None:
                pupil_ids.add(pupil_id)
                pupil_school_ids.add(scope_id)
        elif (role, resource) in TAUGHT_ONLY:
            taught_school_ids.add(scope_id)
        elif kind is ScopeKind.TRUST:
            trust_ids.add(scope_id)
            school_ids.update(principal.schools_of_trust.get(scope_id, frozenset()))
        else:
            school_ids.add(scope_id)
            # A school's own people may read the name of the trust it belongs to, and the
            # definitions the trust shares with its schools.
            trust_id = principal.trust_of_school.get(scope_id)
            shared = resource is Resource.TRUST or (
                resource is Resource.DEFINITION and action is Action.READ
            )
            if shared and trust_id is not None:
                trust_ids.add(trust_id)
    taught = taught_school_ids - school_ids
    return Reach(
        trust_ids=frozenset(trust_ids),
        school_ids=frozenset(school_ids),
        taught_school_ids=frozenset(taught),
        taught_by=principal.id if taught else None,
        # A teacher's pupils are those of this year's classes (and next year's, once made):
        # last year's classes no longer give them away.
        taught_from_year=AcademicYear.containing(date.today()).start_year if taught else None,
        pupil_ids=frozenset(pupil_ids),
        pupil_school_ids=frozenset(pupil_school_ids - school_ids),
    )


def as_staff(found: Reach) -> Reach:
    """The part of a reach that is not a pupil's or parent's own record: what the principal
    reaches as staff (a leader, a teacher, trust staff, a client)."""
    return dataclasses.replace(found, pupil_ids=frozenset(), pupil_school_ids=frozenset())


def sees_pupils(principal: Principal, *, school_id: uuid.UUID) -> bool:
    """Whether a report over a school may show the principal pupil rows and small groups:
    only if they read every pupil the report covers for them. A leader reads the whole
    school, a teacher the pupils they teach (their reports cover no more). Anyone else who
    may run reports (a governor, a reports:read client) sees aggregates, with small groups
    suppressed; so does a teacher who is also a governor of the school, since their reports
    cover the whole school and they read only their own pupils."""
    pupils = reach(principal, Resource.PUPIL, Action.READ)
    if reach(principal, Resource.REPORT, Action.READ).covers(school_id=school_id):
        return pupils.covers(school_id=school_id)
    return pupils.touches(school_id=school_id)


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


def template_readers(principal: Principal) -> Reach:
    """Whose report templates the principal may read: those of the owners whose definitions
    they read, and those of the schools they may run reports in, with those schools' trusts
    (a trust's templates are shared with its schools)."""
    definitions = reach(principal, Resource.DEFINITION, Action.READ)
    reports = reach(principal, Resource.REPORT, Action.READ)
    if definitions.everything or reports.everything:
        return Reach(everything=True)
    schools = reports.school_ids | reports.taught_school_ids
    trusts = {principal.trust_of_school.get(school_id) for school_id in schools}
    return Reach(
        trust_ids=definitions.trust_ids | reports.trust_ids | {t for t in trusts if t},
        school_ids=definitions.school_ids | schools,
    )
