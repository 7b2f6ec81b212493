"""The access policy in isolation: who reaches what, by role and scope."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth.policy import (
    ROLE_RIGHTS,
    Action,
    Resource,
    may_grant,
    reach,
    require,
    sees_pupils,
)
from app.auth.principal import Grant, Principal
from app.domain.calendar import AcademicYear
from app.domain.roles import ROLE_SCOPE, ClientScope, Role, ScopeKind
from app.errors import Forbidden, NotFound

TRUST = uuid.uuid4()
SCHOOL = uuid.uuid4()
SISTER_SCHOOL = uuid.uuid4()
OUTSIDE_SCHOOL = uuid.uuid4()


def person(role: Role) -> Principal:
    kind = ROLE_SCOPE[role]
    grant = Grant(
        role,
        trust_id=TRUST if kind is ScopeKind.TRUST else None,
        school_id=SCHOOL if kind is ScopeKind.SCHOOL else None,
    )
    return Principal(
        kind="user",
        id=uuid.uuid4(),
        name=role.value,
        grants=(grant,),
        schools_of_trust={TRUST: frozenset({SCHOOL, SISTER_SCHOOL})},
        trust_of_school={SCHOOL: TRUST},
    )


def client(*scopes: ClientScope) -> Principal:
    return Principal(
        kind="client",
        id=uuid.uuid4(),
        name="mis",
        scopes=frozenset(scopes),
        client_school_id=SCHOOL,
        trust_of_school={SCHOOL: TRUST},
    )


@pytest.mark.parametrize("role", list(Role))
def test_nobody_but_a_system_admin_reaches_a_school_outside_their_scope(role):
    principal = person(role)
    for resource in Resource:
        for action in Action:
            covered = reach(principal, resource, action).covers(school_id=OUTSIDE_SCHOOL)
            assert covered == (role is Role.SYSTEM_ADMIN), (role, resource, action)


def test_trust_people_reach_every_school_of_their_trust():
    for role in (Role.TRUST_ADMIN, Role.TRUST_ANALYST):
        schools = reach(person(role), Resource.SCHOOL, Action.READ)
        assert schools.school_ids == {SCHOOL, SISTER_SCHOOL}
        assert schools.trust_ids == {TRUST}


def test_school_people_see_their_trust_but_not_its_other_schools():
    for role in (Role.SCHOOL_LEADER, Role.TEACHER, Role.GOVERNOR):
        principal = person(role)
        assert reach(principal, Resource.TRUST, Action.READ).covers(trust_id=TRUST)
        assert not reach(principal, Resource.SCHOOL, Action.READ).covers(school_id=SISTER_SCHOOL)


def test_out_of_reach_is_not_found_and_visible_but_read_only_is_forbidden():
    teacher = person(Role.TEACHER)
    with pytest.raises(NotFound):
        require(teacher, Resource.SCHOOL, Action.READ, school_id=OUTSIDE_SCHOOL)
    with pytest.raises(NotFound):
        require(teacher, Resource.SCHOOL, Action.WRITE, school_id=OUTSIDE_SCHOOL)
    with pytest.raises(Forbidden):
        require(teacher, Resource.SCHOOL, Action.WRITE, school_id=SCHOOL)
    require(person(Role.SCHOOL_LEADER), Resource.SCHOOL, Action.WRITE, school_id=SCHOOL)


@given(st.sampled_from(list(Role)), st.sampled_from(list(Resource)))
def test_whoever_may_write_may_read(role, resource):
    rights = ROLE_RIGHTS[role].get(resource, frozenset())
    assert Action.WRITE not in rights or Action.READ in rights


def test_governors_pupils_and_parents_write_nothing():
    for role in (Role.GOVERNOR, Role.PUPIL, Role.PARENT, Role.TRUST_ANALYST, Role.TEACHER):
        for resource in (Resource.SCHOOL, Resource.TRUST, Resource.USER, Resource.ASSESSMENT_POINT):
            assert reach(person(role), resource, Action.WRITE).empty, (role, resource)


def test_clients_read_their_school_and_write_only_what_their_scopes_allow():
    reader = client(ClientScope.ROSTER_READ)
    assert reach(reader, Resource.SCHOOL, Action.READ).covers(school_id=SCHOOL)
    assert reach(reader, Resource.ASSESSMENT_POINT, Action.WRITE).empty
    writer = client(ClientScope.DEFINITIONS_WRITE)
    assert reach(writer, Resource.ASSESSMENT_POINT, Action.WRITE).covers(school_id=SCHOOL)
    assert reach(writer, Resource.USER, Action.READ).empty


def test_who_may_give_which_role():
    assert may_grant(person(Role.SYSTEM_ADMIN), Role.SYSTEM_ADMIN)
    assert not may_grant(person(Role.TRUST_ADMIN), Role.SYSTEM_ADMIN)
    assert may_grant(person(Role.TRUST_ADMIN), Role.TRUST_ANALYST)
    assert may_grant(person(Role.SCHOOL_LEADER), Role.TEACHER)
    assert not may_grant(person(Role.SCHOOL_LEADER), Role.TRUST_ADMIN)
    assert not may_grant(person(Role.TEACHER), Role.PUPIL)


# Who may run reports over school A1 (REPORT read), how far (the whole school, only the pupils
# they teach, or not at all), and whether a report may show them pupil rows (``sees_pupils``).
#         role                  report reach   sees pupils
REPORT_MATRIX = {
    Role.SYSTEM_ADMIN: ("school", True),
    Role.TRUST_ADMIN: ("school", True),
    Role.TRUST_ANALYST: ("school", True),
    Role.SCHOOL_LEADER: ("school", True),
    Role.TEACHER: ("taught", True),
    Role.GOVERNOR: ("school", False),
    Role.PUPIL: ("none", False),
    Role.PARENT: ("none", False),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_runs_reports_and_who_sees_pupil_rows_in_them(role):
    principal = person(role)
    reports = reach(principal, Resource.REPORT, Action.READ)
    expected_reach, expected_pupils = REPORT_MATRIX[role]
    found = (
        "school"
        if reports.covers(school_id=SCHOOL)
        else "taught"
        if SCHOOL in reports.taught_school_ids
        else "none"
    )
    assert found == expected_reach
    assert reports.touches(school_id=SCHOOL) == (expected_reach != "none")
    assert reach(principal, Resource.REPORT, Action.WRITE).empty == (role is not Role.SYSTEM_ADMIN)
    assert sees_pupils(principal, school_id=SCHOOL) is expected_pupils
    assert not sees_pupils(principal, school_id=OUTSIDE_SCHOOL) or role is Role.SYSTEM_ADMIN


def test_reports_follow_the_clients_scopes():
    assert reach(client(ClientScope.REPORTS_READ), Resource.REPORT, Action.READ).covers(
        school_id=SCHOOL
    )
    assert not sees_pupils(client(ClientScope.REPORTS_READ), school_id=SCHOOL)
    assert sees_pupils(client(ClientScope.ROSTER_READ), school_id=SCHOOL)
    assert reach(client(ClientScope.ROSTER_READ), Resource.REPORT, Action.READ).empty


def test_a_teacher_who_is_also_a_governor_sees_no_pupil_rows():
    # Their reports cover the whole school (as governor); they read only their own pupils.
    staff_governor = dataclasses.replace(
        person(Role.TEACHER),
        grants=(Grant(Role.TEACHER, school_id=SCHOOL), Grant(Role.GOVERNOR, school_id=SCHOOL)),
    )
    assert reach(staff_governor, Resource.REPORT, Action.READ).covers(school_id=SCHOOL)
    assert not sees_pupils(staff_governor, school_id=SCHOOL)
    leading_teacher = dataclasses.replace(
        staff_governor, grants=(*staff_governor.grants, Grant(Role.SCHOOL_LEADER, school_id=SCHOOL))
    )
    assert sees_pupils(leading_teacher, school_id=SCHOOL)


def test_a_teacher_reaches_the_pupils_of_this_years_classes_on():
    """The policy says from which academic year a teacher's classes give them their pupils:
    this one (and later ones, once made); queries only turn that into SQL."""
    this_year = AcademicYear.containing(date.today()).start_year
    for resource in (Resource.PUPIL, Resource.JUDGEMENT, Resource.VALUE, Resource.REPORT):
        taught = reach(person(Role.TEACHER), resource, Action.READ)
        assert taught.taught_from_year == this_year
        assert taught.taught_by is not None
    assert reach(person(Role.SCHOOL_LEADER), Resource.PUPIL, Action.READ).taught_from_year is None
