"""Users, role grants and integration clients through the REST API."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.db.audit import AuditEvent
from app.db.people import RoleGrant, User
from tests.support.roster import add_school_roster
from tests.support.world import PASSWORD


async def _sign_in(client, email: str, password: str) -> int:
    response = await client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return response.status_code


async def _signed_in(client, email: str) -> dict[str, str]:
    response = await client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_leader_adds_a_teacher_who_can_then_sign_in(client, world, session):
    school_id = str(world.schools["A1"].id)
    response = await client.post(
        "/v1/users",
        json={
            "email": "New.Teacher@World.example.org",
            "display_name": "New Teacher",
            "password": "a long enough password",
            "grants": [{"role": "teacher", "school_id": school_id}],
        },
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == "new.teacher@world.example.org"
    assert [(g["role"], g["school_id"]) for g in user["grants"]] == [("teacher", school_id)]
    assert "password" not in response.text and "hash" not in response.text
    assert await _sign_in(client, "new.teacher@world.example.org", "a long enough password") == 200

    events = (await session.scalars(sa.select(AuditEvent).order_by(AuditEvent.entity_type))).all()
    assert [(e.entity_type, e.action) for e in events] == [
        ("role_grant", "create"),
        ("user", "create"),
    ]
    assert all("password_hash" not in (e.after or {}) for e in events)


async def test_a_leader_cannot_create_trust_roles_or_staff_for_other_schools(
    client, world, session
):
    headers = world.headers("school_leader")
    base = {
        "email": "x@world.example.org",
        "display_name": "X",
        "password": "a long enough password",
    }
    trust_role = {
        **base,
        "grants": [{"role": "trust_admin", "trust_id": str(world.trusts["A"].id)}],
    }
    assert (await client.post("/v1/users", json=trust_role, headers=headers)).status_code == 422
    elsewhere = {**base, "grants": [{"role": "teacher", "school_id": str(world.schools["A2"].id)}]}
    response = await client.post("/v1/users", json=elsewhere, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.grants.0"
    nobody = {**base, "grants": []}
    assert (await client.post("/v1/users", json=nobody, headers=headers)).status_code == 422
    count = await session.scalar(sa.select(sa.func.count()).select_from(User))
    assert count == len(world.users)


async def test_a_role_must_match_its_scope(client, world):
    body = {
        "email": "y@world.example.org",
        "display_name": "Y",
        "grants": [{"role": "teacher", "trust_id": str(world.trusts["A"].id)}],
    }
    response = await client.post("/v1/users", json=body, headers=world.headers("trust_admin"))
    assert response.status_code == 422
    assert "school role" in response.json()["errors"][0]["reason"]


async def test_an_email_has_one_account(client, world):
    body = {
        "email": world.users["teacher"].email.upper(),
        "display_name": "Dup",
        "grants": [{"role": "governor", "school_id": str(world.schools["A1"].id)}],
    }
    response = await client.post("/v1/users", json=body, headers=world.headers("school_leader"))
    assert response.status_code == 409
    assert f"/v1/users/{world.users['teacher'].id}/grants" in response.json()["detail"]


async def test_a_person_known_elsewhere_gets_the_role_without_anyone_learning_where(client, world):
    """Trust B's admin is unknown to school A1's leader: adding them answers as a creation
    would, adds only the role, and leaves their name, password and other roles theirs."""
    elsewhere = world.users["other_trust_admin"]
    body = {
        "email": elsewhere.email,
        "display_name": "Renamed By A1",
        "password": "a password set by A1",
        "grants": [{"role": "governor", "school_id": str(world.schools["A1"].id)}],
    }
    response = await client.post("/v1/users", json=body, headers=world.headers("school_leader"))
    assert response.status_code == 201, response.text
    linked = response.json()
    assert linked["id"] == str(elsewhere.id)
    assert [g["role"] for g in linked["grants"]] == ["governor"]  # trust B's role stays private

    def sign_in(password: str) -> dict[str, str]:
        return {"grant_type": "password", "username": elsewhere.email, "password": password}

    assert (await client.post("/v1/auth/token", data=sign_in(body["password"]))).status_code == 400
    token = await client.post("/v1/auth/token", data=sign_in(PASSWORD))
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["name"] == "Other Trust Admin"
    assert {r["role"] for r in me.json()["roles"]} == {"trust_admin", "governor"}

    again = await client.post("/v1/users", json=body, headers=world.headers("school_leader"))
    assert again.status_code == 409  # now a person of the school, so known here


async def test_users_are_listed_within_reach(client, world):
    listed = await client.get("/v1/users", headers=world.headers("school_leader"))
    names = {u["display_name"] for u in listed.json()["items"]}
    assert names == {"School Leader", "Teacher", "Governor", "Pupil", "Parent"}

    trust_wide = await client.get("/v1/users", headers=world.headers("trust_admin"))
    names = {u["display_name"] for u in trust_wide.json()["items"]}
    assert "Other School Leader" in names and "Trust Analyst" in names
    assert "Other Trust Admin" not in names and "System Admin" not in names

    assert (await client.get("/v1/users", headers=world.headers("teacher"))).status_code == 403


async def test_roles_are_given_and_taken_away(client, world):
    teacher = world.users["teacher"]
    headers = world.headers("school_leader")
    url = f"/v1/users/{teacher.id}/grants"
    added = await client.post(
        url, json={"role": "governor", "school_id": str(world.schools["A1"].id)}, headers=headers
    )
    assert added.status_code == 201, added.text
    again = await client.post(
        url, json={"role": "governor", "school_id": str(world.schools["A1"].id)}, headers=headers
    )
    assert again.status_code == 409

    before = world.headers("teacher")  # a token from before the changes
    removed = await client.delete(f"{url}/{world.grants['teacher'].id}", headers=headers)
    assert removed.status_code == 204
    # Tokens follow roles: the teacher signs in again, and is a governor now.
    assert (await client.get("/v1/me", headers=before)).status_code == 401
    me = await client.get("/v1/me", headers=await _signed_in(client, teacher.email))
    assert [r["role"] for r in me.json()["roles"]] == ["governor"]


async def test_a_leader_cannot_remove_the_school_s_last_leader_grant(client, world):
    leader = world.users["school_leader"]
    headers = world.headers("school_leader")
    own = f"/v1/users/{leader.id}/grants/{world.grants['school_leader'].id}"
    refused = await client.delete(own, headers=headers)
    assert refused.status_code == 409, refused.text
    assert "last leader" in refused.json()["detail"]
    me = await client.get("/v1/me", headers=headers)
    assert "school_leader" in [r["role"] for r in me.json()["roles"]]

    # With a second leader, the first may step down.
    teacher = world.users["teacher"]
    added = await client.post(
        f"/v1/users/{teacher.id}/grants",
        json={"role": "school_leader", "school_id": str(world.schools["A1"].id)},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert (await client.delete(own, headers=headers)).status_code == 204


# --- Pupil and parent grants name their pupil ---------------------------------------------
async def _pupils(session, world):
    """Two pupils of school A1 and one of A2, committed for the app to see."""
    leader = world.users["school_leader"].id
    found = [
        (
            await add_school_roster(
                session, world.schools[key], serial=serial, teacher_id=None, job_creator_id=leader
            )
        ).pupil
        for key, serial in (("A1", 1), ("A1", 2), ("A2", 3))
    ]
    await session.commit()
    return found


def _self_body(world, *grants):
    return {
        "email": "family@world.example.org",
        "display_name": "A Parent",
        "grants": [
            {"role": role, "school_id": str(world.schools["A1"].id), "pupil_id": pupil_id}
            for role, pupil_id in grants
        ],
    }


async def test_a_parent_grant_names_a_pupil_of_its_school(client, world, session):
    first, second, _ = await _pupils(session, world)
    response = await client.post(
        "/v1/users",
        json=_self_body(world, ("parent", str(first.id)), ("parent", str(second.id))),
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert sorted(g["pupil_id"] for g in user["grants"]) == sorted([str(first.id), str(second.id)])
    read = await client.get(f"/v1/users/{user['id']}", headers=world.headers("school_leader"))
    assert {g["pupil_id"] for g in read.json()["grants"]} == {str(first.id), str(second.id)}
    stored = await session.scalars(
        sa.select(RoleGrant).where(RoleGrant.user_id == uuid.UUID(user["id"]))
    )
    assert {g.pupil_id for g in stored} == {first.id, second.id}


async def test_a_pupil_grant_may_name_nobody_yet(client, world, session):
    response = await client.post(
        "/v1/users", json=_self_body(world, ("pupil", None)), headers=world.headers("school_leader")
    )
    assert response.status_code == 201, response.text
    assert [g["pupil_id"] for g in response.json()["grants"]] == [None]


async def test_a_grant_naming_a_pupil_of_another_school_or_none_is_refused_alike(
    client, world, session
):
    first, _, elsewhere = await _pupils(session, world)
    headers = world.headers("school_leader")
    reasons = []
    for pupil_id in (str(elsewhere.id), str(uuid.uuid4())):
        body = _self_body(world, ("pupil", str(first.id)), ("parent", pupil_id))
        response = await client.post("/v1/users", json=body, headers=headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "body.grants.1.pupil_id"
        reasons.append(error["reason"])
    assert reasons[0] == reasons[1] == "no such pupil in this school"
    count = await session.scalar(sa.select(sa.func.count()).select_from(User))
    assert count == len(world.users)


async def test_only_pupil_and_parent_grants_name_a_pupil(client, world, session):
    first, _, _ = await _pupils(session, world)
    body = _self_body(world, ("teacher", str(first.id)))
    response = await client.post("/v1/users", json=body, headers=world.headers("school_leader"))
    assert response.status_code == 422
    assert "pupil and parent" in response.json()["errors"][0]["reason"]


async def test_a_parent_is_given_a_grant_for_each_child(client, world, session):
    first, second, elsewhere = await _pupils(session, world)
    headers = world.headers("school_leader")
    created = await client.post(
        "/v1/users", json=_self_body(world, ("parent", str(first.id))), headers=headers
    )
    url = f"/v1/users/{created.json()['id']}/grants"
    school_id = str(world.schools["A1"].id)
    grant = {"role": "parent", "school_id": school_id, "pupil_id": str(second.id)}
    added = await client.post(url, json=grant, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["pupil_id"] == str(second.id)
    assert (await client.post(url, json=grant, headers=headers)).status_code == 409
    wrong = await client.post(url, json={**grant, "pupil_id": str(elsewhere.id)}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "body.pupil_id", "reason": "no such pupil in this school"}
    ]


async def test_disabling_a_user_ends_their_tokens_at_once(client, world):
    token_headers = world.headers("teacher")
    response = await client.patch(
        f"/v1/users/{world.users['teacher'].id}",
        json={"is_active": False},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 200
    assert (await client.get("/v1/me", headers=token_headers)).status_code == 401


async def test_password_changes_are_audited_without_the_password(client, world, session):
    user = world.users["teacher"]
    response = await client.patch(
        f"/v1/users/{user.id}",
        json={"password": "brand new password"},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 200
    assert await _sign_in(client, user.email, PASSWORD) == 400
    assert await _sign_in(client, user.email, "brand new password") == 200
    event = (await session.scalars(sa.select(AuditEvent))).one()
    assert event.after["secrets_changed"] == ["password"]
    assert "brand new password" not in str(event.after) + str(event.before)


async def test_integration_clients_get_a_secret_once_and_can_rotate_it(client, world):
    headers = world.headers("school_leader")
    created = await client.post(
        "/v1/integration-clients",
        json={
            "name": "Arbor sync",
            "scopes": ["roster:write", "roster:read"],
            "school_id": str(world.schools["A1"].id),
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    credentials = created.json()
    assert credentials["scopes"] == ["roster:read", "roster:write"]
    secret = credentials["client_secret"]

    read = await client.get(f"/v1/integration-clients/{credentials['id']}", headers=headers)
    assert "client_secret" not in read.json()

    form = {
        "grant_type": "client_credentials",
        "client_id": credentials["client_id"],
        "client_secret": secret,
    }
    assert (await client.post("/v1/auth/token", data=form)).status_code == 200

    rotated = await client.post(
        f"/v1/integration-clients/{credentials['id']}/secret", headers=headers
    )
    assert rotated.status_code == 200
    assert (await client.post("/v1/auth/token", data=form)).status_code == 401
    form["client_secret"] = rotated.json()["client_secret"]
    assert (await client.post("/v1/auth/token", data=form)).status_code == 200

    disabled = await client.patch(
        f"/v1/integration-clients/{credentials['id']}", json={"is_active": False}, headers=headers
    )
    assert disabled.json()["is_active"] is False
    assert (await client.post("/v1/auth/token", data=form)).status_code == 401


async def test_a_client_is_scoped_to_exactly_one_school_or_trust(client, world):
    both = {
        "name": "x",
        "scopes": ["roster:read"],
        "school_id": str(world.schools["A1"].id),
        "trust_id": str(world.trusts["A"].id),
    }
    response = await client.post(
        "/v1/integration-clients", json=both, headers=world.headers("trust_admin")
    )
    assert response.status_code == 422
    unknown_scope = {
        "name": "x",
        "scopes": ["everything"],
        "school_id": str(world.schools["A1"].id),
    }
    response = await client.post(
        "/v1/integration-clients", json=unknown_scope, headers=world.headers("trust_admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.scopes.0"


async def test_the_audit_trail_is_read_within_reach(client, world):
    await client.patch(
        f"/v1/schools/{world.schools['A2'].id}",
        json={"name": "A2 renamed"},
        headers=world.headers("other_school_leader"),
    )
    await client.patch(
        f"/v1/schools/{world.schools['A1'].id}",
        json={"name": "A1 renamed"},
        headers=world.headers("school_leader"),
    )
    own = await client.get("/v1/audit-events", headers=world.headers("school_leader"))
    assert [e["after"]["name"] for e in own.json()["items"]] == ["A1 renamed"]
    trust = await client.get(
        "/v1/audit-events", params={"entity_type": "school"}, headers=world.headers("trust_admin")
    )
    assert {e["after"]["name"] for e in trust.json()["items"]} == {"A1 renamed", "A2 renamed"}
    assert (
        await client.get("/v1/audit-events", headers=world.headers("teacher"))
    ).status_code == 403
