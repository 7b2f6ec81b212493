"""A pupil's page and their targets through the REST API: what a pupil and their parents read
(strengths, next steps, targets, in words), who may set targets, bad targets refused with
nothing stored, targets achieved by a secure judgement, and a sign-in finding its pupils.

Judgements are put straight into the database (tests/support/pupil_record.py)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.tokens import TokenSubject
from app.db.audit import AuditEvent
from app.db.base import utcnow
from app.db.markbook import MeasureValue, WorkingYear
from app.db.roster import ClassPupil
from app.db.targets import PupilTarget
from tests.support.definitions import add_definitions
from tests.support.pupil_record import D2, Scene, add_scene, self_user
from tests.support.roster import this_year
from tests.support.world import World


@pytest.fixture
async def scene(session: AsyncSession, world: World) -> Scene:
    return await add_scene(session, world)


def _page(pupil_id: uuid.UUID) -> str:
    return f"/v1/pupils/{pupil_id}/page"


def _targets(pupil_id: uuid.UUID) -> str:
    return f"/v1/pupils/{pupil_id}/targets"


async def _stored_targets(session: AsyncSession) -> int:
    await session.rollback()  # end the test's read snapshot: see what the requests stored
    return (await session.execute(sa.select(sa.func.count()).select_from(PupilTarget))).scalar_one()


def _codes(items: list[dict]) -> list[str]:
    return [item["code"] for item in items]


# --- The page -----------------------------------------------------------------------------
async def test_the_page_sorts_the_working_curriculum_into_strengths_and_what_is_not_judged(
    client, world, scene
):
    response = await client.get(
        _page(scene.taught.id),
        params={"academic_year": this_year()},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["pupil"]["forename"] == "Tilly"
    [maths] = page["subjects"]
    assert (maths["subject"], maths["curriculum_year"]) == ("Mathematics", "Year 4")
    n1 = scene.defs.objectives[0]
    # MA4-N1 stands at GDS: a strength, by its label; MA4-N2 was cleared: not yet judged.
    assert maths["strengths"] == [
        {
            "objective_id": str(n1.id),
            "code": "MA4-N1",
            "statement": n1.statement,
            "is_key": False,
            "judged": "Greater depth",
            "judged_on": maths["strengths"][0]["judged_on"],
        }
    ]
    assert maths["next_steps"] == []
    assert _codes(maths["not_yet_judged"]) == ["MA4-N2"]
    assert maths["not_yet_judged"][0]["judged"] is None
    # No descriptor codes or numbers: labels only.
    assert "GDS" not in response.text and "depth_score" not in response.text


async def test_a_judgement_not_yet_secure_is_a_next_step(client, world, scene):
    page = (
        await client.get(_page(scene.untaught.id), headers=world.headers("school_leader"))
    ).json()
    [maths] = page["subjects"]
    assert _codes(maths["next_steps"]) == ["MA4-N1"]
    assert maths["next_steps"][0]["judged"] == "Working towards"
    assert _codes(maths["not_yet_judged"]) == ["MA4-N2"] and maths["strengths"] == []


async def test_a_pupil_working_within_an_earlier_year_sees_that_curriculum_only(
    client, world, scene, session
):
    session.add(
        WorkingYear(
            pupil_id=scene.taught.id,
            subject_id=scene.defs.subject.id,
            academic_year=this_year(),
            school_id=world.schools["A1"].id,
            curriculum_year=3,
            set_at=utcnow(),
            set_by=world.users["teacher"].id,
            version=99,
        )
    )
    await session.commit()
    headers = await self_user(client, world, "pupil", scene.taught.id)
    response = await client.get(_page(scene.taught.id), headers=headers)
    assert response.status_code == 200, response.text
    [maths] = response.json()["subjects"]
    # Year 4's objectives are not theirs: nothing from them, and no word of "below".
    assert maths["curriculum_year"] == "Year 3"
    assert maths["strengths"] == maths["next_steps"] == maths["not_yet_judged"] == []
    assert "below" not in response.text.lower()


@pytest.mark.parametrize("role", ["pupil", "parent"])
async def test_a_pupil_or_parent_opens_their_own_page_and_no_other(client, world, scene, role):
    headers = await self_user(client, world, role, scene.taught.id)
    assert (await client.get(_page(scene.taught.id), headers=headers)).status_code == 200
    for other in (scene.untaught.id, scene.elsewhere.id, uuid.uuid4()):
        refused = await client.get(_page(other), headers=headers)
        assert refused.status_code == 404
        assert refused.json()["detail"] == "pupil not found"


async def test_a_teacher_opens_the_pages_of_the_pupils_they_teach_only(client, world, scene):
    headers = world.headers("teacher")
    assert (await client.get(_page(scene.taught.id), headers=headers)).status_code == 200
    assert (await client.get(_page(scene.untaught.id), headers=headers)).status_code == 404
    for name in ("governor", "other_school_leader", "integration_roster_read"):
        response = await client.get(_page(scene.taught.id), headers=world.headers(name))
        assert response.status_code == 404, name


async def test_an_academic_year_out_of_range_is_refused_naming_it(client, world, scene):
    response = await client.get(
        _page(scene.taught.id),
        params={"academic_year": 1999},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.academic_year"


# --- Targets ------------------------------------------------------------------------------
async def test_a_teacher_sets_a_target_the_pupil_and_parent_read_on_the_page(
    client, world, scene, session
):
    n2 = scene.defs.objectives[1]
    point = world.points["A1"]
    response = await client.post(
        _targets(scene.taught.id),
        json={
            "objective_id": str(n2.id),
            "text": "Add and take away 1000 in my head",
            "due_point_id": str(point.id),
        },
        headers=world.headers("teacher"),
    )
    assert response.status_code == 201, response.text
    target = response.json()
    assert response.headers["location"] == f"/v1/targets/{target['id']}"
    assert target["status"] == "open" and target["closed_on"] is None
    assert (target["objective_code"], target["statement"]) == ("MA4-N2", n2.statement)
    assert target["subject_id"] == str(scene.defs.subject.id)
    assert target["due_point_name"] == point.name
    for role in ("pupil", "parent"):
        headers = await self_user(client, world, role, scene.taught.id)
        [maths] = (await client.get(_page(scene.taught.id), headers=headers)).json()["subjects"]
        assert [t["id"] for t in maths["targets"]] == [target["id"]]
        listed = (await client.get(_targets(scene.taught.id), headers=headers)).json()
        assert [t["id"] for t in listed] == [target["id"]]
        # They read targets; they may not set or change them.
        refused = await client.post(
            _targets(scene.taught.id), json={"text": "Play more"}, headers=headers
        )
        assert refused.status_code == 403
        refused = await client.patch(
            f"/v1/targets/{target['id']}", json={"status": "closed"}, headers=headers
        )
        assert refused.status_code == 403
    assert await _stored_targets(session) == 1
    events = await session.scalars(
        sa.select(AuditEvent).where(col(AuditEvent.entity_type) == "pupil_target")
    )
    [created] = list(events)
    assert created.action == "create" and created.after["text"] == target["text"]


async def test_targets_for_pupils_out_of_reach_are_not_found(client, world, scene, session):
    teacher = world.headers("teacher")
    for pupil_id in (scene.untaught.id, scene.elsewhere.id, uuid.uuid4()):
        response = await client.post(_targets(pupil_id), json={"text": "Read"}, headers=teacher)
        assert response.status_code == 404, pupil_id
    response = await client.post(
        _targets(scene.taught.id), json={"text": "Read"}, headers=world.headers("governor")
    )
    assert response.status_code == 404
    assert await _stored_targets(session) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.text"),
        ({"text": "   "}, "body.text"),
        ({"text": "x" * 501}, "body.text"),
        ({"text": "Read\nmore"}, "body.text"),
        ({"text": "Read \u202emore"}, "body.text"),
        ({"objective_id": "OTHER_SCHOOL"}, "body.objective_id"),
        ({"objective_id": str(uuid.uuid4())}, "body.objective_id"),
        ({"text": "Read", "due_point_id": "OTHER_POINT"}, "body.due_point_id"),
        ({"text": "Read", "subject_id": "OTHER_SUBJECT"}, "body.subject_id"),
        ({"objective_id": "N1", "subject_id": "OTHER_SUBJECT"}, "body.objective_id"),
    ],
)
async def test_a_bad_target_is_refused_naming_the_field_and_nothing_is_stored(
    client, world, scene, session, body, field
):
    other = await add_definitions(session, school_id=world.schools["A2"].id)
    await session.commit()
    names = {
        "OTHER_SCHOOL": str(other.objectives[0].id),
        "OTHER_POINT": str(world.points["A2"].id),
        "OTHER_SUBJECT": str(other.subject.id),
        "N1": str(scene.defs.objectives[0].id),
    }
    sent = {key: names.get(value, value) for key, value in body.items()}
    response = await client.post(
        _targets(scene.taught.id), json=sent, headers=world.headers("school_leader")
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await _stored_targets(session) == 0


async def test_a_target_on_an_objective_is_achieved_when_it_is_judged_secure(
    client, world, scene, session
):
    n2 = scene.defs.objectives[1]
    teacher = world.headers("teacher")
    on_objective = (
        await client.post(
            _targets(scene.taught.id), json={"objective_id": str(n2.id)}, headers=teacher
        )
    ).json()
    in_words = (
        await client.post(_targets(scene.taught.id), json={"text": "Read daily"}, headers=teacher)
    ).json()
    school_id = world.schools["A1"].id

    async def judge(code: str) -> None:
        response = await client.post(
            f"/v1/schools/{school_id}/markbook",
            json={
                "assessed_on": D2.isoformat(),
                "cells": [
                    {
                        "pupil_id": str(scene.taught.id),
                        "objective_id": str(n2.id),
                        "descriptor": code,
                    }
                ],
            },
            headers=teacher,
        )
        assert response.status_code == 200, response.text

    await judge("WT")  # not secure: still open
    assert (await client.get(f"/v1/targets/{on_objective['id']}", headers=teacher)).json()[
        "status"
    ] == "open"
    await judge("EXS")
    achieved = (await client.get(f"/v1/targets/{on_objective['id']}", headers=teacher)).json()
    assert (achieved["status"], achieved["closed_on"]) == ("achieved", D2.isoformat())
    assert achieved["closed_by"] == str(world.users["teacher"].id)
    unchanged = (await client.get(f"/v1/targets/{in_words['id']}", headers=teacher)).json()
    assert unchanged["status"] == "open"
    # The page lists it among those achieved this year, and no longer as open.
    [maths] = (await client.get(_page(scene.taught.id), headers=teacher)).json()["subjects"]
    assert [t["id"] for t in maths["achieved"]] == [on_objective["id"]]
    assert maths["targets"] == []
    session.expire_all()
    events = await session.scalars(
        sa.select(AuditEvent).where(col(AuditEvent.entity_type) == "objective_judgements")
    )
    summaries = [e.after for e in events]
    assert [s.get("targets_achieved") for s in summaries].count([on_objective["id"]]) == 1


async def test_a_target_is_changed_closed_and_opened_again_with_each_change_audited(
    client, world, scene, session
):
    leader = world.headers("school_leader")
    target = (
        await client.post(_targets(scene.taught.id), json={"text": "Read daily"}, headers=leader)
    ).json()
    url = f"/v1/targets/{target['id']}"
    changed = await client.patch(url, json={"text": "Read every day"}, headers=leader)
    assert changed.status_code == 200 and changed.json()["text"] == "Read every day"
    closed = (await client.patch(url, json={"status": "closed"}, headers=leader)).json()
    assert (closed["status"], closed["closed_on"]) == ("closed", date.today().isoformat())
    reopened = (await client.patch(url, json={"status": "open"}, headers=leader)).json()
    assert (reopened["status"], reopened["closed_on"], reopened["closed_by"]) == (
        "open",
        None,
        None,
    )
    # Words only: they cannot be taken away, and nothing changes.
    refused = await client.patch(url, json={"text": None}, headers=leader)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.text"
    session.expire_all()
    events = list(
        await session.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.entity_id) == uuid.UUID(target["id"]))
            .order_by(col(AuditEvent.occurred_at))
        )
    )
    assert [e.action for e in events] == ["create", "update", "update", "update"]
    assert [e.after["status"] for e in events] == ["open", "open", "closed", "open"]
    assert (await client.get(url, headers=leader)).json()["text"] == "Read every day"


async def test_a_class_gets_the_same_target_in_one_request_all_or_nothing(
    client, world, scene, session
):
    class_id = (
        await session.execute(
            sa.select(ClassPupil.class_id).where(col(ClassPupil.pupil_id) == scene.taught.id)
        )
    ).scalar_one()
    teacher = world.headers("teacher")
    url = f"/v1/classes/{class_id}/targets"
    taught, untaught = str(scene.taught.id), str(scene.untaught.id)
    parent = await self_user(client, world, "parent", scene.taught.id)
    refused = await client.post(
        url,
        json={"text": "Times tables", "pupil_ids": [taught, untaught]},
        headers=teacher,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.pupil_ids.1"
    assert await _stored_targets(session) == 0
    made = await client.post(url, json={"text": "Times tables"}, headers=teacher)
    assert made.status_code == 201, made.text
    assert [t["pupil_id"] for t in made.json()["items"]] == [taught]
    assert (await client.post(url, json={"text": "x"}, headers=parent)).status_code == 404
    missing = await client.post(
        f"/v1/classes/{uuid.uuid4()}/targets", json={"text": "x"}, headers=teacher
    )
    assert missing.status_code == 404
    assert await _stored_targets(session) == 1


async def test_a_target_on_an_objective_already_secure_is_refused_and_nothing_is_stored(
    client, world, scene, session
):
    n1 = scene.defs.objectives[0]  # Tilly's stands at GDS: already secure
    teacher = world.headers("teacher")
    refused = await client.post(
        _targets(scene.taught.id), json={"objective_id": str(n1.id)}, headers=teacher
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "body.objective_id" and "already secure" in error["reason"]
    # The untaught pupil's N1 stands at WT: a next step, so a leader may set it there.
    leader = world.headers("school_leader")
    made = await client.post(
        _targets(scene.untaught.id), json={"objective_id": str(n1.id)}, headers=leader
    )
    assert made.status_code == 201, made.text
    class_id = (
        await session.execute(
            sa.select(ClassPupil.class_id).where(col(ClassPupil.pupil_id) == scene.taught.id)
        )
    ).scalar_one()
    url = f"/v1/classes/{class_id}/targets"
    whole = await client.post(url, json={"objective_id": str(n1.id)}, headers=teacher)
    assert whole.status_code == 422
    assert whole.json()["errors"][0]["field"] == "body.objective_id"
    named = await client.post(
        url,
        json={"objective_id": str(n1.id), "pupil_ids": [str(scene.taught.id)]},
        headers=teacher,
    )
    assert named.status_code == 422
    assert named.json()["errors"][0]["field"] == "body.pupil_ids.0"
    assert await _stored_targets(session) == 1


async def test_class_targets_retried_with_an_idempotency_key_are_set_once(
    client, world, scene, session
):
    class_id = (
        await session.execute(
            sa.select(ClassPupil.class_id).where(col(ClassPupil.pupil_id) == scene.taught.id)
        )
    ).scalar_one()
    url = f"/v1/classes/{class_id}/targets"
    headers = {**world.headers("teacher"), "Idempotency-Key": "class-targets-1"}
    first = await client.post(url, json={"text": "Times tables"}, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post(url, json={"text": "Times tables"}, headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post(url, json={"text": "Spellings"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.idempotency-key"
    bad = await client.post(
        url, json={"text": "Spellings"}, headers={**headers, "Idempotency-Key": "has space"}
    )
    assert bad.status_code == 422
    assert await _stored_targets(session) == 1


# --- Finding one's own pupils -------------------------------------------------------------
async def test_a_parent_of_two_children_finds_both_without_knowing_ids(client, world, scene):
    school = str(world.schools["A1"].id)
    response = await client.post(
        "/v1/users",
        json={
            "email": "two.children@family.example.org",
            "display_name": "A parent of two",
            "grants": [
                {"role": "parent", "school_id": school, "pupil_id": str(scene.taught.id)},
                {"role": "parent", "school_id": school, "pupil_id": str(scene.untaught.id)},
            ],
        },
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    token = world.issuer.issue(TokenSubject("user", uuid.UUID(response.json()["id"])))[0]
    headers = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/v1/me", headers=headers)).json()
    assert {g["pupil_id"] for g in me["roles"]} == {str(scene.taught.id), str(scene.untaught.id)}
    mine = (await client.get("/v1/me/pupils", headers=headers)).json()["items"]
    assert {p["id"] for p in mine} == {str(scene.taught.id), str(scene.untaught.id)}
    for pupil in mine:
        assert (await client.get(pupil["page"], headers=headers)).status_code == 200
        assert (await client.get(pupil["targets"], headers=headers)).status_code == 200
    # Staff reach pupils through their school: the list is theirs to ignore.
    staff = (await client.get("/v1/me/pupils", headers=world.headers("school_leader"))).json()
    assert staff["items"] == []


# --- On track: the school's attainment rule, in words --------------------------------------
async def _on_track_school(
    client, world, session, rule: dict, *, words: dict | None = None
) -> uuid.UUID:
    """A1 gets this year's summer point (its figures count every judgement so far), a
    template with ``rule`` for mathematics, and names it for the on-track line."""
    leader = world.headers("school_leader")
    school_id = str(world.schools["A1"].id)
    point = await client.post(
        f"/v1/schools/{school_id}/assessment-points",
        json={
            "code": "SUM",
            "name": "Summer",
            "position": 3,
            "academic_year": this_year(),
            "assessed_on": date(this_year() + 1, 7, 10).isoformat(),
        },
        headers=leader,
    )
    assert point.status_code == 201, point.text
    template = await client.post(
        "/v1/report-templates",
        json={
            "school_id": school_id,
            "code": "BAA",
            "name": "Below, at and above",
            "definition": {
                "metrics": ["attainment"],
                "dimensions": ["subject"],
                "points": [{"code": "SUM"}],
                "attainment": [{"subject": "MA", **rule}],
            },
        },
        headers=leader,
    )
    assert template.status_code == 201, template.text
    settings: dict = {"on_track_template": "BAA"}
    if words is not None:
        settings["on_track_words"] = words
    named = await client.patch(f"/v1/schools/{school_id}", json=settings, headers=leader)
    assert named.status_code == 200, named.text
    assert named.json()["on_track_template"] == "BAA"
    return uuid.UUID(point.json()["id"])


async def _line(client, pupil_id, headers) -> dict | None:
    response = await client.get(_page(pupil_id), headers=headers)
    assert response.status_code == 200, response.text
    [maths] = response.json()["subjects"]
    return maths["on_track"]


async def test_no_on_track_line_until_the_school_names_its_attainment_rule(client, world, scene):
    assert await _line(client, scene.taught.id, world.headers("school_leader")) is None


async def test_the_on_track_line_says_where_the_pupil_stands_by_percent_secured_in_words(
    client, world, scene, session
):
    # Tilly: 1 of her 2 Year 4 objectives secure (50%); the untaught pupil: none.
    await _on_track_school(client, world, session, {"secured": {"at": 40, "above": 90}})
    leader = world.headers("school_leader")
    assert await _line(client, scene.taught.id, leader) == {
        "words": "On track",
        "as_at": "Summer",
    }
    assert (await _line(client, scene.untaught.id, leader))["words"] == "Working towards"
    parent = await self_user(client, world, "parent", scene.taught.id)
    assert (await _line(client, scene.taught.id, parent))["words"] == "On track"


async def test_the_on_track_line_by_a_scale_measure_in_the_schools_own_words(
    client, world, scene, session
):
    point = await _on_track_school(client, world, session, {"measure": "MA-TA"})
    session.add(
        MeasureValue(
            pupil_id=scene.taught.id,
            measure_id=scene.scale_measure.id,
            assessment_point_id=point,
            school_id=world.schools["A1"].id,
            recorded_at=utcnow(),
            recorded_by=world.users["teacher"].id,
            descriptor_id=scene.by_code["GDS"].id,
            number=Decimal(3),
            curriculum_year=4,
        )
    )
    await session.commit()
    # Words changed later keep the rest as they are; the template stays named.
    school = f"/v1/schools/{world.schools['A1'].id}"
    leader = world.headers("school_leader")
    changed = await client.patch(
        school, json={"on_track_words": {"above": "Flying"}}, headers=leader
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["on_track_words"] == {"above": "Flying"}
    assert (await _line(client, scene.taught.id, leader))["words"] == "Flying"
    # No teacher assessment for the untaught pupil yet.
    assert (await _line(client, scene.untaught.id, leader))["words"] == "Not assessed yet"


async def test_a_pupil_working_within_an_earlier_year_is_never_told_below(
    client, world, scene, session
):
    session.add(
        WorkingYear(
            pupil_id=scene.untaught.id,
            subject_id=scene.defs.subject.id,
            academic_year=this_year(),
            school_id=world.schools["A1"].id,
            curriculum_year=3,
            set_at=utcnow(),
            set_by=world.users["school_leader"].id,
            version=99,
        )
    )
    await session.commit()
    await _on_track_school(client, world, session, {"secured": {"at": 40}})
    parent = await self_user(client, world, "parent", scene.untaught.id)
    response = await client.get(_page(scene.untaught.id), headers=parent)
    [maths] = response.json()["subjects"]
    assert maths["on_track"]["words"] == "Working on their own curriculum"
    assert "below" not in response.text.lower() and "towards" not in maths["on_track"]["words"]


async def test_a_school_shows_the_on_track_line_to_staff_only(client, world, scene, session):
    await _on_track_school(client, world, session, {"secured": {"at": 40}})
    leader = world.headers("school_leader")
    off = await client.patch(
        f"/v1/schools/{world.schools['A1'].id}",
        json={"on_track_for_pupils": False},
        headers=leader,
    )
    assert off.status_code == 200 and off.json()["on_track_for_pupils"] is False
    for role in ("pupil", "parent"):
        headers = await self_user(client, world, role, scene.taught.id)
        assert await _line(client, scene.taught.id, headers) is None, role
    for name in ("school_leader", "teacher"):
        assert (await _line(client, scene.taught.id, world.headers(name)))["words"] == "On track"
    # A teacher may not switch it back: the school's settings are its leaders'.
    refused = await client.patch(
        f"/v1/schools/{world.schools['A1'].id}",
        json={"on_track_for_pupils": True},
        headers=world.headers("teacher"),
    )
    assert refused.status_code in (403, 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on_track_template": "NOPE"}, "body.on_track_template"),
        ({"on_track_template": "NO-RULE"}, "body.on_track_template"),
        ({"on_track_template": ""}, "body.on_track_template"),
        ({"on_track_for_pupils": None}, "body.on_track_for_pupils"),
        ({"on_track_for_pupils": "no"}, "body.on_track_for_pupils"),
        ({"on_track_words": {"middling": "Fine"}}, "body.on_track_words.middling"),
        ({"on_track_words": {"at": "x" * 61}}, "body.on_track_words.at"),
        ({"on_track_words": {"at": "On\ttrack"}}, "body.on_track_words.at"),
        ({"on_track_words": {"at": "   "}}, "body.on_track_words.at"),
    ],
)
async def test_bad_on_track_settings_are_refused_naming_the_field_and_nothing_is_stored(
    client, world, scene, session, body, field
):
    leader = world.headers("school_leader")
    school_id = str(world.schools["A1"].id)
    made = await client.post(
        "/v1/report-templates",
        json={
            "school_id": school_id,
            "code": "NO-RULE",
            "name": "Pupils",
            "definition": {"metrics": ["pupils"], "dimensions": ["subject"], "points": ["start"]},
        },
        headers=leader,
    )
    assert made.status_code == 201, made.text
    response = await client.patch(f"/v1/schools/{school_id}", json=body, headers=leader)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    school = (await client.get(f"/v1/schools/{school_id}", headers=leader)).json()
    assert (
        school["on_track_template"],
        school["on_track_for_pupils"],
        school["on_track_words"],
    ) == (None, True, None)


# --- GraphQL: the same page under the same rule ---------------------------------------------
PAGE = """
query ($id: UUID!) {
  pupil(id: $id) {
    page { subjects { subject curriculumYear strengths { code judged } notYetJudged { code } } }
    targets { text status }
  }
}
"""


async def test_graphql_gives_a_parent_the_same_page_and_targets(client, world, scene):
    leader = world.headers("school_leader")
    made = await client.post(_targets(scene.taught.id), json={"text": "Read daily"}, headers=leader)
    assert made.status_code == 201
    parent = await self_user(client, world, "parent", scene.taught.id)
    rest = (await client.get(_page(scene.taught.id), headers=parent)).json()
    answer = await client.post(
        "/graphql", json={"query": PAGE, "variables": {"id": str(scene.taught.id)}}, headers=parent
    )
    body = answer.json()
    assert "errors" not in body, body
    pupil = body["data"]["pupil"]
    assert pupil["page"]["subjects"] == [
        {
            "subject": s["subject"],
            "curriculumYear": s["curriculum_year"],
            "strengths": [{"code": o["code"], "judged": o["judged"]} for o in s["strengths"]],
            "notYetJudged": [{"code": o["code"]} for o in s["not_yet_judged"]],
        }
        for s in rest["subjects"]
    ]
    assert pupil["targets"] == [{"text": "Read daily", "status": "OPEN"}]
    # Another pupil: null, as no such pupil.
    other = await client.post(
        "/graphql",
        json={"query": PAGE, "variables": {"id": str(scene.untaught.id)}},
        headers=parent,
    )
    assert other.json()["data"]["pupil"] is None


async def test_erasing_a_pupil_erases_their_targets_and_empties_their_audit(
    client, world, scene, session
):
    leader = world.headers("school_leader")
    pupil_id = scene.taught.id
    made = await client.post(_targets(pupil_id), json={"text": "Read daily"}, headers=leader)
    target_id = uuid.UUID(made.json()["id"])
    assert (await client.delete(f"/v1/pupils/{pupil_id}", headers=leader)).status_code == 204
    assert await _stored_targets(session) == 0
    [event] = list(
        await session.scalars(sa.select(AuditEvent).where(col(AuditEvent.entity_id) == target_id))
    )
    assert (event.before, event.after) == (None, None)


ON_TRACK = """
query ($id: UUID!) { pupil(id: $id) { page { subjects { subject onTrack { words asAt } } } } }
"""


async def test_graphql_gives_the_same_on_track_line_under_the_same_switch(
    client, world, scene, session
):
    await _on_track_school(client, world, session, {"secured": {"at": 40, "above": 90}})
    parent = await self_user(client, world, "parent", scene.taught.id)

    async def both(headers: dict) -> tuple[dict | None, dict | None]:
        rest = await _line(client, scene.taught.id, headers)
        answer = await client.post(
            "/graphql",
            json={"query": ON_TRACK, "variables": {"id": str(scene.taught.id)}},
            headers=headers,
        )
        body = answer.json()
        assert "errors" not in body, body
        [maths] = body["data"]["pupil"]["page"]["subjects"]
        line = maths["onTrack"]
        return rest, None if line is None else {"words": line["words"], "as_at": line["asAt"]}

    rest, graphql = await both(parent)
    assert rest == graphql == {"words": "On track", "as_at": "Summer"}
    switched = await client.patch(
        f"/v1/schools/{world.schools['A1'].id}",
        json={"on_track_for_pupils": False},
        headers=world.headers("school_leader"),
    )
    assert switched.status_code == 200
    assert await both(parent) == (None, None)
    rest, graphql = await both(world.headers("teacher"))
    assert rest == graphql == {"words": "On track", "as_at": "Summer"}
