"""Pupils, enrolments, classes and groups one at a time: keys, history, delta reads, a
teacher's reach through their classes, and erasure."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from app.db.audit import AuditEvent
from app.domain.calendar import AcademicYear
from app.domain.pupils import make_upn

THIS_YEAR = AcademicYear.containing(date.today()).start_year


def new_pupil(i: int, **changes: Any) -> dict[str, Any]:
    return {
        "external_id": f"P{i}",
        "upn": make_upn(f"80120002{i:04d}"),
        "legal_forename": f"Ada{i}",
        "legal_surname": "Lovelace",
        "date_of_birth": "2015-12-10",
        **changes,
    }


async def add_pupil(client, world, i: int, **changes: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/v1/schools/{world.schools['A1'].id}/pupils",
        json=new_pupil(i, **changes),
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_leader_adds_and_edits_a_pupil(client, world):
    pupil = await add_pupil(client, world, 1, upn=make_upn("80120002999A"))
    assert pupil["upn_temporary"] is True
    changed = await client.patch(
        f"/v1/pupils/{pupil['id']}",
        json={"preferred_forename": "Addie", "sen_status": "K", "fsm": True},
        headers=world.headers("school_leader"),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["preferred_forename"], changed.json()["sen_status"]) == ("Addie", "K")


async def test_keys_are_unique_within_a_school(client, world):
    await add_pupil(client, world, 1)
    again = await client.post(
        f"/v1/schools/{world.schools['A1'].id}/pupils",
        json=new_pupil(2, external_id="P1"),
        headers=world.headers("school_leader"),
    )
    assert again.status_code == 409
    elsewhere = await client.post(
        f"/v1/schools/{world.schools['B1'].id}/pupils",
        json=new_pupil(1),
        headers=world.headers("other_trust_admin"),
    )
    assert elsewhere.status_code == 201, elsewhere.text


async def test_bad_pupil_input_names_the_field(client, world):
    url = f"/v1/schools/{world.schools['A1'].id}/pupils"
    headers = world.headers("school_leader")
    cases = {
        "upn": new_pupil(1, upn="A801200020001"),
        "date_of_birth": new_pupil(1, date_of_birth="2015-02-30"),
        "sen_status": new_pupil(1, sen_status="X"),
        "ethnicity": new_pupil(1, ethnicity="white"),
    }
    for field, body in cases.items():
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == f"body.{field}"
    keyless = new_pupil(1, external_id=None, upn=None)
    assert (await client.post(url, json=keyless, headers=headers)).status_code == 422


async def test_a_new_academic_year_keeps_the_last_one(client, world):
    pupil = await add_pupil(client, world, 1)
    headers = world.headers("school_leader")
    url = f"/v1/pupils/{pupil['id']}/enrolments"
    first = await client.put(f"{url}/2025", json={"year_group": "4"}, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.put(f"{url}/2026", json={"year_group": "5"}, headers=headers)
    assert second.status_code == 201
    again = await client.put(f"{url}/2026", json={"year_group": "5"}, headers=headers)
    assert again.status_code == 200
    shown = await client.get(f"/v1/pupils/{pupil['id']}", headers=headers)
    years = [(e["academic_year"], e["year_group"]) for e in shown.json()["enrolments"]]
    assert years == [(2025, "4"), (2026, "5")]
    unknown = await client.put(f"{url}/2026", json={"year_group": "14"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.year_group"


async def test_a_listed_pupil_reads_exactly_as_the_pupil_read_alone(client, world):
    """The list writes stored rows straight to JSON (no response model): each item must be
    what the pupil's own read, through PupilRead, answers, to the byte of every value."""
    headers = world.headers("school_leader")
    pupil = await add_pupil(
        client, world, 1, sex="F", sen_status="K", fsm=True, preferred_forename="Addie"
    )
    await add_pupil(client, world, 2)
    await client.put(
        f"/v1/pupils/{pupil['id']}/enrolments/{THIS_YEAR}",
        json={"year_group": "R"},
        headers=headers,
    )
    listed = await client.get(f"/v1/schools/{world.schools['A1'].id}/pupils", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"] == "application/json"
    items = {item["id"]: item for item in listed.json()["items"]}
    assert len(items) == 2
    for pupil_id, item in items.items():
        alone = await client.get(f"/v1/pupils/{pupil_id}", headers=headers)
        assert item == alone.json()
    assert items[pupil["id"]]["enrolments"][0]["year_group"] == "R"


async def test_delta_reads_page_with_cursors_and_updated_since(client, world):
    headers = world.headers("school_leader")
    for i in range(5):
        await add_pupil(client, world, i)
    url = f"/v1/schools/{world.schools['A1'].id}/pupils"
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=headers)).json()
        seen += [p["external_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"P{i}" for i in range(5)]
    last = page["items"][-1]["updated_at"]
    newer = await client.get(url, params={"updated_since": last}, headers=headers)
    assert [p["external_id"] for p in newer.json()["items"]] == [seen[-1]]
    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 422


async def test_teacher_sees_only_the_pupils_of_their_classes(client, world):
    taught = await add_pupil(client, world, 1)
    other = await add_pupil(client, world, 2)
    made = await client.post(
        f"/v1/schools/{world.schools['A1'].id}/classes",
        json={
            "code": "5B",
            "name": "Year 5 Beech",
            "academic_year": THIS_YEAR,
            "teacher_ids": [str(world.users["teacher"].id)],
            "pupil_ids": [taught["id"]],
        },
        headers=world.headers("school_leader"),
    )
    assert made.status_code == 201, made.text
    teacher = world.headers("teacher")
    listed = await client.get(f"/v1/schools/{world.schools['A1'].id}/pupils", headers=teacher)
    assert [p["id"] for p in listed.json()["items"]] == [taught["id"]]
    assert (await client.get(f"/v1/pupils/{other['id']}", headers=teacher)).status_code == 404
    assert (await client.get(f"/v1/pupils/{taught['id']}", headers=teacher)).status_code == 200
    governor = world.headers("governor")
    assert (await client.get(f"/v1/pupils/{taught['id']}", headers=governor)).status_code == 404


async def test_class_teachers_must_teach_at_the_school(client, world):
    response = await client.post(
        f"/v1/schools/{world.schools['A1'].id}/classes",
        json={
            "code": "5B",
            "name": "Year 5 Beech",
            "academic_year": THIS_YEAR,
            "teacher_ids": [str(world.users["governor"].id)],
        },
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.teacher_ids.0"


async def test_custom_groups_hold_pupils(client, world):
    pupil = await add_pupil(client, world, 1)
    headers = world.headers("school_leader")
    url = f"/v1/schools/{world.schools['A1'].id}/groups"
    made = await client.post(
        url, json={"name": "Summer born", "pupil_ids": [pupil["id"]]}, headers=headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["pupil_ids"] == [pupil["id"]]
    twin = await client.post(url, json={"name": "Summer born"}, headers=headers)
    assert twin.status_code == 409
    filtered = await client.get(
        f"/v1/schools/{world.schools['A1'].id}/pupils",
        params={"group_id": made.json()["id"]},
        headers=headers,
    )
    assert [p["id"] for p in filtered.json()["items"]] == [pupil["id"]]
    emptied = await client.patch(
        f"/v1/groups/{made.json()['id']}", json={"pupil_ids": []}, headers=headers
    )
    assert emptied.json()["pupil_ids"] == []


async def test_erasure_removes_the_pupil_and_their_personal_data_from_the_audit(
    client, world, session
):
    pupil = await add_pupil(client, world, 1)
    await client.put(
        f"/v1/pupils/{pupil['id']}/enrolments/2025",
        json={"year_group": "4"},
        headers=world.headers("school_leader"),
    )
    integration = await client.delete(
        f"/v1/pupils/{pupil['id']}", headers=world.headers("integration")
    )
    assert integration.status_code == 403  # roster:write syncs; it never erases
    erased = await client.delete(
        f"/v1/pupils/{pupil['id']}", headers=world.headers("school_leader")
    )
    assert erased.status_code == 204
    gone = await client.get(f"/v1/pupils/{pupil['id']}", headers=world.headers("school_leader"))
    assert gone.status_code == 404
    await session.rollback()
    events = (
        await session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_id == uuid.UUID(pupil["id"]))
            .order_by(AuditEvent.occurred_at)
        )
    ).all()
    assert [e.action for e in events] == ["create", "delete"]
    assert all("Ada1" not in str(e.before) + str(e.after) for e in events)


async def test_names_are_stored_nfc_and_control_or_bidi_characters_are_refused(client, world):
    stored = await add_pupil(
        client, world, 1, legal_forename="Zoe\u0308", legal_surname="Le\u0301a"
    )
    assert (stored["legal_forename"], stored["legal_surname"]) == ("Zo\u00eb", "L\u00e9a")
    url = f"/v1/schools/{world.schools['A1'].id}/pupils"
    headers = world.headers("school_leader")
    cases = {
        "legal_forename": new_pupil(2, legal_forename="Amy\u202eecila"),
        "legal_surname": new_pupil(2, legal_surname="Smith\x00"),
        "preferred_forename": new_pupil(2, preferred_forename="Amy\nSmith"),
    }
    for field, body in cases.items():
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == f"body.{field}", response.text
    renamed = await client.patch(
        f"/v1/pupils/{stored['id']}",
        json={"preferred_surname": "Le\u0301a\u2066"},
        headers=headers,
    )
    assert renamed.status_code == 422, renamed.text
    assert renamed.json()["errors"][0]["field"] == "body.preferred_surname"


async def test_a_date_of_birth_in_the_future_is_refused(client, world):
    url = f"/v1/schools/{world.schools['A1'].id}/pupils"
    headers = world.headers("school_leader")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = await client.post(url, json=new_pupil(1, date_of_birth=tomorrow), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.date_of_birth"
    pupil = await add_pupil(client, world, 2)
    changed = await client.patch(
        f"/v1/pupils/{pupil['id']}", json={"date_of_birth": tomorrow}, headers=headers
    )
    assert changed.status_code == 422, changed.text
    assert changed.json()["errors"][0]["field"] == "body.date_of_birth"
