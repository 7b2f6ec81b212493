"""Subject access: a leader exports everything held about one pupil as one JSON document
(judgements and values with their history, enrolments, classes, working years, audit events);
every export is audited, and only leaders and trust admins may export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.db.curriculum import Measure
from tests.support.markbook import Markbook, build_markbook


@pytest.fixture
async def mb(session, client, world) -> Markbook:
    return await build_markbook(session, client, world)


async def _score_measure(session, world) -> Measure:  # type: ignore[no-untyped-def]
    measure = Measure(
        name="Reading age score",
        code="RAS",
        kind="number",
        minimum=Decimal(69),
        maximum=Decimal(141),
        decimals=0,
        school_id=world.schools["A1"].id,
    )
    session.add(measure)
    await session.commit()
    return measure


async def test_the_export_holds_everything_written_through_the_api_with_its_history(
    client, world, mb, session
):
    pupil = mb.pupils[0]
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    for descriptor, note in (("D", "First go"), ("S", "Secure now")):
        cell = mb.cell(0, 0, descriptor, note=note)
        written = await client.post(mb.url, json={"cells": [cell]}, headers=teacher)
        assert written.status_code == 200, written.text
    years = await client.post(
        f"/v1/schools/{mb.school_id}/working-years",
        json={
            "rows": [
                {"pupil_id": str(pupil.id), "subject_id": mb.subject_id, "curriculum_year": "Y3"}
            ]
        },
        headers=teacher,
    )
    assert years.status_code == 200, years.text
    measure = await _score_measure(session, world)
    for score in (104, 110):
        body = {
            "assessment_point_id": str(world.points["A1"].id),
            "values": [{"pupil_id": str(pupil.id), "measure_id": str(measure.id), "value": score}],
        }
        stored = await client.post(f"/v1/schools/{mb.school_id}/values", json=body, headers=leader)
        assert stored.status_code == 200, stored.text
    enrolled = await client.put(
        f"/v1/pupils/{pupil.id}/enrolments/2024", json={"year_group": "3"}, headers=leader
    )
    assert enrolled.status_code == 201, enrolled.text

    response = await client.get(f"/v1/pupils/{pupil.id}/subject-access", headers=leader)
    assert response.status_code == 200, response.text
    export = response.json()
    assert (export["pupil"]["id"], export["pupil"]["upn"]) == (str(pupil.id), pupil.upn)
    assert export["pupil"]["external_id"] == pupil.external_id
    assert export["school"]["id"] == str(mb.school_id)
    enrolments = [(e["academic_year"], e["year_group"]) for e in export["pupil"]["enrolments"]]
    assert enrolments[0] == (2024, "3") and len(enrolments) == 2
    assert [c["code"] for c in export["classes"]] == ["4M"]
    assert [
        (j["descriptor_code"], j["note"], j["recorded_by"], j["assessed_on"])
        for j in export["judgements"]
    ] == [
        ("D", "First go", str(world.users["teacher"].id), date.today().isoformat()),
        ("S", "Secure now", str(world.users["teacher"].id), date.today().isoformat()),
    ]
    assert [(v["code"], v["value"]) for v in export["values"]] == [("RAS", 110)]
    assert [(Decimal(v["number"]), v["recorded_by"]) for v in export["value_history"]] == [
        (Decimal(104), str(world.users["school_leader"].id)),
        (Decimal(110), str(world.users["school_leader"].id)),
    ]
    assert [(w["curriculum_year"], w["set_by"]) for w in export["working_years"]] == [
        ("3", str(world.users["teacher"].id))
    ]
    assert ("enrolment", "create") in {
        (e["entity_type"], e["action"]) for e in export["audit_events"]
    }

    # The export itself is audited: who exported whom, and nothing of the pupil but the id.
    events = await client.get(
        "/v1/audit-events",
        params={"entity_type": "pupil", "entity_id": str(pupil.id)},
        headers=leader,
    )
    [event] = [e for e in events.json()["items"] if e["action"] == "export"]
    assert event["actor_id"] == str(world.users["school_leader"].id)
    assert (event["before"], event["after"]) == (None, {"id": str(pupil.id)})


async def test_only_leaders_and_trust_admins_export_and_others_who_see_the_pupil_are_forbidden(
    client, world, mb
):
    url = f"/v1/pupils/{mb.pupils[0].id}/subject-access"
    expected = {
        "school_leader": 200,
        "trust_admin": 200,
        "teacher": 403,  # teaches the pupil
        "trust_analyst": 403,
        "integration": 403,
        "governor": 404,  # sees no pupils
        "other_school_leader": 404,
        "other_trust_admin": 404,
    }
    got = {who: (await client.get(url, headers=world.headers(who))).status_code for who in expected}
    assert got == expected
    untaught = await client.get(
        f"/v1/pupils/{mb.other_pupil.id}/subject-access", headers=world.headers("teacher")
    )
    assert untaught.status_code == 404
