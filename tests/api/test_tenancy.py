"""Trusts, schools, assessment points and academic years through the REST API."""

from __future__ import annotations

import sqlalchemy as sa

from app.db.audit import AuditEvent
from app.db.tenancy import School


async def test_system_admin_opens_a_trust_and_its_admin_adds_schools(client, world):
    created = await client.post(
        "/v1/trusts", json={"name": "Northern Lights Trust"}, headers=world.headers("system_admin")
    )
    assert created.status_code == 201, created.text
    trust = created.json()
    assert created.headers["Location"] == f"/v1/trusts/{trust['id']}"

    school = await client.post(
        "/v1/schools",
        json={
            "name": "Aurora Primary",
            "urn": "123456",
            "phase": "primary",
            "trust_id": trust["id"],
        },
        headers=world.headers("system_admin"),
    )
    assert school.status_code == 201, school.text
    assert school.json()["trust_id"] == trust["id"]

    listed = await client.get(
        "/v1/schools", params={"trust_id": trust["id"]}, headers=world.headers("system_admin")
    )
    assert [s["urn"] for s in listed.json()["items"]] == ["123456"]


async def test_trust_admin_adds_a_school_to_own_trust_only(client, world):
    own = {
        "name": "New A",
        "urn": "200001",
        "phase": "primary",
        "trust_id": str(world.trusts["A"].id),
    }
    response = await client.post("/v1/schools", json=own, headers=world.headers("trust_admin"))
    assert response.status_code == 201, response.text

    other = {**own, "urn": "200002", "trust_id": str(world.trusts["B"].id)}
    response = await client.post("/v1/schools", json=other, headers=world.headers("trust_admin"))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.trust_id", "reason": "no such trust"}]

    standalone = {**own, "urn": "200003", "trust_id": None}
    response = await client.post(
        "/v1/schools", json=standalone, headers=world.headers("trust_admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.trust_id"


async def test_a_urn_is_registered_once(client, world, session):
    body = {
        "name": "Copy",
        "urn": world.schools["A1"].urn,
        "phase": "primary",
        "trust_id": str(world.trusts["A"].id),
    }
    response = await client.post("/v1/schools", json=body, headers=world.headers("system_admin"))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/conflict"
    count = await session.scalar(sa.select(sa.func.count()).select_from(School))
    assert count == 3


async def test_urn_must_be_six_digits(client, world):
    body = {
        "name": "Bad",
        "urn": "12345",
        "phase": "primary",
        "trust_id": str(world.trusts["A"].id),
    }
    response = await client.post("/v1/schools", json=body, headers=world.headers("system_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.urn"


async def test_leader_renames_own_school_and_the_audit_keeps_before_and_after(
    client, world, session
):
    school_id = world.schools["A1"].id
    response = await client.patch(
        f"/v1/schools/{school_id}", json={"name": "Renamed"}, headers=world.headers("school_leader")
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"

    event = (
        await session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_id == school_id))
    ).one()
    assert (event.action, event.actor_id) == ("update", world.users["school_leader"].id)
    assert event.before["name"] == "School A1" and event.after["name"] == "Renamed"
    assert event.school_id == school_id and event.trust_id == world.trusts["A"].id
    assert event.request_id == response.headers["X-Request-ID"]


async def test_an_update_that_changes_nothing_writes_no_audit(client, world, session):
    school = world.schools["A1"]
    response = await client.patch(
        f"/v1/schools/{school.id}",
        json={"name": school.name},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 200
    assert await session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


async def test_only_a_system_admin_moves_a_school_between_trusts(client, world):
    school_id = world.schools["A1"].id
    move = {"trust_id": str(world.trusts["B"].id)}
    response = await client.patch(
        f"/v1/schools/{school_id}", json=move, headers=world.headers("trust_admin")
    )
    assert response.status_code == 403
    response = await client.patch(
        f"/v1/schools/{school_id}", json=move, headers=world.headers("system_admin")
    )
    assert response.status_code == 200
    assert response.json()["trust_id"] == str(world.trusts["B"].id)


async def test_schools_page_with_cursors_and_updated_since(client, world):
    headers = world.headers("system_admin")
    first = await client.get("/v1/schools", params={"limit": 2}, headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    second = (
        await client.get(
            "/v1/schools", params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers
        )
    ).json()
    assert "items" in second, second
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ids = {s["id"] for s in page["items"] + second["items"]}
    assert ids == {str(s.id) for s in world.schools.values()}

    latest = max(s["updated_at"] for s in page["items"] + second["items"])
    since = (
        await client.get("/v1/schools", params={"updated_since": latest}, headers=headers)
    ).json()
    assert [s["updated_at"] for s in since["items"]] == [latest]


async def test_a_forged_cursor_is_a_clear_422(client, world):
    response = await client.get(
        "/v1/schools", params={"cursor": "not-a-cursor"}, headers=world.headers("system_admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "query.cursor", "reason": "not a cursor this list issued"}
    ]


async def test_default_calendar_is_created_once(client, world):
    school_id = world.schools["A1"].id
    url = f"/v1/schools/{school_id}/assessment-points/default-calendar"
    headers = world.headers("school_leader")
    first = await client.post(url, json={"academic_year": 2026}, headers=headers)
    assert first.status_code == 200, first.text
    assert [(p["code"], p["academic_year_label"]) for p in first.json()] == [
        ("AUT", "2026/27"),
        ("SPR", "2026/27"),
        ("SUM", "2026/27"),
    ]
    again = await client.post(url, json={"academic_year": 2026}, headers=headers)
    assert [p["id"] for p in again.json()] == [p["id"] for p in first.json()]

    listed = await client.get(
        f"/v1/schools/{school_id}/assessment-points",
        params={"academic_year": 2026},
        headers=headers,
    )
    assert len(listed.json()["items"]) == 3


async def test_assessment_points_are_dated_within_their_year_and_coded_once(client, world):
    school_id = world.schools["A1"].id
    url = f"/v1/schools/{school_id}/assessment-points"
    headers = world.headers("school_leader")
    outside = {
        "academic_year": 2025,
        "code": "MOCK",
        "name": "Mock",
        "position": 2,
        "assessed_on": "2026-09-01",
    }
    response = await client.post(url, json=outside, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.assessed_on"

    inside = {**outside, "assessed_on": "2026-02-01"}
    response = await client.post(url, json=inside, headers=headers)
    assert response.status_code == 201, response.text
    point = response.json()

    duplicate = await client.post(url, json={**inside, "position": 3}, headers=headers)
    assert duplicate.status_code == 409

    renamed = await client.patch(
        f"/v1/assessment-points/{point['id']}", json={"name": "February mocks"}, headers=headers
    )
    assert renamed.json()["name"] == "February mocks"
    clash = await client.patch(
        f"/v1/assessment-points/{point['id']}", json={"code": "AUT"}, headers=headers
    )
    assert clash.status_code == 409


async def test_academic_years(client, world):
    headers = world.headers("teacher")
    year = await client.get("/v1/academic-years/2025", headers=headers)
    assert year.json() == {
        "start_year": 2025,
        "label": "2025/26",
        "starts_on": "2025-09-01",
        "ends_on": "2026-08-31",
    }
    current = await client.get(
        "/v1/academic-years/current", params={"on": "2026-08-31"}, headers=headers
    )
    assert current.json()["label"] == "2025/26"
    assert (await client.get("/v1/academic-years/2025")).status_code == 401
