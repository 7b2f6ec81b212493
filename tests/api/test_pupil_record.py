"""A pupil's record and judgement history through the REST API: who sees it, what it holds
now and as at a date, and every write to the pupil's cells.

Judgements and values are put straight into the database (tests/support/pupil_record.py), so
these tests do not depend on the write routes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.curriculum import Measure
from app.db.markbook import MeasureValue, WorkingYear
from app.db.roster import Pupil
from app.domain.calendar import AcademicYear
from app.domain.roles import ClientScope
from tests.support.pupil_record import (
    BEFORE_ALL,
    D1,
    D2,
    D3,
    Scene,
    add_scene,
    at,
    client_headers,
    self_user,
)
from tests.support.roster import this_year
from tests.support.world import World


@pytest.fixture
async def scene(session: AsyncSession, world: World) -> Scene:
    return await add_scene(session, world)


def _url(pupil: Pupil | uuid.UUID, what: str = "record") -> str:
    pupil_id = pupil.id if isinstance(pupil, Pupil) else pupil
    return f"/v1/pupils/{pupil_id}/{what}"


def _cells(record: dict) -> dict[str, str]:
    return {j["code"]: j["descriptor_code"] for j in record["judgements"]}


# --- What the record holds ---------------------------------------------------------------
async def test_a_leader_reads_the_whole_record_as_it_stands_now(client, world, scene):
    response = await client.get(
        _url(scene.taught),
        params={"academic_year": this_year()},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["pupil"] == {
        "id": str(scene.taught.id),
        "school_id": str(world.schools["A1"].id),
        "forename": "Tilly",
        "surname": "Pupil",
        "year_group": "4",
    }
    assert record["academic_year"] == this_year() and record["as_at"] is None
    assert record["working_years"] == [
        {"subject_id": str(scene.defs.subject.id), "curriculum_year": "4", "is_set": False}
    ]
    # MA4-N2 was cleared: it is left out. MA4-N1 stands at GDS, assessed last.
    [judgement] = record["judgements"]
    n1 = scene.defs.objectives[0]
    gds = scene.by_code["GDS"]
    assert judgement == {
        "objective_id": str(n1.id),
        "framework_id": str(scene.defs.framework.id),
        "subject_id": str(scene.defs.subject.id),
        "code": "MA4-N1",
        "statement": n1.statement,
        "curriculum_years": "4",
        "descriptor_id": str(gds.id),
        "descriptor_code": "GDS",
        "label": "Greater depth",
        "band": "above",
        "colour": None,
        "secure": True,
        "assessed_on": D3.isoformat(),
        "recorded_at": judgement["recorded_at"],
        "note": "Explains it to others",
    }
    assert datetime.fromisoformat(judgement["recorded_at"]) == at(5)
    values = {v["code"]: v for v in record["values"]}
    assert set(values) == {"KS2-MA-SS", "MA-TA"}
    number = values["KS2-MA-SS"]
    assert (number["kind"], number["value"], number["band"]) == ("number", 104, "at")
    assert number["curriculum_year"] is None and number["descriptor_id"] is None
    assert number["assessment_point_id"] == str(world.points["A1"].id)
    assert (number["assessment_point_code"], number["academic_year"]) == ("AUT", 2025)
    assert number["assessed_on"] == "2025-12-12"
    ta = values["MA-TA"]
    assert (ta["kind"], ta["value"], ta["curriculum_year"]) == ("scale", "EXS", "4")
    assert (ta["band"], ta["descriptor_id"]) == ("at", str(scene.by_code["EXS"].id))


async def test_as_at_a_date_the_record_shows_the_judgements_that_stood_then(client, world, scene):
    headers = world.headers("school_leader")

    async def as_at(day: date) -> dict:
        response = await client.get(
            _url(scene.taught), params={"as_at": day.isoformat()}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["as_at"] == day.isoformat()
        return response.json()

    # GDS was assessed later: as at D2 the cell stood at EXS; MA4-N2 had just been cleared.
    at_d2 = await as_at(D2)
    assert _cells(at_d2) == {"MA4-N1": "EXS"}
    assert at_d2["judgements"][0]["assessed_on"] == D2.isoformat()
    assert at_d2["judgements"][0]["secure"] is True
    # As at D1: two judgements of MA4-N1 were assessed that day; the later recorded stands.
    at_d1 = await as_at(D1)
    assert _cells(at_d1) == {"MA4-N1": "EXS", "MA4-N2": "EXS"}
    assert {j["code"]: j["note"] for j in at_d1["judgements"]} == {
        "MA4-N1": "Moderated",
        "MA4-N2": "Knows 6s and 7s",
    }
    assert (await as_at(BEFORE_ALL))["judgements"] == []
    assert _cells(await as_at(D3)) == {"MA4-N1": "GDS"}


async def test_as_at_leaves_out_values_of_points_assessed_after_it(client, world, scene):
    headers = world.headers("school_leader")
    before = await client.get(_url(scene.taught), params={"as_at": "2025-12-11"}, headers=headers)
    on_the_day = await client.get(
        _url(scene.taught), params={"as_at": "2025-12-12"}, headers=headers
    )
    assert before.status_code == on_the_day.status_code == 200
    assert before.json()["values"] == []
    assert {v["code"] for v in on_the_day.json()["values"]} == {"KS2-MA-SS", "MA-TA"}
    # The academic year defaults to the one containing as_at.
    assert before.json()["academic_year"] == 2025


async def test_a_working_year_set_by_a_teacher_shows_in_the_record(client, world, scene, session):
    session.add(
        WorkingYear(
            pupil_id=scene.taught.id,
            subject_id=scene.defs.subject.id,
            academic_year=this_year(),
            school_id=world.schools["A1"].id,
            curriculum_year=3,
            set_at=at(20),
            set_by=world.users["teacher"].id,
            version=20,
        )
    )
    await session.commit()
    response = await client.get(_url(scene.taught), headers=world.headers("teacher"))
    assert response.status_code == 200
    assert response.json()["working_years"] == [
        {"subject_id": str(scene.defs.subject.id), "curriculum_year": "3", "is_set": True}
    ]
    last_year = await client.get(
        _url(scene.taught),
        params={"academic_year": this_year() - 1},
        headers=world.headers("teacher"),
    )
    # Not enrolled last year, and nobody set a working year then.
    assert last_year.json()["pupil"]["year_group"] is None
    assert last_year.json()["working_years"][0]["curriculum_year"] is None


async def test_a_secure_point_below_the_descriptor_and_above_it(client, world, scene, session):
    scene.defs.scale.secure_from = "GDS"
    session.add(scene.defs.scale)
    await session.commit()
    response = await client.get(
        _url(scene.taught), params={"as_at": D2.isoformat()}, headers=world.headers("teacher")
    )
    assert [j["secure"] for j in response.json()["judgements"]] == [False]


# --- Who sees it -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["school_leader", "trust_admin", "trust_analyst", "integration"])
async def test_school_and_trust_staff_and_a_full_integration_see_every_pupil(
    client, world, scene, name
):
    for pupil in (scene.taught, scene.untaught):
        response = await client.get(_url(pupil), headers=world.headers(name))
        assert response.status_code == 200, (name, response.text)
        record = response.json()
        assert record["judgements"] is not None and record["values"] is not None
    untaught = (await client.get(_url(scene.untaught), headers=world.headers(name))).json()
    assert _cells(untaught) == {"MA4-N1": "WT"}
    assert [(v["value"], v["band"]) for v in untaught["values"]] == [(95, "below")]


async def test_a_teacher_sees_a_pupil_they_teach_and_not_one_they_do_not(client, world, scene):
    headers = world.headers("teacher")
    taught = await client.get(_url(scene.taught), headers=headers)
    assert taught.status_code == 200
    assert _cells(taught.json()) == {"MA4-N1": "GDS"}
    for what in ("record", "judgements"):
        response = await client.get(_url(scene.untaught, what), headers=headers)
        assert response.status_code == 404
        assert response.json()["detail"] == "pupil not found"


@pytest.mark.parametrize("role", ["pupil", "parent"])
async def test_a_pupil_or_parent_sees_the_pupil_their_grant_names_and_no_other(
    client, world, scene, role
):
    headers = await self_user(client, world, role, scene.taught.id)
    response = await client.get(_url(scene.taught), headers=headers)
    assert response.status_code == 200, response.text
    record = response.json()
    assert _cells(record) == {"MA4-N1": "GDS"}
    assert {v["code"] for v in record["values"]} == {"KS2-MA-SS", "MA-TA"}
    history = await client.get(_url(scene.taught, "judgements"), headers=headers)
    assert history.status_code == 200
    assert len(history.json()["items"]) == 6
    for other in (scene.untaught, scene.elsewhere):
        for what in ("record", "judgements"):
            refused = await client.get(_url(other, what), headers=headers)
            assert refused.status_code == 404, (other, what)


@pytest.mark.parametrize("role", ["pupil", "parent"])
async def test_a_pupil_or_parent_grant_naming_nobody_reaches_no_record(client, world, scene, role):
    headers = await self_user(client, world, role, None)
    for pupil in (scene.taught, scene.untaught):
        assert (await client.get(_url(pupil), headers=headers)).status_code == 404
    # The world's own pupil and parent hold such grants too.
    assert (await client.get(_url(scene.taught), headers=world.headers(role))).status_code == 404


@pytest.mark.parametrize(
    "name", ["integration_roster_read", "governor", "other_school_leader", "other_trust_admin"]
)
async def test_callers_without_markbook_reach_get_not_found(client, world, scene, name):
    for what in ("record", "judgements"):
        response = await client.get(_url(scene.taught, what), headers=world.headers(name))
        assert response.status_code == 404, (name, what)
        assert response.json()["detail"] == "pupil not found"


async def test_a_pupil_that_does_not_exist_is_not_found_in_the_same_words(client, world, scene):
    response = await client.get(_url(uuid.uuid4()), headers=world.headers("school_leader"))
    assert response.status_code == 404
    assert response.json()["detail"] == "pupil not found"
    assert (await client.get(_url(uuid.uuid4()))).status_code == 401


async def test_an_integration_sees_only_the_parts_its_scopes_allow(client, world, scene, session):
    values_only = await client_headers(session, world, ClientScope.VALUES_READ)
    record = (await client.get(_url(scene.taught), headers=values_only)).json()
    assert record["judgements"] is None and record["working_years"] is None
    assert record["figures"] is None
    assert {v["code"] for v in record["values"]} == {"KS2-MA-SS", "MA-TA"}
    history = await client.get(_url(scene.taught, "judgements"), headers=values_only)
    assert history.status_code == 404

    judgements_only = await client_headers(session, world, ClientScope.JUDGEMENTS_READ)
    record = (await client.get(_url(scene.taught), headers=judgements_only)).json()
    assert record["values"] is None
    assert _cells(record) == {"MA4-N1": "GDS"}
    history = await client.get(_url(scene.taught, "judgements"), headers=judgements_only)
    assert history.status_code == 200


# --- History -----------------------------------------------------------------------------
async def test_the_history_lists_every_write_newest_first_clearings_included(client, world, scene):
    response = await client.get(_url(scene.taught, "judgements"), headers=world.headers("teacher"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert response.json()["next_cursor"] is None
    written = sorted(
        (j for j in scene.history if j.pupil_id == scene.taught.id),
        key=lambda j: j.recorded_at,
        reverse=True,
    )
    assert [i["id"] for i in items] == [str(j.id) for j in written]
    assert [(i["objective_code"], i["descriptor_code"]) for i in items] == [
        ("MA4-N1", "EXS"),
        ("MA4-N1", "GDS"),
        ("MA4-N2", None),
        ("MA4-N1", "EXS"),
        ("MA4-N2", "EXS"),
        ("MA4-N1", "WT"),
    ]
    cleared = items[2]
    assert cleared["descriptor_id"] is None and cleared["assessed_on"] == D2.isoformat()
    assert {i["recorded_by"] for i in items} == {str(world.users["teacher"].id)}
    assert items[0]["note"] == "Moderated"


async def test_the_history_filters_by_objective_and_subject_and_pages(client, world, scene):
    headers = world.headers("school_leader")
    n2 = scene.defs.objectives[1]
    only_n2 = await client.get(
        _url(scene.taught, "judgements"), params={"objective_id": str(n2.id)}, headers=headers
    )
    assert [i["descriptor_code"] for i in only_n2.json()["items"]] == [None, "EXS"]
    other_subject = await client.get(
        _url(scene.taught, "judgements"), params={"subject_id": str(uuid.uuid4())}, headers=headers
    )
    assert other_subject.json() == {"items": [], "next_cursor": None}

    everything = (await client.get(_url(scene.taught, "judgements"), headers=headers)).json()[
        "items"
    ]
    paged, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await client.get(_url(scene.taught, "judgements"), params=params, headers=headers)
        assert page.status_code == 200
        paged += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert paged == everything

    bad = await client.get(
        _url(scene.taught, "judgements"), params={"cursor": "not-a-cursor"}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.cursor"


# --- Bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [{"as_at": "2025-13-01"}, {"academic_year": "1999"}, {"as_at": "yesterday"}],
)
async def test_bad_dates_and_years_are_refused(client, world, scene, params):
    response = await client.get(
        _url(scene.taught), params=params, headers=world.headers("school_leader")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("query.")


async def test_an_as_at_outside_any_academic_year_needs_the_year_given(client, world, scene):
    headers = world.headers("school_leader")
    response = await client.get(_url(scene.taught), params={"as_at": "1990-01-01"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.as_at"
    given = await client.get(
        _url(scene.taught), params={"as_at": "1990-01-01", "academic_year": 2025}, headers=headers
    )
    assert given.status_code == 200
    assert given.json()["judgements"] == [] and given.json()["values"] == []


async def test_values_read_back_typed_by_their_measure(client, world, scene, session):
    a2 = world.schools["A2"]
    kinds = {
        "SCORE": ("number", {"number": Decimal("97.5")}),
        "COMMENT": ("text", {"text": "Reads widely"}),
        "MTC-DONE": ("boolean", {"flag": False}),
        "SAT-ON": ("date", {"value_on": date(2025, 11, 3)}),
    }
    measures = {
        code: Measure(name=code.title(), code=code, kind=kind, school_id=a2.id, position=index)
        for index, (code, (kind, _)) in enumerate(kinds.items(), start=1)
    }
    measures["SCORE"].minimum, measures["SCORE"].maximum = Decimal(70), Decimal(141)
    measures["SCORE"].decimals = 1
    session.add_all(measures.values())
    await session.flush()
    session.add_all(
        MeasureValue(
            pupil_id=scene.elsewhere.id,
            measure_id=measures[code].id,
            assessment_point_id=world.points["A2"].id,
            school_id=a2.id,
            recorded_at=at(30),
            recorded_by=world.users["trust_admin"].id,
            **columns,
        )
        for code, (_, columns) in kinds.items()
    )
    await session.commit()
    response = await client.get(_url(scene.elsewhere), headers=world.headers("trust_admin"))
    assert response.status_code == 200, response.text
    assert [(v["code"], v["kind"], v["value"], v["band"]) for v in response.json()["values"]] == [
        ("SCORE", "number", 97.5, None),
        ("COMMENT", "text", "Reads widely", None),
        ("MTC-DONE", "boolean", False, None),
        ("SAT-ON", "date", "2025-11-03", None),
    ]
    assert response.json()["judgements"] == []
    # A2's leader sees it too; A1's does not.
    assert (
        await client.get(_url(scene.elsewhere), headers=world.headers("other_school_leader"))
    ).status_code == 200
    assert (
        await client.get(_url(scene.elsewhere), headers=world.headers("school_leader"))
    ).status_code == 404


async def test_the_record_gives_the_figures_at_each_point_of_the_year(client, world, scene):
    """Two points added through the API (their figures counted then): one after the first
    day's judgements, one after the last day's; each point's figures are those of the
    judgements standing on its date among the objectives of Tilly's working year (4)."""
    leader = world.headers("school_leader")
    points = {"EARLY": D1 + timedelta(days=5), "LATE": D3 + timedelta(days=5)}
    for position, (code, day) in enumerate(points.items(), start=1):
        response = await client.post(
            f"/v1/schools/{world.schools['A1'].id}/assessment-points",
            json={
                "academic_year": AcademicYear.containing(day).start_year,
                "code": code,
                "name": code.title(),
                "position": position + 10,
                "assessed_on": day.isoformat(),
            },
            headers=leader,
        )
        assert response.status_code == 201, response.text
    found = {}
    for year in {AcademicYear.containing(day).start_year for day in points.values()}:
        response = await client.get(
            _url(scene.taught), params={"academic_year": year}, headers=leader
        )
        assert response.status_code == 200, response.text
        found |= {f["assessment_point_code"]: f for f in response.json()["figures"]}
    assert set(found) == set(points)
    subject = str(scene.defs.subject.id)
    # As at the early point: MA4-N1 at EXS (moderated, the later of two that day), MA4-N2
    # at EXS: both secure (EXS is secure), depth 2.
    assert {k: v for k, v in found["EARLY"].items() if k != "assessment_point_id"} == {
        "subject_id": subject,
        "assessment_point_code": "EARLY",
        "academic_year": AcademicYear.containing(points["EARLY"]).start_year,
        "assessed_on": points["EARLY"].isoformat(),
        "curriculum_year": "4",
        "judged": 2,
        "secure": 2,
        "objectives": 2,
        "depth_score": 2.0,
        "percent_secured": 100.0,
        "percent_secured_of_year": 100.0,
    }
    # As at the late point: MA4-N1 at GDS, MA4-N2 cleared: one of two objectives judged.
    late = found["LATE"]
    assert (late["judged"], late["secure"], late["objectives"]) == (1, 1, 2)
    assert (late["depth_score"], late["percent_secured"]) == (3.0, 100.0)
    assert late["percent_secured_of_year"] == 50.0
