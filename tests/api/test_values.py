"""Measure values through the REST API: each kind of measure, the all-or-nothing rule,
re-sends that change nothing, clearing with history, curriculum years, who may write and read,
idempotency keys, and a write of 10,000 values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.audit import AuditEvent
from app.db.base import utcnow
from app.db.curriculum import Descriptor, Measure, Scale
from app.db.markbook import MeasureValue, MeasureValueHistory, WorkingYear
from app.db.queries import bulk
from app.db.roster import Enrolment, Pupil
from app.db.tenancy import AssessmentPoint
from app.main import create_app
from tests.conftest import make_client
from tests.support.definitions import add_definitions
from tests.support.roster import add_pupil, add_school_roster, this_year
from tests.support.world import World


@dataclass
class Setup:
    url: str
    point: AssessmentPoint  # A1's, in this academic year
    measures: dict[str, Measure]  # by code
    other_scale: list[Descriptor]  # descriptors of a scale no measure here uses
    taught: Pupil  # in the world teacher's class, Year 4
    untaught: Pupil  # Year 4, not taught by the world teacher
    class_id: uuid.UUID  # the taught pupil's class

    def row(self, measure: str, value: Any, pupil: Pupil | None = None, **more: Any) -> dict:
        return {
            "pupil_id": str((pupil or self.taught).id),
            "measure_id": str(self.measures[measure].id),
            "value": value,
            **more,
        }

    def body(self, *rows: dict[str, Any]) -> dict[str, Any]:
        return {"assessment_point_id": str(self.point.id), "values": list(rows)}


def _measure(code: str, kind: str, **more: Any) -> Measure:
    return Measure(name=code.title(), code=code, kind=kind, **more)


async def build(session: AsyncSession, world: World) -> Setup:
    school = world.schools["A1"]
    mine = await add_definitions(session, school_id=school.id)  # MA, depth scale, KS2-MA-SS
    trust = await add_definitions(session, trust_id=school.trust_id)
    other_school = await add_definitions(session, school_id=world.schools["A2"].id)
    attainment = Scale(name="Teacher assessment", kind="attainment", school_id=school.id)
    spare = Scale(name="Spare", kind="other", school_id=school.id)
    session.add_all([attainment, spare])
    await session.flush()
    ta = [
        Descriptor(scale_id=attainment.id, code=c, label=c, value=Decimal(v), band=b, position=v)
        for v, (c, b) in enumerate([("WTS", "below"), ("EXS", "at"), ("GDS", "above")], 1)
    ]
    ta.append(
        Descriptor(
            scale_id=attainment.id, code="OLD", label="Old", value=9, position=9, archived=True
        )
    )
    other = [
        Descriptor(scale_id=spare.id, code=c, label=c, value=Decimal(v), position=v)
        for v, c in enumerate(["RED", "AMBER", "GREEN"], 1)
    ]
    subject = mine.subject.id
    measures = [
        _measure(
            "MATH-TA", "scale", scale_id=attainment.id, subject_id=subject, school_id=school.id
        ),
        _measure(
            "MATH-TA-YR",
            "scale",
            scale_id=attainment.id,
            subject_id=subject,
            records_working_year=True,
            school_id=school.id,
        ),
        _measure("AGE", "number", minimum=4, maximum=16, decimals=1, school_id=school.id),
        _measure("NOTE", "text", school_id=school.id),
        _measure("SEN-REVIEW", "boolean", school_id=school.id),
        _measure("TESTED-ON", "date", school_id=school.id),
        _measure("GONE", "text", archived=True, school_id=school.id),
    ]
    session.add_all([*ta, *other, *measures])
    point = AssessmentPoint(
        school_id=school.id,
        academic_year=this_year(),
        code="VAL",
        name="Values",
        position=5,
        assessed_on=date.today(),
    )
    session.add(point)
    roster = await add_school_roster(
        session,
        school,
        serial=1,
        teacher_id=world.users["teacher"].id,
        job_creator_id=world.users["school_leader"].id,
    )
    untaught = await add_pupil(session, school, 2)
    session.add(
        Enrolment(
            pupil_id=untaught.id, school_id=school.id, academic_year=this_year(), year_group="4"
        )
    )
    await session.commit()
    by_code = {m.code: m for m in measures}
    by_code["KS2"] = mine.measure
    by_code["TRUST-KS2"] = trust.measure
    by_code["A2-KS2"] = other_school.measure
    return Setup(
        url=f"/v1/schools/{school.id}/values",
        point=point,
        measures=by_code,
        other_scale=other,
        taught=roster.pupil,
        untaught=untaught,
        class_id=roster.class_.id,
    )


async def count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    """Rows now, read on a connection of its own (so it sees what the app committed)."""
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return (await connection.execute(query)).scalar_one()


def fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [error["field"] for error in response.json()["errors"]]


# --- Each kind of measure ------------------------------------------------------------------
async def test_each_kind_of_measure_takes_its_values_and_reads_them_back(
    client, world, session, engine
):
    s = await build(session, world)
    leader = world.headers("school_leader")
    body = s.body(
        s.row("KS2", 104),
        s.row("MATH-TA", "EXS"),
        s.row("AGE", "9.5"),
        s.row("NOTE", "  Reads with expression  "),
        s.row("SEN-REVIEW", "yes"),
        s.row("TESTED-ON", "2025-10-12"),
        s.row("TRUST-KS2", 99.0),
    )
    response = await client.post(s.url, json=body, headers=leader)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["written"], answer["cleared"], answer["unchanged"]) == (7, 0, 0)
    assert answer["rows"] == ["written"] * 7
    assert await count(engine, MeasureValueHistory) == 7

    listed = await client.get(s.url, params={"pupil_id": str(s.taught.id)}, headers=leader)
    assert listed.status_code == 200, listed.text
    by_measure = {item["measure_id"]: item for item in listed.json()["items"]}
    read = {
        code: by_measure[str(m.id)] for code, m in s.measures.items() if str(m.id) in by_measure
    }
    assert {code: item["value"] for code, item in read.items()} == {
        "KS2": 104,
        "MATH-TA": "EXS",
        "AGE": 9.5,
        "NOTE": "Reads with expression",
        "SEN-REVIEW": True,
        "TESTED-ON": "2025-10-12",
        "TRUST-KS2": 99,
    }
    assert read["KS2"]["band"] == "at" and read["TRUST-KS2"]["band"] == "below"
    assert read["MATH-TA"]["band"] == "at" and read["MATH-TA"]["descriptor_id"] is not None
    assert read["AGE"]["band"] is None and read["NOTE"]["curriculum_year"] is None
    item = read["KS2"]
    assert item["recorded_by"] == str(world.users["school_leader"].id)
    assert item["assessment_point_id"] == str(s.point.id)
    assert len({i["recorded_at"] for i in read.values()}) == 1  # one time for the write
    audit = await count(engine, AuditEvent, AuditEvent.entity_type == "measure_values")
    assert audit == 1


async def test_values_a_measure_does_not_take_are_refused_naming_the_row_and_nothing_is_stored(
    client, world, session, engine
):
    s = await build(session, world)
    body = s.body(
        s.row("KS2", 104),  # good
        s.row("KS2", 121, pupil=s.untaught),  # out of range
        s.row("AGE", 9.55, pupil=s.untaught),  # too many decimals
        s.row("MATH-TA", "XYZ", pupil=s.untaught),  # not on the scale
        s.row("NOTE", "   "),  # blank
        s.row("SEN-REVIEW", "perhaps"),
        s.row("TESTED-ON", "12/10/2025"),
        s.row("TRUST-KS2", True),  # not a number
        s.row("MATH-TA", "OLD"),  # archived descriptor
    )
    response = await client.post(s.url, json=body, headers=world.headers("school_leader"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert fields(response) == [f"body.values.{i}.value" for i in range(1, 9)]
    reasons = {e["field"]: e["reason"] for e in problem["errors"]}
    assert "between 80 and 120: 121 is not" in reasons["body.values.1.value"]
    assert "at most 1 decimal places" in reasons["body.values.2.value"]
    assert "no descriptor 'XYZ'" in reasons["body.values.3.value"]
    assert "archived" in reasons["body.values.8.value"]
    assert problem["detail"].startswith("nothing was stored: ")
    assert problem["error_count"] == 8
    assert await count(engine, MeasureValue) == 0
    assert await count(engine, MeasureValueHistory) == 0
    assert await count(engine, AuditEvent, AuditEvent.entity_type == "measure_values") == 0


async def test_a_descriptor_of_another_scale_is_refused(client, world, session, engine):
    s = await build(session, world)
    green = s.other_scale[2]
    body = s.body(s.row("MATH-TA", "GREEN"), s.row("MATH-TA", str(green.id), pupil=s.untaught))
    response = await client.post(s.url, json=body, headers=world.headers("school_leader"))
    assert response.status_code == 422, response.text
    assert fields(response) == ["body.values.0.value", "body.values.1.value"]
    assert "use one of WTS, EXS, GDS" in response.json()["errors"][0]["reason"]
    assert await count(engine, MeasureValue) == 0


async def test_rows_naming_the_wrong_measure_point_or_pupil_are_refused_by_field(
    client, world, session, engine
):
    s = await build(session, world)
    other_point = world.points["A2"]
    b1_pupil = await add_pupil(session, world.schools["B1"], 7)
    await session.commit()
    rows = [
        s.row("A2-KS2", 100),  # another school's measure
        s.row("GONE", "x"),  # archived measure
        {**s.row("KS2", 100), "measure_id": str(uuid.uuid4())},
        s.row("KS2", 100, assessment_point_id=str(other_point.id)),
        s.row("KS2", 100, pupil=b1_pupil),
        s.row("KS2", 100, pupil=s.untaught),
        s.row("KS2", 101, pupil=s.untaught),  # the same cell again
        s.row("NOTE", "x", curriculum_year="4"),  # not a curriculum measure
    ]
    response = await client.post(
        s.url, json={"values": [s.row("KS2", 100)]}, headers=world.headers("school_leader")
    )
    assert response.status_code == 422, response.text
    assert fields(response) == ["body.values.0.assessment_point_id"]  # none, here or for all
    body = s.body(*rows)
    response = await client.post(s.url, json=body, headers=world.headers("school_leader"))
    assert response.status_code == 422, response.text
    assert fields(response) == [
        "body.values.0.measure_id",
        "body.values.1.measure_id",
        "body.values.2.measure_id",
        "body.values.3.assessment_point_id",
        "body.values.4.pupil_id",
        "body.values.6.pupil_id",
        "body.values.7.curriculum_year",
    ]
    reasons = [e["reason"] for e in response.json()["errors"]]
    assert "archived" in reasons[1]
    assert "also in row 5" in reasons[5]
    assert await count(engine, MeasureValueHistory) == 0


async def test_a_malformed_body_is_a_422_naming_the_field(client, world, session):
    s = await build(session, world)
    leader = world.headers("school_leader")
    missing_value = {k: v for k, v in s.row("KS2", 100).items() if k != "value"}
    for body, field in [
        (s.body(missing_value), "body.values.0.value"),
        (s.body({**s.row("KS2", 100), "pupil_id": "nope"}), "body.values.0.pupil_id"),
        (s.body({**s.row("KS2", 100), "extra": 1}), "body.values.0.extra"),
        (s.body(s.row("NOTE", "a\x00b")), "body.values.0.value"),
        (s.body(), "body.values"),
    ]:
        response = await client.post(s.url, json=body, headers=leader)
        assert response.status_code == 422, response.text
        assert field in fields(response)
    # Optional fields sent as null are as good as left out.
    explicit = s.row("KS2", None, assessment_point_id=None, curriculum_year=None)
    response = await client.post(s.url, json=s.body(explicit), headers=leader)
    assert response.status_code == 200, response.text


# --- Re-sending, changing and clearing -----------------------------------------------------
async def test_resending_the_same_values_writes_nothing(client, world, session, engine):
    s = await build(session, world)
    leader = world.headers("school_leader")
    body = s.body(
        s.row("KS2", 104), s.row("AGE", "9.5"), s.row("MATH-TA", "GDS"), s.row("NOTE", "ok")
    )
    first = await client.post(s.url, json=body, headers=leader)
    assert first.status_code == 200, first.text
    history = await count(engine, MeasureValueHistory)
    audit = await count(engine, AuditEvent)

    # The same values, written differently: still the same values.
    again = s.body(
        s.row("KS2", "104"), s.row("AGE", 9.50), s.row("MATH-TA", "gds"), s.row("NOTE", " ok ")
    )
    response = await client.post(s.url, json=again, headers=leader)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["written"], answer["unchanged"]) == (0, 4)
    assert answer["rows"] == ["unchanged"] * 4
    assert await count(engine, MeasureValueHistory) == history
    assert await count(engine, AuditEvent) == audit

    changed = s.body(s.row("KS2", 105), s.row("AGE", "9.5"))
    response = await client.post(s.url, json=changed, headers=leader)
    assert response.json()["rows"] == ["written", "unchanged"]
    assert await count(engine, MeasureValueHistory) == history + 1
    async with engine.connect() as connection:
        number = (
            await connection.execute(
                sa.select(MeasureValue.number).where(
                    MeasureValue.measure_id == s.measures["KS2"].id
                )
            )
        ).scalar_one()
    assert Decimal(number) == 105


async def test_clearing_a_value_removes_it_and_keeps_its_history(client, world, session, engine):
    s = await build(session, world)
    leader = world.headers("school_leader")
    await client.post(s.url, json=s.body(s.row("KS2", 104)), headers=leader)
    await client.post(s.url, json=s.body(s.row("KS2", 108)), headers=leader)
    response = await client.post(s.url, json=s.body(s.row("KS2", None)), headers=leader)
    assert response.status_code == 200, response.text
    assert (response.json()["cleared"], response.json()["written"]) == (1, 0)
    assert await count(engine, MeasureValue) == 0

    history = await client.get(
        f"/v1/pupils/{s.taught.id}/values/history",
        params={"measure_id": str(s.measures["KS2"].id)},
        headers=leader,
    )
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert [item["value"] for item in items] == [None, 108, 104]  # newest first
    assert items[0]["band"] is None and items[1]["band"] == "at"

    # Clearing what is already clear changes nothing.
    response = await client.post(s.url, json=s.body(s.row("KS2", None)), headers=leader)
    assert (response.json()["cleared"], response.json()["unchanged"]) == (0, 1)
    assert await count(engine, MeasureValueHistory) == 3

    # The history pages newest first.
    first = await client.get(
        f"/v1/pupils/{s.taught.id}/values/history", params={"limit": 2}, headers=leader
    )
    second = await client.get(
        f"/v1/pupils/{s.taught.id}/values/history",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=leader,
    )
    assert [i["value"] for i in first.json()["items"] + second.json()["items"]] == [
        None,
        108,
        104,
    ]
    assert second.json()["next_cursor"] is None


# --- Curriculum measures -------------------------------------------------------------------
async def test_curriculum_measures_record_the_working_year(client, world, session, engine):
    s = await build(session, world)
    leader = world.headers("school_leader")
    # The untaught pupil's teacher has set them to work within Year 3's maths curriculum.
    session.add(
        WorkingYear(
            pupil_id=s.untaught.id,
            subject_id=s.measures["MATH-TA-YR"].subject_id,
            academic_year=this_year(),
            school_id=s.untaught.school_id,
            curriculum_year=3,
            set_at=utcnow(),
            set_by=world.users["teacher"].id,
            version=1,
        )
    )
    await session.commit()
    body = s.body(
        s.row("MATH-TA-YR", "EXS"),  # Year 4 pupil: their year group's
        s.row("MATH-TA-YR", "WTS", pupil=s.untaught),  # working within Year 3
    )
    response = await client.post(s.url, json=body, headers=leader)
    assert response.status_code == 200, response.text
    listed = await client.get(
        s.url, params={"measure_id": str(s.measures["MATH-TA-YR"].id)}, headers=leader
    )
    years = {item["pupil_id"]: item["curriculum_year"] for item in listed.json()["items"]}
    assert years == {str(s.taught.id): "4", str(s.untaught.id): "3"}

    # An explicit year overrides; the same value in another year is a change.
    override = s.body(s.row("MATH-TA-YR", "EXS", curriculum_year="R"))
    response = await client.post(s.url, json=override, headers=leader)
    assert response.json()["rows"] == ["written"]
    listed = await client.get(s.url, params={"pupil_id": str(s.taught.id)}, headers=leader)
    assert listed.json()["items"][0]["curriculum_year"] == "R"

    bad = s.body(s.row("MATH-TA-YR", "EXS", curriculum_year="3-4"))
    response = await client.post(s.url, json=bad, headers=leader)
    assert response.status_code == 422
    assert fields(response) == ["body.values.0.curriculum_year"]


async def test_a_curriculum_value_for_a_pupil_with_no_year_group_needs_its_year(
    client, world, session
):
    s = await build(session, world)
    newcomer = await add_pupil(session, world.schools["A1"], 3)  # not enrolled this year
    await session.commit()
    leader = world.headers("school_leader")
    response = await client.post(
        s.url, json=s.body(s.row("MATH-TA-YR", "EXS", pupil=newcomer)), headers=leader
    )
    assert response.status_code == 422
    assert fields(response) == ["body.values.0.curriculum_year"]
    response = await client.post(
        s.url,
        json=s.body(s.row("MATH-TA-YR", "EXS", pupil=newcomer, curriculum_year=4)),
        headers=leader,
    )
    assert response.status_code == 200, response.text


# --- Who may write and read ----------------------------------------------------------------
async def test_a_teacher_writes_for_their_pupils_only(client, world, session, engine):
    s = await build(session, world)
    teacher = world.headers("teacher")
    body = s.body(s.row("KS2", 100), s.row("KS2", 100, pupil=s.untaught))
    response = await client.post(s.url, json=body, headers=teacher)
    assert response.status_code == 422, response.text
    assert fields(response) == ["body.values.1.pupil_id"]
    assert await count(engine, MeasureValue) == 0

    response = await client.post(s.url, json=s.body(s.row("KS2", 100)), headers=teacher)
    assert response.status_code == 200, response.text
    leader = world.headers("school_leader")
    await client.post(s.url, json=s.body(s.row("KS2", 90, pupil=s.untaught)), headers=leader)

    # A teacher reads their pupils' values only; a leader reads all.
    seen = await client.get(s.url, headers=teacher)
    assert [i["pupil_id"] for i in seen.json()["items"]] == [str(s.taught.id)]
    assert len((await client.get(s.url, headers=leader)).json()["items"]) == 2
    hidden = await client.get(f"/v1/pupils/{s.untaught.id}/values/history", headers=teacher)
    assert hidden.status_code == 404


async def test_callers_who_may_not_write_values_are_refused(client, world, session, engine):
    s = await build(session, world)
    world.grants["parent"].pupil_id = s.taught.id  # reads their child's values: may not write
    session.add(world.grants["parent"])
    await session.commit()
    body = s.body(s.row("KS2", 100))
    for name, status in [
        ("trust_analyst", 403),
        ("parent", 403),
        ("pupil", 404),  # a pupil grant naming nobody reaches nothing
        ("governor", 404),
        ("other_school_leader", 404),
        ("other_trust_admin", 404),
        ("integration_roster_read", 404),
    ]:
        response = await client.post(s.url, json=body, headers=world.headers(name))
        assert response.status_code == status, (name, response.text)
    for name in ("integration", "trust_admin", "system_admin"):
        response = await client.post(s.url, json=body, headers=world.headers(name))
        assert response.status_code == 200, (name, response.text)
    assert await count(engine, MeasureValue) == 1


async def test_pupils_and_parents_read_their_own_values_only(client, world, session):
    s = await build(session, world)
    leader = world.headers("school_leader")
    body = s.body(s.row("KS2", 100), s.row("KS2", 90, pupil=s.untaught))
    assert (await client.post(s.url, json=body, headers=leader)).status_code == 200
    world.grants["parent"].pupil_id = s.taught.id
    session.add(world.grants["parent"])
    await session.commit()
    parent = world.headers("parent")
    seen = await client.get(s.url, headers=parent)
    assert seen.status_code == 200, seen.text
    assert [i["pupil_id"] for i in seen.json()["items"]] == [str(s.taught.id)]
    own = await client.get(f"/v1/pupils/{s.taught.id}/values/history", headers=parent)
    assert [i["value"] for i in own.json()["items"]] == [100]
    other = await client.get(f"/v1/pupils/{s.untaught.id}/values/history", headers=parent)
    assert other.status_code == 404
    analyst = await client.get(s.url, headers=world.headers("trust_analyst"))
    assert len(analyst.json()["items"]) == 2
    for name in ("governor", "other_school_leader", "pupil"):  # the pupil grant names nobody
        response = await client.get(s.url, headers=world.headers(name))
        assert response.status_code == 404, (name, response.text)


# --- Reading and filtering -----------------------------------------------------------------
async def test_current_values_filter_and_page(client, world, session):
    s = await build(session, world)
    leader = world.headers("school_leader")
    first = await client.post(
        s.url, json=s.body(s.row("KS2", 100), s.row("NOTE", "a")), headers=leader
    )
    since = first.json()["recorded_at"]
    later = datetime.fromisoformat(since) + timedelta(microseconds=1)
    await client.post(s.url, json=s.body(s.row("KS2", 95, pupil=s.untaught)), headers=leader)

    async def pupils(**params: Any) -> list[tuple[str, str]]:
        response = await client.get(s.url, params=params, headers=leader)
        assert response.status_code == 200, response.text
        return [(i["pupil_id"], i["measure_id"]) for i in response.json()["items"]]

    ks2 = str(s.measures["KS2"].id)
    assert len(await pupils()) == 3
    assert await pupils(measure_id=ks2, class_id=str(s.class_id)) == [(str(s.taught.id), ks2)]
    assert await pupils(updated_since=later.isoformat()) == [(str(s.untaught.id), ks2)]
    assert await pupils(assessment_point_id=str(world.points["A1"].id)) == []

    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(s.url, params=params, headers=leader)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3 and len({(i["pupil_id"], i["measure_id"]) for i in seen}) == 3
    bad = await client.get(s.url, params={"cursor": "nonsense"}, headers=leader)
    assert bad.status_code == 422


# --- Idempotency ---------------------------------------------------------------------------
async def test_an_idempotency_key_replays_the_first_answer(client, world, session, engine):
    s = await build(session, world)
    headers = {**world.headers("integration"), "Idempotency-Key": "values-1"}
    body = s.body(s.row("KS2", 100))
    first = await client.post(s.url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    # Meanwhile a leader changes the value: a replay still answers as the first time.
    await client.post(s.url, json=s.body(s.row("KS2", 101)), headers=world.headers("school_leader"))
    again = await client.post(s.url, json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await count(engine, MeasureValueHistory) == 2
    other = await client.post(s.url, json=s.body(s.row("KS2", 102)), headers=headers)
    assert other.status_code == 422
    assert fields(other) == ["header.idempotency-key"]


# --- Volume --------------------------------------------------------------------------------
async def test_ten_thousand_values_in_one_write(settings, engine, world, session):
    s = await build(session, world)
    school = world.schools["A1"]
    now = utcnow()
    pupils = [
        {
            "id": uuid.uuid4(),
            "school_id": school.id,
            "external_id": f"BULK-{i}",
            "upn": None,
            "upn_temporary": False,
            "legal_forename": f"Bulk{i}",
            "legal_surname": "Pupil",
            "date_of_birth": date(2016, 1, 1),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(10_000)
    ]
    await bulk.write_rows(session, Pupil.__table__, pupils)  # type: ignore[attr-defined]
    await session.commit()
    big = create_app(settings.model_copy(update={"max_body_bytes": 8 * 1024 * 1024}), engine=engine)
    body = {
        "assessment_point_id": str(s.point.id),
        "values": [
            {
                "pupil_id": str(p["id"]),
                "measure_id": str(s.measures["KS2"].id),
                "value": 80 + i % 41,
            }
            for i, p in enumerate(pupils)
        ],
    }
    leader = world.headers("school_leader")
    async with make_client(big) as client:
        response = await client.post(s.url, json=body, headers=leader)
        assert response.status_code == 200, response.text[:500]
        answer = response.json()
        assert (answer["written"], answer["unchanged"], answer["rows"]) == (10_000, 0, None)
        assert await count(engine, MeasureValue) == 10_000
        assert await count(engine, MeasureValueHistory) == 10_000

        for row in body["values"][:100]:
            row["value"] = 120
        body["values"][17]["value"] = 200  # one bad row: nothing changes
        response = await client.post(s.url, json=body, headers=leader)
        assert response.status_code == 422
        assert fields(response) == ["body.values.17.value"]
        assert await count(engine, MeasureValueHistory) == 10_000

        body["values"][17]["value"] = 120
        response = await client.post(s.url, json=body, headers=leader)
        assert response.status_code == 200, response.text[:500]
        changed = sum(1 for i in range(100) if i % 41 != 40)  # 40 and 81 were 120 already
        assert (response.json()["written"], response.json()["unchanged"]) == (
            changed,
            10_000 - changed,
        )
        assert await count(engine, MeasureValueHistory) == 10_000 + changed
        top = 100 + sum(1 for i in range(100, 10_000) if i % 41 == 40)
        assert await count(engine, MeasureValue, MeasureValue.number == 120) == top
