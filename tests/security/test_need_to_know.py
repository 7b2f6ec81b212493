"""What a 200 shows: lists hold exactly what the caller reaches, nothing from outside it.

The access matrix checks statuses; these check contents. Scope keys name the world's trusts
("A", "B") and schools ("A1", "A2", "B1"); a principal sees a trust, school, person or client
when its scope key is among those it reaches. People with roles in several places are where
reach is easiest to get wrong, so the last tests give people such roles.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.people import RoleGrant
from app.domain.roles import Role
from tests.security.conftest import Targets
from tests.support.world import CLIENTS, PEOPLE, PRINCIPALS

ALL = frozenset({"A", "A1", "A2", "B", "B1"})
TRUST_A = frozenset({"A", "A1", "A2"})

# principal -> scope keys of the trusts and schools it may read (None: the list is a 403).
SEES: dict[str, frozenset[str] | None] = {
    "system_admin": ALL,
    "trust_admin": TRUST_A,
    "trust_analyst": TRUST_A,
    "school_leader": frozenset({"A", "A1"}),
    "teacher": frozenset({"A", "A1"}),
    "governor": frozenset({"A", "A1"}),
    "pupil": frozenset({"A1"}),  # no trust: GET /v1/trusts is a 403 for pupils and parents
    "parent": frozenset({"A1"}),
    "other_school_leader": frozenset({"A", "A2"}),
    "other_trust_admin": frozenset({"B", "B1"}),
    "integration": frozenset({"A", "A1"}),
    "integration_roster_read": frozenset({"A", "A1"}),
}
# principal -> scope keys of the people and integration clients it manages (None: 403).
# The system administrator's own grant is service-wide: its scope key is None.
MANAGES: dict[str, frozenset[str | None] | None] = {
    "system_admin": frozenset({*ALL, None}),
    "trust_admin": TRUST_A,
    "trust_analyst": None,
    "school_leader": frozenset({"A1"}),
    "teacher": None,
    "governor": None,
    "pupil": None,
    "parent": None,
    "other_school_leader": frozenset({"A2"}),
    "other_trust_admin": frozenset({"B", "B1"}),
    "integration": None,
    "integration_roster_read": None,
}


def test_the_tables_cover_every_principal() -> None:
    assert set(SEES) == set(MANAGES) == set(PRINCIPALS)


async def _items(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(path, headers=headers, params={"limit": 1000})
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    body = response.json()
    assert body["next_cursor"] is None, f"GET {path}: more than one page in a tiny world"
    return body["items"]


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_lists_hold_exactly_what_is_in_reach(
    principal: str, client: httpx.AsyncClient, targets: Targets
) -> None:
    world = targets.world
    headers = world.headers(principal)
    trust_keys = {str(t.id): k for k, t in world.trusts.items()}
    school_keys = {str(s.id): k for k, s in world.schools.items()}
    sees = SEES[principal] or frozenset()

    if {"A", "B"} & sees:
        trusts = {trust_keys[t["id"]] for t in await _items(client, "/v1/trusts", headers)}
        assert trusts == {"A", "B"} & sees, f"{principal}: GET /v1/trusts"
    schools = {school_keys[s["id"]] for s in await _items(client, "/v1/schools", headers)}
    assert schools == {"A1", "A2", "B1"} & sees, f"{principal}: GET /v1/schools"

    manages = MANAGES[principal]
    if manages is None:
        for path in ("/v1/users", "/v1/integration-clients", "/v1/audit-events"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 403, f"{principal}: GET {path} {response.text}"
        return
    person_scope = {name: key for name, (_, key) in PEOPLE.items()}
    person_scope |= {f"target {k}": k for k in targets.users}
    emails = {u.email: n for n, u in world.users.items()}
    emails |= {u.email: f"target {k}" for k, u in targets.users.items()}
    people = {emails[u["email"]] for u in await _items(client, "/v1/users", headers)}
    assert people == {n for n, key in person_scope.items() if key in manages}, (
        f"{principal}: GET /v1/users"
    )
    client_scope = {name: key for name, (_, key) in CLIENTS.items()}
    client_scope |= {f"target {k}": k for k in targets.clients}
    names = {c["name"] for c in await _items(client, "/v1/integration-clients", headers)}
    assert names == {n for n, key in client_scope.items() if key in manages}, (
        f"{principal}: GET /v1/integration-clients"
    )


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if SEES[p]])
async def test_a_school_lists_only_its_own_assessment_points(
    principal: str, client: httpx.AsyncClient, targets: Targets
) -> None:
    world = targets.world
    for key in sorted({"A1", "A2", "B1"} & (SEES[principal] or frozenset())):
        school_id = str(world.schools[key].id)
        items = await _items(
            client, f"/v1/schools/{school_id}/assessment-points", world.headers(principal)
        )
        assert [(p["id"], p["school_id"]) for p in items] == [
            (str(world.points[key].id), school_id)
        ], f"{principal}: points of {key}"


# --- People with roles in more than one place ------------------------------------------------
async def _give(session: AsyncSession, targets: Targets, person: str, role: Role, key: str) -> None:
    in_trust = key in targets.world.trusts
    session.add(
        RoleGrant(
            user_id=targets.world.users[person].id,
            role=role,
            trust_id=targets.trust(key).id if in_trust else None,
            school_id=None if in_trust else targets.school(key).id,
        )
    )
    await session.commit()


async def test_a_person_is_shown_with_only_the_roles_in_the_callers_reach(
    client: httpx.AsyncClient, targets: Targets, session: AsyncSession
) -> None:
    """The A1 leader sees a teacher of A1 who is also trust B's admin: it must learn of the
    A1 role only, not that trust B exists, nor its id."""
    await _give(session, targets, "other_trust_admin", Role.TEACHER, "A1")
    headers = targets.world.headers("school_leader")
    user_id = targets.world.users["other_trust_admin"].id
    one = (await client.get(f"/v1/users/{user_id}", headers=headers)).json()
    listed = [u for u in await _items(client, "/v1/users", headers) if u["id"] == str(user_id)]
    a1 = str(targets.school("A1").id)
    for shown in (one, *listed):
        grants = [(g["role"], g["trust_id"], g["school_id"]) for g in shown["grants"]]
        assert grants == [("teacher", None, a1)], f"the A1 leader is shown {grants}"


@pytest.mark.parametrize(
    ("person", "body"),
    [
        ("system_admin", {"password": "taken over by a school leader"}),
        ("system_admin", {"is_active": False}),
        ("other_trust_admin", {"password": "taken over by a school leader"}),
        ("other_trust_admin", {"is_active": False}),
        ("other_trust_admin", {"display_name": "Renamed by a school leader"}),
    ],
    ids=["sysadmin password", "sysadmin disable", "B admin password", "B admin disable", "name"],
)
async def test_a_school_leader_cannot_change_an_account_with_wider_roles(
    person: str,
    body: dict[str, Any],
    client: httpx.AsyncClient,
    targets: Targets,
    session: AsyncSession,
) -> None:
    """A system administrator, or trust B's admin, who also teaches at A1 is visible to the
    A1 leader, but their account is not the leader's to change: setting its password would
    hand the leader the whole service (or trust B). Visible but not writable: 403."""
    await _give(session, targets, person, Role.TEACHER, "A1")
    user_id = targets.world.users[person].id
    response = await client.patch(
        f"/v1/users/{user_id}", headers=targets.world.headers("school_leader"), json=body
    )
    assert response.status_code == 403, f"{response.status_code} {response.text[:300]}"
