"""GraphQL at /graphql: a teacher's class, a governor's report (the same figures REST gives),
a trust dashboard in one query; what is out of reach is null or absent, never an error; the
number of SQL statements does not grow with the size of the answer; limits, bad input and
masked errors; and the SDL in openapi/schema.graphql kept current."""

from __future__ import annotations

import difflib
import itertools
import uuid
from collections.abc import Awaitable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.api.graphql.schema import MAX_ALIASES, MAX_DEPTH, sdl
from app.cli import GRAPHQL_SDL_PATH
from app.db.markbook import MeasureValue, ObjectiveJudgement
from app.db.people import RoleGrant
from app.db.roster import ClassPupil, ClassTeacher, Enrolment, TeachingGroup
from app.db.tenancy import AssessmentPoint, School
from app.domain.roles import Role
from app.services import batches
from app.services.summaries import refresh_summaries
from tests.support.definitions import add_definitions, add_template
from tests.support.pupil_record import at, write_cells
from tests.support.reports import (
    PUPILS,
    REPORT_TABLE,
    enter_values,
    graphql_definition,
    rest_report,
    school_with_values,
    starter_school,
)
from tests.support.roster import add_pupil, add_school_roster, this_year

GRAPHQL_RESPONSE = "application/graphql-response+json"
CLASSES = """
query ($id: UUID!) {
  school(id: $id) {
    name
    classes { edges { node { code pupils { edges { node { legalForename } } } } } }
  }
}
"""


def nodes(connection: dict[str, Any]) -> list[Any]:
    return [edge["node"] for edge in connection["edges"]]


def classes_and_pupils(school: dict[str, Any]) -> dict[str, list[Any]]:
    return {c["code"]: nodes(c["pupils"]) for c in nodes(school["classes"])}


async def ask(
    client: httpx.AsyncClient, world: Any, who: str | None, query: str, **variables: Any
) -> dict[str, Any]:
    answer = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=world.headers(who)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _rosters(session: AsyncSession, world: Any) -> None:
    """In A1, a class the teacher teaches (Target1) and one they do not (Target2)."""
    school = world.schools["A1"]
    creator = world.users["school_leader"].id
    await add_school_roster(
        session, school, serial=1, teacher_id=world.users["teacher"].id, job_creator_id=creator
    )
    await add_school_roster(session, school, serial=2, teacher_id=None, job_creator_id=creator)
    await session.commit()


# --- Reach -------------------------------------------------------------------------------------
async def test_a_teacher_sees_every_class_by_name_and_only_the_pupils_they_teach(
    client, world, session
):
    await _rosters(session, world)
    school_id = str(world.schools["A1"].id)
    teacher = (await ask(client, world, "teacher", CLASSES, id=school_id))["data"]["school"]
    assert classes_and_pupils(teacher) == {
        "4T1": [{"legalForename": "Target1"}],
        "4T2": [],
    }
    leader = (await ask(client, world, "school_leader", CLASSES, id=school_id))["data"]["school"]
    assert classes_and_pupils(leader) == {
        "4T1": [{"legalForename": "Target1"}],
        "4T2": [{"legalForename": "Target2"}],
    }
    # A governor reads the school but no classes or pupils.
    governor = await ask(client, world, "governor", CLASSES, id=school_id)
    assert governor == {"data": {"school": {"name": "School A1", "classes": {"edges": []}}}}


@pytest.mark.parametrize("who", ["trust_admin", "other_school_leader", "teacher", "pupil"])
async def test_out_of_reach_is_null_without_an_error(client, world, who):
    query = "query ($s: UUID!, $t: UUID!) { school(id: $s) { name } trust(id: $t) { name } }"
    answer = await ask(
        client, world, who, query, s=str(world.schools["B1"].id), t=str(world.trusts["B"].id)
    )
    assert answer == {"data": {"school": None, "trust": None}}
    # ... exactly as for ids that name nothing at all.
    missing = await ask(
        client, world, who, query, s=str(world.trusts["B"].id), t=str(world.schools["B1"].id)
    )
    assert missing == answer


async def test_a_school_leader_sees_only_their_school_of_the_trust(client, world):
    query = (
        "query ($t: UUID!) "
        "{ trust(id: $t) { name schools { edges { node { name assessmentPoints { code } } } } } }"
    )
    answer = await ask(client, world, "school_leader", query, t=str(world.trusts["A"].id))
    assert answer["data"]["trust"] == {
        "name": "Trust A",
        "schools": {
            "edges": [{"node": {"name": "School A1", "assessmentPoints": [{"code": "AUT"}]}}]
        },
    }
    admin = await ask(client, world, "trust_admin", query, t=str(world.trusts["A"].id))
    assert [s["name"] for s in nodes(admin["data"]["trust"]["schools"])] == [
        "School A1",
        "School A2",
    ]


async def test_me_names_the_caller_and_their_reach(client, world):
    answer = await ask(client, world, "teacher", "{ me { kind name roles { role schoolId } } }")
    assert answer["data"]["me"] == {
        "kind": "USER",
        "name": "Teacher",
        "roles": [{"role": "TEACHER", "schoolId": str(world.schools["A1"].id)}],
    }


async def test_no_token_is_refused_as_in_rest(client):
    answer = await client.post("/graphql", json={"query": "{ me { name } }"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


DEFINITIONS = """
query ($s: UUID!) {
  school(id: $s) {
    subjects { code frameworks { objectives(first: 2) { edges { node { code yearFrom } } } } }
    scales { name descriptors { code value } }
    measures { code kind }
  }
}
"""


async def test_a_school_s_definitions_with_the_starter_pack(client, world):
    setup = await starter_school(client, world, "A1", "school_leader", PUPILS[:1])
    answer = await ask(client, world, "teacher", DEFINITIONS, s=str(setup.school_id))
    school = answer["data"]["school"]
    rest = await client.get(
        "/v1/subjects",
        params={"school_id": str(setup.school_id), "limit": 100},
        headers=world.headers("teacher"),
    )
    assert {s["code"] for s in school["subjects"]} == {s["code"] for s in rest.json()["items"]}
    maths = next(s for s in school["subjects"] if s["code"] == "MA")
    assert maths["frameworks"] and len(nodes(maths["frameworks"][0]["objectives"])) == 2
    assert all(scale["descriptors"] for scale in school["scales"])
    assert {"code": "MATH-TA", "kind": "SCALE"} in school["measures"]
    # The same school's definitions are not there for a leader of another school.
    other = await ask(client, world, "other_school_leader", DEFINITIONS, s=str(setup.school_id))
    assert other == {"data": {"school": None}}


# --- Reports -----------------------------------------------------------------------------------
DEFINITION = {"metrics": ["pupils"], "dimensions": ["subject"], "points": ["AUT"]}
SCHOOL_REPORT = (
    "query ($s: UUID!, $d: ReportDefinitionInput!) { school(id: $s) { report(definition: $d) { "
    + REPORT_TABLE
    + " } } }"
)
DASHBOARD = (
    "query ($t: UUID!, $d: ReportDefinitionInput!) { trust(id: $t) { "
    "schools { edges { node { id name report(definition: $d) { " + REPORT_TABLE + " } } } } "
    "report(definition: $d) { " + REPORT_TABLE + " } } }"
)
# Data on a page, the starter pack's way: maths by year group, pupil premium against the rest,
# at autumn and summer; teacher assessment, standardised scores and a progress matrix.
MATHS = {
    "title": "Maths",
    "metrics": [
        "pupils",
        "percent_at_or_above",
        {"metric": "measure_mean", "measures": ["STD-MATH"]},
        {"metric": "progress_matrix"},
    ],
    "dimensions": ["subject", "year_group"],
    "groups": ["pupil_premium", "group:@risk"],
    "points": ["AUT", "SUM"],
    "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
}


async def _rest_report(client: Any, world: Any, who: str, school_id: Any, definition: Any) -> Any:
    answer = await client.post(
        f"/v1/schools/{school_id}/reports",
        json={"definition": definition},
        headers=world.headers(who),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("who", ["governor", "school_leader", "teacher"])
async def test_a_school_report_is_exactly_what_rest_gives(client, world, who):
    setup = await school_with_values(client, world)
    for definition in (DEFINITION, MATHS):
        rest = await _rest_report(client, world, who, setup.school_id, definition)
        answer = await ask(
            client,
            world,
            who,
            SCHOOL_REPORT,
            s=str(setup.school_id),
            d=graphql_definition(definition),
        )
        assert rest_report(answer["data"]["school"]["report"]) == rest


async def test_a_trust_dashboard_is_one_query(client, world):
    await starter_school(client, world, "A1", "school_leader", PUPILS)
    await starter_school(client, world, "A2", "other_school_leader", PUPILS[:3])
    trust_id = world.trusts["A"].id
    answer = await ask(
        client,
        world,
        "trust_analyst",
        DASHBOARD,
        t=str(trust_id),
        d=graphql_definition(DEFINITION),
    )
    trust = answer["data"]["trust"]
    rest = await client.post(
        f"/v1/trusts/{trust_id}/reports",
        json={"definition": DEFINITION},
        headers=world.headers("trust_analyst"),
    )
    assert rest_report(trust["report"]) == rest.json()
    assert [s["name"] for s in nodes(trust["schools"])] == ["School A1", "School A2"]
    for school in nodes(trust["schools"]):
        alone = await _rest_report(client, world, "trust_analyst", school["id"], DEFINITION)
        assert rest_report(school["report"]) == alone
    # A governor of A1 sees the trust, its own school only, and no report it may not run.
    governor = await ask(
        client, world, "governor", DASHBOARD, t=str(trust_id), d=graphql_definition(DEFINITION)
    )
    schools = nodes(governor["data"]["trust"]["schools"])
    assert [s["name"] for s in schools] == ["School A1"]
    assert schools[0]["report"]["suppressBelow"] == 6
    assert governor["data"]["trust"]["report"]["suppressBelow"] == 6


@pytest.mark.parametrize("who", ["trust_admin", "governor", "school_leader"])
async def test_schools_reported_on_together_get_what_each_gets_alone(client, world, session, who):
    """Every school of a dashboard asking the same definition runs in one go; each school's
    report is still exactly the one it gets alone: for a trust admin (nothing hidden), a
    governor of both schools (each hidden by its own threshold), and A1's leader who also
    governs A2 (A1 in full, A2 suppressed)."""
    setup = await school_with_values(client, world)
    a2 = await starter_school(client, world, "A2", "other_school_leader", PUPILS[:5])
    leader = world.headers("other_school_leader")
    await enter_values(client, leader, a2, "AUT", "MATH-TA", ["EXS", "GDS", "WTS", "EXS", "EXS"])
    await enter_values(client, leader, a2, "SUM", "MATH-TA", ["EXS", "GDS", "EXS", "EXS", "WTS"])
    await enter_values(client, leader, a2, "AUT", "STD-MATH", [99, 104, 88, 100, 112])
    school = await session.get(School, a2.school_id)
    school.report_threshold = 4
    if who in ("governor", "school_leader"):
        session.add(RoleGrant(user_id=world.users[who].id, role=Role.GOVERNOR, school_id=school.id))
    await session.commit()
    answer = await ask(
        client, world, who, DASHBOARD, t=str(world.trusts["A"].id), d=graphql_definition(MATHS)
    )
    schools = {s["id"]: s for s in nodes(answer["data"]["trust"]["schools"])}
    assert set(schools) == {str(setup.school_id), str(a2.school_id)}
    thresholds = {}
    for school_id, found in schools.items():
        alone = await _rest_report(client, world, who, school_id, MATHS)
        assert rest_report(found["report"]) == alone
        assert alone["sections"][0]["rows"] and alone["sections"][1]["rows"]
        thresholds[school_id] = alone["suppress_below"]
    expected = {
        "trust_admin": (None, None),
        "governor": (6, 4),
        "school_leader": (None, 4),
    }[who]
    assert (thresholds[str(setup.school_id)], thresholds[str(a2.school_id)]) == expected


TEMPLATES = (
    "query ($s: UUID!, $t: UUID!) { school(id: $s) { reportTemplates "
    "{ id code name version versions { version name } run { " + REPORT_TABLE + " } } } "
    "trust(id: $t) { reportTemplates { code run { title } } } }"
)


async def test_templates_the_school_may_run_run_as_rest_runs_them(client, world):
    setup = await school_with_values(client, world)
    headers = world.headers("school_leader")
    page = setup.templates["DATA-ON-A-PAGE"]
    for who in ("school_leader", "governor", "teacher"):
        answer = await ask(
            client, world, who, TEMPLATES, s=str(setup.school_id), t=str(world.trusts["A"].id)
        )
        templates = {t["code"]: t for t in answer["data"]["school"]["reportTemplates"]}
        assert set(templates) == set(setup.templates)
        for code, template_id in setup.templates.items():
            rest = await client.get(
                f"/v1/schools/{setup.school_id}/report-templates/{template_id}/report",
                headers=world.headers(who),
            )
            assert rest.status_code == 200, rest.text
            assert rest_report(templates[code]["run"]) == rest.json(), (who, code)
        # Trust A has no templates of its own: a list, empty, for those who may read them.
        assert answer["data"]["trust"]["reportTemplates"] == []
    # A new version; the old one stays runnable.
    changed = await client.patch(
        f"/v1/report-templates/{page}",
        json={"name": "Data on a page (maths)", "definition": MATHS},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    query = (
        "query ($s: UUID!) { school(id: $s) { reportTemplates { code version "
        "versions { version name } now: run { title } then: run(version: 1) { title } "
        "none: run(version: 9) { title } } } }"
    )
    answer = await client.post(
        "/graphql",
        json={"query": query, "variables": {"s": str(setup.school_id)}},
        headers=headers,
    )
    body = answer.json()
    template = next(
        t for t in body["data"]["school"]["reportTemplates"] if t["code"] == "DATA-ON-A-PAGE"
    )
    assert template["version"] == 2
    assert template["versions"] == [
        {"version": 1, "name": "Data on a page"},
        {"version": 2, "name": "Data on a page (maths)"},
    ]
    assert template["now"] == {"title": "Maths"}
    assert template["then"] == {"title": "Data on a page"}
    assert template["none"] is None
    missing = [e for e in body["errors"] if e["path"][-1] == "none"]
    assert missing and all(e["extensions"]["code"] == "NOT_FOUND" for e in missing)


async def test_a_trusts_templates_run_across_the_trust(client, world):
    await school_with_values(client, world)
    created = await client.post(
        "/v1/report-templates",
        json={
            "trust_id": str(world.trusts["A"].id),
            "code": "TRUST-MATHS",
            "name": "Trust maths",
            "definition": MATHS,
        },
        headers=world.headers("trust_admin"),
    )
    assert created.status_code == 201, created.text
    trust_id = world.trusts["A"].id
    query = (
        "query ($t: UUID!) { trust(id: $t) { reportTemplates { code run { "
        + REPORT_TABLE
        + " } } schools { edges { node { name reportTemplates { code } } } } } }"
    )
    answer = await ask(client, world, "trust_analyst", query, t=str(trust_id))
    trust = answer["data"]["trust"]
    (template,) = trust["reportTemplates"]
    rest = await client.get(
        f"/v1/trusts/{trust_id}/report-templates/{created.json()['id']}/report",
        headers=world.headers("trust_analyst"),
    )
    assert rest_report(template["run"]) == rest.json()
    # Shared with its schools: listed (and runnable) at each, beside the school's own.
    listed = {s["name"]: {t["code"] for t in s["reportTemplates"]} for s in nodes(trust["schools"])}
    assert "TRUST-MATHS" in listed["School A1"] and "DATA-ON-A-PAGE" in listed["School A1"]
    assert listed["School A2"] == {"TRUST-MATHS"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": [{"metric": "MEASURE_MEAN"}]}, "definition.metrics[0].measures"),
        ({"suppressBelow": 2}, "definition.suppressBelow"),
        ({"points": [{"code": "NOPE"}]}, "definition.points[0]"),
        ({"points": [{"code": "AUT", "at": "START"}]}, "definition.points[0]"),
        ({"points": [{}]}, "definition.points[0]"),
        ({"metrics": [{"metric": "PROGRESS_MATRIX"}]}, "definition.metrics[0]"),
        ({"customGroups": [" "]}, "definition.customGroups[0]"),
        (
            {"filters": [{"customGroup": "@risk", "values": []}]},
            "definition.filters[0].values",
        ),
        (
            {"filters": [{"dimension": "SEX", "customGroup": "@risk", "values": ["F"]}]},
            "definition.filters[0].dimension",
        ),
        ({"groups": ["SUBJECT"]}, "definition.groups[0]"),
        ({"attainment": [{"subject": "XX", "measure": "MATH-TA"}]}, "definition.attainment[0]"),
        (
            {"metrics": [{"metric": "MEASURE_MEAN", "measures": ["NO-SUCH"]}]},
            "definition.metrics[0].measures[0]",
        ),
    ],
)
async def test_a_definition_that_cannot_run_is_bad_input_naming_the_field(
    client, world, change, field
):
    setup = await starter_school(client, world, "A1", "school_leader", PUPILS[:1])
    bad = {**graphql_definition(DEFINITION), **change}
    answer = await ask(client, world, "school_leader", SCHOOL_REPORT, s=str(setup.school_id), d=bad)
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == "BAD_INPUT"
    assert error["extensions"]["field"].startswith(field), error
    assert error["path"] == ["school", "report"]
    assert answer["data"] == {"school": {"report": None}}


async def test_an_unknown_metric_is_refused_before_anything_runs(client, world):
    field = "definition.metrics[0].metric"
    bad = {**graphql_definition(DEFINITION), "metrics": [{"metric": "MODE"}]}
    answer = await client.post(
        "/graphql",
        json={"query": SCHOOL_REPORT, "variables": {"s": str(world.schools["A1"].id), "d": bad}},
        headers=world.headers("school_leader"),
    )
    assert answer.status_code in (200, 400), answer.text
    (error,) = answer.json()["errors"]
    assert error["extensions"] == {"code": "BAD_INPUT", "field": field}, error
    assert answer.json().get("data") is None


# --- Statements per query ----------------------------------------------------------------------
ROSTER = """
query ($t: UUID!) {
  trust(id: $t) {
    schools {
      edges {
        node {
          name assessmentPoints { code }
          classes { edges { node { code pupils { edges { node { upn legalSurname } } } } } }
          subjects { code frameworks { name objectives { edges { node { code } } } } }
          scales { name descriptors { code } } measures { code }
        }
      }
    }
  }
}
"""


async def _statements(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    world: Any,
    trust_id: str,
    query: str = ROSTER,
    **variables: Any,
) -> tuple[list[str], dict[str, Any]]:
    """The SQL statements a trust admin's query sends, and its answer."""
    sent: list[str] = []

    def count(*event: Any) -> None:
        sent.append(event[2])  # (conn, cursor, statement, ...)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        answer = await ask(client, world, "trust_admin", query, t=trust_id, **variables)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    return sent, answer


async def test_statements_do_not_grow_with_schools_or_pupils(client, world, session, engine):
    trust = world.trusts["A"]
    creator = world.users["trust_admin"].id
    serial = 0

    async def grow(schools: int, pupils_each: int) -> None:
        nonlocal serial
        for _ in range(schools):
            school = School(
                name=f"Grown {serial}", urn=f"{200000 + serial}", phase="primary", trust_id=trust.id
            )
            session.add(school)
            await session.flush()
            for _pupil in range(pupils_each):
                serial += 1
                await add_school_roster(
                    session, school, serial=serial, teacher_id=None, job_creator_id=creator
                )
            serial += 1
        await session.commit()

    # From 2 schools with a pupil each (A1 and A2 have none) to 12 schools and 34 pupils.
    await grow(schools=2, pupils_each=1)
    small, first = await _statements(engine, client, world, str(trust.id))
    await grow(schools=8, pupils_each=4)
    large, second = await _statements(engine, client, world, str(trust.id))
    assert len(nodes(first["data"]["trust"]["schools"])) == 4
    schools = nodes(second["data"]["trust"]["schools"])
    assert len(schools) == 12
    pupils = sum(len(p) for s in schools for p in classes_and_pupils(s).values())
    assert pupils == 2 + 32
    assert len(small) == len(large)


CLASS_RECORDS = """
query ($s: UUID!, $subject: UUID!, $objective: UUID!) {
  school(id: $s) {
    classes { edges { node { code pupils(first: 500) { edges { node {
      forename sex senStatus enrolments { yearGroup } classes { code } groups { name }
      workingYears { curriculumYear isSet }
      cells(subjectId: $subject) { objectiveCode descriptorCode secure }
      judgements(objectiveId: $objective) { descriptorCode }
      values { measureCode number band }
      figures(subjectId: $subject) { assessmentPointCode curriculumYear judged depthScore }
      page { subjects { curriculumYear strengths { code } nextSteps { code } targets { id } } }
      targets { status }
    } } } } } }
  }
}
"""


# A trust's dashboard: each school's report and its templates run, and the trust's.
DASHBOARD_FIGURES = """
query ($t: UUID!, $d: ReportDefinitionInput!) {
  trust(id: $t) {
    report(definition: $d) { sections { rows { cells { value } } } }
    reportTemplates { code run { title } }
    schools(first: 50) {
      edges {
        node {
          name
          report(definition: $d) { suppressBelow sections { rows { cells { value n } } } }
          reportTemplates {
            code versions { version } run { sections { rows { cells { value } } } }
          }
        }
      }
    }
  }
}
"""


async def _counted(engine: AsyncEngine, asking: Awaitable[dict[str, Any]]) -> tuple[int, Any]:
    """The number of SQL statements sent while ``asking``, and its answer."""
    sent: list[str] = []

    def count(*event: Any) -> None:
        sent.append(event[2])

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        answer = await asking
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    return len(sent), answer


async def test_statements_do_not_grow_with_a_class_s_pupils_and_their_records(
    client, world, session, engine
):
    """The teacher's class of 10, then of 200, with each pupil's roster, working years, cells,
    a cell's history, values, page and targets: the same statements for both."""
    school = world.schools["A1"]
    teacher = world.users["teacher"].id
    defs = await add_definitions(session, school_id=school.id)
    objective = defs.objectives[0]
    class_ = TeachingGroup(school_id=school.id, academic_year=this_year(), code="4C", name="4C")
    session.add(class_)
    await session.flush()
    session.add(ClassTeacher(class_id=class_.id, user_id=teacher, school_id=school.id))
    session.add(
        AssessmentPoint(
            school_id=school.id,
            academic_year=this_year(),
            code="NOW",
            name="Now",
            position=1,
            assessed_on=date.today(),
        )
    )

    async def grow(first: int, last: int) -> None:
        pupils = [await add_pupil(session, school, serial) for serial in range(first, last)]
        for number, pupil in enumerate(pupils):
            mine = {"pupil_id": pupil.id, "school_id": school.id}
            session.add(Enrolment(**mine, academic_year=this_year(), year_group="4"))
            session.add(ClassPupil(**mine, class_id=class_.id))
            session.add(
                MeasureValue(
                    **mine,
                    measure_id=defs.measure.id,
                    assessment_point_id=world.points["A1"].id,
                    number=Decimal(95 + number % 20),
                    recorded_at=at(number),
                    recorded_by=teacher,
                )
            )
        await write_cells(
            session,
            [
                ObjectiveJudgement(
                    school_id=school.id,
                    pupil_id=pupil.id,
                    objective_id=objective.id,
                    subject_id=defs.subject.id,
                    descriptor_id=defs.descriptors[number % 3].id,
                    assessed_on=date.today(),
                    recorded_at=at(number),
                    recorded_by=teacher,
                    version=number + 1,
                )
                for number, pupil in enumerate(pupils)
            ],
        )
        # Their figures at the point, counted as a grid write counts them.
        await refresh_summaries(
            session,
            school=school,
            pupil_ids=[p.id for p in pupils],
            subject_ids=[defs.subject.id],
            since=date.min,
        )
        await session.commit()

    variables = {
        "s": str(school.id),
        "subject": str(defs.subject.id),
        "objective": str(objective.id),
    }

    async def asked() -> tuple[int, list[dict[str, Any]]]:
        sent, answer = await _counted(
            engine, ask(client, world, "teacher", CLASS_RECORDS, **variables)
        )
        assert "errors" not in answer, answer
        return sent, classes_and_pupils(answer["data"]["school"])["4C"]

    await grow(1, 11)
    small, ten = await asked()
    await grow(11, 201)
    large, two_hundred = await asked()
    assert (len(ten), len(two_hundred)) == (10, 200)
    value = {d.code: d.value for d in defs.descriptors}
    assert all(
        p["cells"][0]["objectiveCode"] == objective.code
        and len(p["judgements"]) == 1
        and p["workingYears"] == [{"curriculumYear": "4", "isSet": False}]
        and p["values"][0]["measureCode"] == defs.measure.code
        and p["enrolments"] == [{"yearGroup": "4"}]
        and p["classes"] == [{"code": "4C"}]
        and p["figures"]
        == [
            {
                "assessmentPointCode": "NOW",
                "curriculumYear": "4",
                "judged": 1,
                "depthScore": float(value[p["cells"][0]["descriptorCode"]]),
            }
        ]
        and p["targets"] == []
        and p["page"]["subjects"][0]["curriculumYear"] == "Year 4"
        for p in two_hundred
    )
    assert small == large


async def _add_roll(
    session: AsyncSession,
    school: School,
    *,
    pupils: int,
    serials: Iterator[int],
    creator: uuid.UUID,
) -> None:
    """A point this term at the school (NOW), and ``pupils`` pupils on its roll."""
    year = this_year()
    session.add(
        AssessmentPoint(
            school_id=school.id,
            academic_year=year,
            code="NOW",
            name="This term",
            position=1,
            assessed_on=date(year, 12, 1),
        )
    )
    for _ in range(pupils):
        await add_school_roster(
            session, school, serial=next(serials), teacher_id=None, job_creator_id=creator
        )


async def test_a_dashboard_s_statements_do_not_grow_with_its_schools(
    client, world, session, engine
):
    trust = world.trusts["A"]
    creator = world.users["trust_admin"].id
    # Trust A's subject and template, shared with every school; each school's own point now.
    await add_definitions(session, trust_id=trust.id)
    await add_template(session, trust_id=trust.id)
    year, serials = this_year(), itertools.count(1)

    async def add(school: School, pupils: int) -> None:
        await _add_roll(session, school, pupils=pupils, serials=serials, creator=creator)

    for school in (world.schools["A1"], world.schools["A2"]):
        await add(school, pupils=1)
    await session.commit()
    definition = {
        "metrics": [{"metric": "PUPILS"}],
        "dimensions": ["SUBJECT"],
        "groups": ["SEX"],
        "points": [{"code": "NOW"}],
        "academicYear": year,
    }
    small, first = await _statements(
        engine, client, world, str(trust.id), DASHBOARD_FIGURES, d=definition
    )
    for index in range(18):
        school = School(
            name=f"Grown {index:02d}",
            urn=f"{300000 + index}",
            phase="primary",
            trust_id=trust.id,
        )
        session.add(school)
        await session.flush()
        await add(school, pupils=2)
        # Trust A's template at each school's own autumn point (of 2025, as the world's).
        session.add(
            AssessmentPoint(
                school_id=school.id,
                academic_year=2025,
                code="AUT",
                name="Autumn",
                position=1,
                assessed_on=date(2025, 12, 12),
            )
        )
    await session.commit()
    large, second = await _statements(
        engine, client, world, str(trust.id), DASHBOARD_FIGURES, d=definition
    )
    for answer, count in ((first, 2), (second, 20)):
        assert "errors" not in answer, answer["errors"]
        schools = nodes(answer["data"]["trust"]["schools"])
        assert len(schools) == count
        assert all(s["report"]["sections"][0]["rows"] for s in schools)
        assert all(t["run"] for s in schools for t in s["reportTemplates"])
    trust_rows = second["data"]["trust"]["report"]["sections"][0]["rows"]
    assert trust_rows[0]["cells"][0]["value"] == 2 + 18 * 2  # all pupils, all schools
    assert len(small) == len(large)


TRUST_FIGURES = """
query ($t: UUID!, $d: ReportDefinitionInput!) {
  trust(id: $t) { report(definition: $d) { sections { rows { keys { dimension value }
    cells { value n } } } } }
}
"""
SCHOOLS_FIGURES = """
query ($t: UUID!, $d: ReportDefinitionInput!) {
  trust(id: $t) { schools { edges { node { id report(definition: $d) {
    sections { rows { keys { dimension value } cells { value n } } } } } } } }
}
"""
BOTH_FIGURES = """
query ($t: UUID!, $d: ReportDefinitionInput!) {
  trust(id: $t) {
    schools { edges { node { id report(definition: $d) {
      sections { rows { keys { dimension value } cells { value n } } } } } } }
    report(definition: $d) { sections { rows { keys { dimension value }
      cells { value n } } } }
  }
}
"""


async def test_a_dashboard_aggregates_its_trust_and_schools_once(client, world, session, engine):
    """Asked in one query, a trust's report and its schools' reports with the same definition
    are aggregated in one statement, and each answers what it answers asked alone."""
    trust = world.trusts["A"]
    creator = world.users["trust_admin"].id
    await add_definitions(session, trust_id=trust.id)
    year, serials = this_year(), itertools.count(1)
    for school, pupils in ((world.schools["A1"], 2), (world.schools["A2"], 3)):
        await _add_roll(session, school, pupils=pupils, serials=serials, creator=creator)
    await session.commit()
    definition = {
        "metrics": [{"metric": "PUPILS"}, {"metric": "PERCENT_SECURED"}],
        "dimensions": ["SUBJECT"],
        "groups": ["SEX"],
        "points": [{"code": "NOW"}],
        "academicYear": year,
    }
    asked = {}
    for name, query in (("trust", TRUST_FIGURES), ("schools", SCHOOLS_FIGURES)):
        asked[name] = await _statements(engine, client, world, str(trust.id), query, d=definition)
    sent, both = await _statements(engine, client, world, str(trust.id), BOTH_FIGURES, d=definition)
    assert "errors" not in both, both["errors"]
    assert both["data"]["trust"]["report"] == asked["trust"][1]["data"]["trust"]["report"]
    assert both["data"]["trust"]["schools"] == asked["schools"][1]["data"]["trust"]["schools"]
    first_cell = both["data"]["trust"]["report"]["sections"][0]["rows"][0]["cells"][0]
    assert first_cell["value"] == 5  # every pupil of the trust

    def aggregations(statements: list[str]) -> int:
        return sum("facts AS" in statement for statement in statements)  # the report CTE

    assert aggregations(asked["trust"][0]) == aggregations(sent) == 1


# --- Limits and errors -------------------------------------------------------------------------
async def test_get_is_refused(client, world):
    answer = await client.get(
        "/graphql", params={"query": "{ me { name } }"}, headers=world.headers("teacher")
    )
    # A query in a link must not run: GET answers no data (a browser gets the explorer page;
    # see test_graphql_http.py).
    assert answer.status_code == 405, answer.text
    assert answer.headers["allow"] == "POST"
    assert "data" not in answer.json()


async def test_a_too_deep_query_is_refused(client, world):
    trust_id = world.trusts["A"].id
    deepest = (
        f'{{ trust(id: "{trust_id}") {{ schools {{ edges {{ node {{ classes {{ edges {{ node '
        "{ pupils { edges { node { id } } } } } } } } } } }"
    )
    assert "errors" not in await ask(client, world, "trust_admin", deepest)
    # Deeper than any query the schema answers: refused for its depth, whatever else is wrong.
    nested = "{ me " + "{ roles " * MAX_DEPTH + "{ role }" + " }" * MAX_DEPTH + " }"
    answer = await client.post(
        "/graphql",
        json={"query": nested},
        headers={**world.headers("trust_admin"), "Accept": GRAPHQL_RESPONSE},
    )
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert any("exceeds maximum operation depth" in e["message"] for e in errors), errors
    assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_too_many_aliases_even_through_fragments_are_refused(client, world):
    fields = " ".join(f"a{i}: name" for i in range(MAX_ALIASES + 1))
    query = "{ me { ...F } } fragment F on Me { " + fields + " }"
    answer = await client.post(
        "/graphql",
        json={"query": query},
        headers={**world.headers("teacher"), "Accept": GRAPHQL_RESPONSE},
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert "aliases" in error["message"]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_too_many_tokens_are_refused(client, world):
    query = "{ me { " + " ".join(["name"] * 3000) + " } }"
    answer = await client.post(
        "/graphql",
        json={"query": query},
        headers={**world.headers("teacher"), "Accept": GRAPHQL_RESPONSE},
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert "token" in error["message"].lower()
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_syntax_errors_unknown_fields_and_bad_ids_are_errors_with_a_code_not_500s(
    client, world
):
    for query, extensions in (
        ("{ me { name ", {"code": "GRAPHQL_PARSE_FAILED"}),
        ("{ me { shoeSize } }", {"code": "GRAPHQL_VALIDATION_FAILED", "field": "shoeSize"}),
        ('{ school(id: "not-a-uuid") { name } }', {"code": "BAD_INPUT", "field": "id"}),
    ):
        answer = await client.post(
            "/graphql", json={"query": query}, headers=world.headers("teacher")
        )
        assert answer.status_code == 200, (query, answer.text)
        (error,) = answer.json()["errors"]
        assert error["extensions"] == extensions, query


async def test_first_over_the_cap_is_bad_input(client, world):
    query = "query ($t: UUID!) { trust(id: $t) { schools(first: 100000) { totalCount } } }"
    answer = await ask(client, world, "trust_admin", query, t=str(world.trusts["A"].id))
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "BAD_INPUT", "field": "first"}


# --- Contract ----------------------------------------------------------------------------------
def test_committed_sdl_matches_the_code() -> None:
    committed = GRAPHQL_SDL_PATH.read_text() if GRAPHQL_SDL_PATH.exists() else ""
    generated = sdl()
    if committed != generated:
        diff = "\n".join(
            difflib.unified_diff(
                committed.splitlines(), generated.splitlines(), "committed", "code", lineterm=""
            )
        )
        pytest.fail(
            "openapi/schema.graphql is out of date: run `markbook openapi` and commit it.\n"
            + diff[:4000],
            pytrace=False,
        )


async def test_pages_follow_the_cursor(client, world):
    query = """
    query ($t: UUID!, $after: String) {
      trust(id: $t) {
        schools(first: 1, after: $after) {
          totalCount edges { node { name } } pageInfo { hasNextPage endCursor }
        }
      }
    }
    """
    trust_id = str(world.trusts["A"].id)
    first = (await ask(client, world, "trust_admin", query, t=trust_id))["data"]["trust"]
    assert nodes(first["schools"]) == [{"name": "School A1"}]
    assert first["schools"]["totalCount"] == 2
    assert first["schools"]["pageInfo"]["hasNextPage"] is True
    after = first["schools"]["pageInfo"]["endCursor"]
    second = (await ask(client, world, "trust_admin", query, t=trust_id, after=after))["data"]
    assert nodes(second["trust"]["schools"]) == [{"name": "School A2"}]
    assert second["trust"]["schools"]["pageInfo"]["hasNextPage"] is False
    bad = await ask(client, world, "trust_admin", query, t=trust_id, after="nonsense")
    assert bad["errors"][0]["extensions"] == {"code": "BAD_INPUT", "field": "after"}


async def test_an_unexpected_error_is_masked_with_the_request_id(client, world, monkeypatch):
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection string postgres://secret")

    monkeypatch.setattr(batches, "points_of_schools", broken)
    query = "query ($s: UUID!) { school(id: $s) { name assessmentPoints { code } } }"
    answer = await client.post(
        "/graphql",
        json={"query": query, "variables": {"s": str(world.schools["A1"].id)}},
        headers=world.headers("school_leader"),
    )
    assert answer.status_code == 200
    (error,) = answer.json()["errors"]
    assert "secret" not in answer.text
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "request_id": answer.headers["x-request-id"],
    }
