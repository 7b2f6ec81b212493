"""A pupil over GraphQL: the same record REST gives (cells now and as at a date, judgement
history, working years, typed values), the roster around it (enrolments, classes, groups), and
the same policy: a teacher their pupils, leaders their school, pupils and parents their own
record and not the roster, governors nothing; out of reach is null, exactly as no such pupil.

The scene of judgements and values is the one REST's pupil record tests use
(tests/support/pupil_record.py), so both doors read the same data.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from app.domain.roles import ClientScope
from tests.api.test_graphql import ask
from tests.support.pupil_record import (
    BEFORE_ALL,
    D1,
    D2,
    D3,
    Scene,
    add_scene,
    client_headers,
    self_user,
)
from tests.support.roster import this_year

RECORD = """
query ($id: UUID!, $subject: UUID!, $year: Int) {
  pupil(id: $id) {
    id schoolId forename surname legalForename sex senStatus dateOfBirth
    enrolments { schoolId academicYear yearGroup joinedOn leftOn }
    classes { code academicYear }
    groups { name }
    workingYears(academicYear: $year) { subjectId curriculumYear isSet }
    cells(subjectId: $subject) {
      objectiveId objectiveCode statement curriculumYears frameworkId subjectId
      descriptorId descriptorCode label band colour secure assessedOn recordedAt note
    }
    values {
      measureId measureCode kind assessmentPointId assessmentPointCode academicYear assessedOn
      number descriptorId descriptorCode text flag dateValue band curriculumYear
    }
    figures { subjectId assessmentPointId judged secure depthScore percentSecuredOfYear }
  }
}
"""
CELLS_AS_AT = """
query ($id: UUID!, $subject: UUID!, $on: Date) {
  pupil(id: $id) { cells(subjectId: $subject, asAt: $on) { objectiveCode descriptorCode note } }
}
"""


@pytest.fixture
async def scene(session: Any, world: Any) -> Scene:
    return await add_scene(session, world)


async def _record(client: Any, world: Any, scene: Scene, who: str | dict[str, str]) -> Any:
    """The pupil as ``who`` (a world principal's name, or headers) sees them."""
    variables = {"id": str(scene.taught.id), "subject": str(scene.defs.subject.id)}
    headers = who if isinstance(who, dict) else world.headers(who)
    answer = await client.post(
        "/graphql", json={"query": RECORD, "variables": variables}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]["pupil"]


# --- The record, as REST gives it --------------------------------------------------------------
async def test_a_leader_reads_the_pupil_s_record_exactly_as_rest_gives_it(client, world, scene):
    pupil = await _record(client, world, scene, "school_leader")
    rest = (
        await client.get(
            f"/v1/pupils/{scene.taught.id}/record", headers=world.headers("school_leader")
        )
    ).json()
    assert (pupil["id"], pupil["forename"], pupil["surname"]) == (
        str(scene.taught.id),
        rest["pupil"]["forename"],
        rest["pupil"]["surname"],
    )
    assert pupil["workingYears"] == [
        {"subjectId": w["subject_id"], "curriculumYear": w["curriculum_year"], "isSet": w["is_set"]}
        for w in rest["working_years"]
    ]
    assert pupil["figures"] == [
        {
            "subjectId": f["subject_id"],
            "assessmentPointId": f["assessment_point_id"],
            "judged": f["judged"],
            "secure": f["secure"],
            "depthScore": f["depth_score"],
            "percentSecuredOfYear": f["percent_secured_of_year"],
        }
        for f in rest["figures"]
    ]
    assert [
        {
            "objectiveId": j["objective_id"],
            "objectiveCode": j["code"],
            "statement": j["statement"],
            "curriculumYears": j["curriculum_years"],
            "frameworkId": j["framework_id"],
            "subjectId": j["subject_id"],
            "descriptorId": j["descriptor_id"],
            "descriptorCode": j["descriptor_code"],
            "label": j["label"],
            "band": j["band"].upper(),
            "colour": j["colour"],
            "secure": j["secure"],
            "assessedOn": j["assessed_on"],
            "note": j["note"],
        }
        for j in rest["judgements"]
    ] == [{k: v for k, v in c.items() if k != "recordedAt"} for c in pupil["cells"]]
    assert [c["recordedAt"][:19] for c in pupil["cells"]] == [
        j["recorded_at"][:19] for j in rest["judgements"]
    ]
    # Values: the same, in the field of the measure's kind.
    typed = {
        v["measureCode"]: (
            v["kind"],
            v["number"],
            v["descriptorCode"],
            v["band"],
            v["curriculumYear"],
        )
        for v in pupil["values"]
    }
    assert typed == {
        "KS2-MA-SS": ("NUMBER", 104.0, None, "AT", None),
        "MA-TA": ("SCALE", None, "EXS", "AT", "4"),
    }
    assert [(v["code"], v["assessment_point_id"]) for v in rest["values"]] == [
        (v["measureCode"], v["assessmentPointId"]) for v in pupil["values"]
    ]
    assert all(
        v["text"] is None and v["flag"] is None and v["dateValue"] is None for v in pupil["values"]
    )


async def test_the_roster_around_the_pupil(client, world, scene):
    pupil = await _record(client, world, scene, "school_leader")
    a1 = str(world.schools["A1"].id)
    assert pupil["schoolId"] == a1
    assert (pupil["legalForename"], pupil["sex"], pupil["senStatus"]) == ("Target1", "FEMALE", None)
    assert pupil["dateOfBirth"] == "2016-03-04"
    assert pupil["enrolments"] == [
        {
            "schoolId": a1,
            "academicYear": this_year(),
            "yearGroup": "4",
            "joinedOn": None,
            "leftOn": None,
        }
    ]
    assert pupil["classes"] == [{"code": "4T1", "academicYear": this_year()}]
    assert pupil["groups"] == [{"name": "Target group 1"}]


async def test_cells_as_at_a_date_are_those_that_stood_then(client, world, scene):
    async def as_at(day: date | None) -> dict[str, tuple[str, str | None]]:
        answer = await ask(
            client,
            world,
            "teacher",
            CELLS_AS_AT,
            id=str(scene.taught.id),
            subject=str(scene.defs.subject.id),
            on=None if day is None else day.isoformat(),
        )
        return {
            c["objectiveCode"]: (c["descriptorCode"], c["note"])
            for c in answer["data"]["pupil"]["cells"]
        }

    assert await as_at(None) == {"MA4-N1": ("GDS", "Explains it to others")}
    assert await as_at(D3) == {"MA4-N1": ("GDS", "Explains it to others")}
    # GDS was assessed later; MA4-N2 had just been cleared as at D2.
    assert await as_at(D2) == {"MA4-N1": ("EXS", None)}
    # Two judgements of MA4-N1 assessed on D1: the later recorded stands.
    assert await as_at(D1) == {"MA4-N1": ("EXS", "Moderated"), "MA4-N2": ("EXS", "Knows 6s and 7s")}
    assert await as_at(BEFORE_ALL) == {}


async def test_another_subject_has_no_cells(client, world, scene):
    answer = await ask(
        client, world, "teacher", CELLS_AS_AT, id=str(scene.taught.id), subject=str(uuid.uuid4())
    )
    assert answer["data"]["pupil"]["cells"] == []


async def test_a_cell_s_judgements_are_its_history_as_rest_gives_it(client, world, scene):
    n1 = scene.defs.objectives[0]
    query = """
    query ($id: UUID!, $objective: UUID!) {
      pupil(id: $id) {
        judgements(objectiveId: $objective) {
          id objectiveId objectiveCode subjectId descriptorId descriptorCode assessedOn
          recordedBy note
        }
      }
    }
    """
    answer = await ask(
        client, world, "teacher", query, id=str(scene.taught.id), objective=str(n1.id)
    )
    history = answer["data"]["pupil"]["judgements"]
    rest = await client.get(
        f"/v1/pupils/{scene.taught.id}/judgements",
        params={"objective_id": str(n1.id)},
        headers=world.headers("teacher"),
    )
    assert [
        (j["id"], j["descriptor_code"], j["assessed_on"], j["recorded_by"], j["note"])
        for j in rest.json()["items"]
    ] == [
        (j["id"], j["descriptorCode"], j["assessedOn"], j["recordedBy"], j["note"]) for j in history
    ]
    assert [j["descriptorCode"] for j in history] == ["EXS", "GDS", "EXS", "WT"]
    assert {j["objectiveCode"] for j in history} == {"MA4-N1"}


async def test_values_at_one_point(client, world, scene):
    query = """
    query ($id: UUID!, $point: UUID) { pupil(id: $id) { values(pointId: $point) { measureCode } } }
    """
    at_autumn = await ask(
        client, world, "teacher", query, id=str(scene.taught.id), point=str(world.points["A1"].id)
    )
    assert {v["measureCode"] for v in at_autumn["data"]["pupil"]["values"]} == {
        "KS2-MA-SS",
        "MA-TA",
    }
    elsewhere = await ask(
        client, world, "teacher", query, id=str(scene.taught.id), point=str(uuid.uuid4())
    )
    assert elsewhere["data"]["pupil"]["values"] == []


async def test_a_working_year_of_another_year_and_a_year_out_of_range(client, world, scene):
    query = """
    query ($id: UUID!, $year: Int) {
      pupil(id: $id) { workingYears(academicYear: $year) { curriculumYear isSet } }
    }
    """
    last_year = await ask(
        client, world, "teacher", query, id=str(scene.taught.id), year=this_year() - 1
    )
    # Not enrolled last year, and nobody set a working year then.
    assert last_year["data"]["pupil"]["workingYears"] == [{"curriculumYear": None, "isSet": False}]
    bad = await ask(client, world, "teacher", query, id=str(scene.taught.id), year=1066)
    (error,) = bad["errors"]
    assert error["extensions"] == {"code": "BAD_INPUT", "field": "academicYear"}
    assert error["path"] == ["pupil", "workingYears"]


# --- Who sees what -----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["school_leader", "trust_admin", "trust_analyst", "integration"])
async def test_school_and_trust_staff_see_every_pupil_of_the_school(client, world, scene, who):
    for pupil in (scene.taught, scene.untaught):
        answer = await ask(
            client, world, who, CELLS_AS_AT, id=str(pupil.id), subject=str(scene.defs.subject.id)
        )
        assert answer["data"]["pupil"]["cells"], (who, pupil.legal_forename)


async def test_a_teacher_reaches_only_the_pupils_they_teach(client, world, scene):
    variables = {"id": str(scene.untaught.id), "subject": str(scene.defs.subject.id)}
    answer = await ask(client, world, "teacher", CELLS_AS_AT, **variables)
    assert answer == {"data": {"pupil": None}}


@pytest.mark.parametrize("who", ["governor", "other_school_leader", "other_trust_admin"])
async def test_out_of_reach_is_null_exactly_as_no_such_pupil(client, world, scene, who):
    query = "query ($id: UUID!) { pupil(id: $id) { id forename } }"
    reached = await ask(client, world, who, query, id=str(scene.taught.id))
    missing = await ask(client, world, who, query, id=str(uuid.uuid4()))
    assert reached == missing == {"data": {"pupil": None}}


@pytest.mark.parametrize("role", ["pupil", "parent"])
async def test_a_pupil_or_parent_reads_their_own_record_and_not_the_roster(
    client, world, scene, role
):
    headers = await self_user(client, world, role, scene.taught.id)
    pupil = await _record(client, world, scene, headers)
    assert (pupil["forename"], pupil["surname"]) == ("Tilly", "Pupil")
    assert [c["descriptorCode"] for c in pupil["cells"]] == ["GDS"]
    assert {v["measureCode"] for v in pupil["values"]} == {"KS2-MA-SS", "MA-TA"}
    assert pupil["workingYears"] == [
        {"subjectId": str(scene.defs.subject.id), "curriculumYear": "4", "isSet": False}
    ]
    # Characteristics, enrolments, classes and groups are the roster: not theirs to read.
    for name in (
        "legalForename",
        "sex",
        "senStatus",
        "dateOfBirth",
        "enrolments",
        "classes",
        "groups",
    ):
        assert pupil[name] is None, name
    query = "query ($id: UUID!) { pupil(id: $id) { id } }"
    for other in (scene.untaught, scene.elsewhere):
        answer = await client.post(
            "/graphql", json={"query": query, "variables": {"id": str(other.id)}}, headers=headers
        )
        assert answer.json() == {"data": {"pupil": None}}


async def test_an_integration_reads_only_the_parts_its_scopes_allow(client, world, scene, session):
    roster_only = await _record(client, world, scene, "integration_roster_read")
    assert roster_only["legalForename"] == "Target1" and roster_only["enrolments"]
    assert roster_only["cells"] is None and roster_only["workingYears"] is None
    assert roster_only["values"] is None and roster_only["figures"] is None
    headers = await client_headers(session, world, ClientScope.VALUES_READ)
    values_only = await _record(client, world, scene, headers)
    assert values_only["legalForename"] is None and values_only["enrolments"] is None
    assert values_only["cells"] is None and values_only["workingYears"] is None
    assert values_only["figures"] is None
    assert {v["measureCode"] for v in values_only["values"]} == {"KS2-MA-SS", "MA-TA"}


async def test_a_class_s_pupils_with_their_records_in_one_query(client, world, scene):
    query = """
    query ($s: UUID!, $subject: UUID!) {
      school(id: $s) {
        classes { edges { node { code pupils { edges { node {
          forename cells(subjectId: $subject) { objectiveCode descriptorCode }
          workingYears { curriculumYear } values { measureCode }
        } } } } } }
      }
    }
    """
    answer = await ask(
        client,
        world,
        "teacher",
        query,
        s=str(world.schools["A1"].id),
        subject=str(scene.defs.subject.id),
    )
    classes = {
        edge["node"]["code"]: [p["node"] for p in edge["node"]["pupils"]["edges"]]
        for edge in answer["data"]["school"]["classes"]["edges"]
    }
    # The teacher sees every class by name, and only the pupil they teach in them.
    assert classes == {
        "4T1": [
            {
                "forename": "Tilly",
                "cells": [{"objectiveCode": "MA4-N1", "descriptorCode": "GDS"}],
                "workingYears": [{"curriculumYear": "4"}],
                "values": [{"measureCode": "KS2-MA-SS"}, {"measureCode": "MA-TA"}],
            }
        ],
        "4T2": [],
    }
