"""The markbook grid through the API: a teacher records a class's judgements and reads them
back (now and as at any date), every write is kept, stale grids are refused with 412, bad
cells are named and store nothing, and working years move pupils onto another year's
curriculum and figures."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.db.markbook import JudgementState, JudgementSummary, ObjectiveJudgement
from app.db.tenancy import AssessmentPoint
from app.domain.calendar import AcademicYear
from tests.support.markbook import Markbook, build_markbook


@pytest.fixture
async def mb(session, client, world) -> Markbook:
    return await build_markbook(session, client, world)


async def _count(session, model, *where) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


async def test_a_teacher_records_a_class_grid_and_reads_it_back(client, world, mb, session):
    teacher = world.headers("teacher")
    empty = await client.get(mb.url, params=mb.grid_query(), headers=teacher)
    assert empty.status_code == 200, empty.text
    grid = empty.json()
    assert empty.headers["ETag"] == f'"{grid["version"]}"'
    assert [p["id"] for p in grid["pupils"]] == sorted(
        (str(p.id) for p in mb.pupils),
        key=lambda i: next(p.legal_forename for p in mb.pupils if str(p.id) == i),
    )
    assert {p["working_year"] for p in grid["pupils"]} == {"4"}
    assert {o["curriculum_years"] for o in grid["objectives"]} == {"4"}
    assert len(grid["objectives"]) == len(mb.objectives["4"])
    assert [d["code"] for d in grid["scales"][0]["descriptors"]] == ["B", "D", "S", "G"]
    assert [d["secure"] for d in grid["scales"][0]["descriptors"]] == [False, False, True, True]
    assert grid["cells"] == []

    cells = [mb.cell(p, o, "S" if (p + o) % 2 else "D") for p in range(4) for o in range(10)]
    cells[0]["note"] = "Used a bar model unprompted."
    saved = await client.post(mb.url, json={"cells": cells}, headers=teacher)
    assert saved.status_code == 200, saved.text
    assert saved.json()["written"] == 40
    assert saved.headers["ETag"] == f'"{saved.json()["version"]}"'

    again = await client.get(mb.url, params=mb.grid_query(), headers=teacher)
    read = {(c["pupil_id"], c["objective_id"]): c for c in again.json()["cells"]}
    assert len(read) == 40
    first = read[cells[0]["pupil_id"], cells[0]["objective_id"]]
    assert (first["descriptor"], first["note"], first["assessed_on"]) == (
        "D",
        "Used a bar model unprompted.",
        date.today().isoformat(),
    )
    assert first["recorded_by"] == str(world.users["teacher"].id)
    assert again.json()["version"] == saved.json()["version"]
    unchanged = await client.get(
        mb.url, params=mb.grid_query(), headers={**teacher, "If-None-Match": again.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    assert await _count(session, ObjectiveJudgement) == 40
    events = await client.get(
        "/v1/audit-events",
        params={"entity_type": "objective_judgements"},
        headers=world.headers("school_leader"),
    )
    [event] = events.json()["items"]
    assert (event["actor_id"], event["after"]["written"], event["after"]["pupils"]) == (
        str(world.users["teacher"].id),
        40,
        4,
    )


async def test_every_write_is_kept_and_clearing_is_recorded(client, world, mb, session):
    teacher = world.headers("teacher")
    for descriptor in ("D", "S", None):
        response = await client.post(
            mb.url, json={"cells": [mb.cell(0, 0, descriptor)]}, headers=teacher
        )
        assert response.status_code == 200, response.text
    history = (
        await session.scalars(
            sa.select(ObjectiveJudgement.descriptor_id).order_by(ObjectiveJudgement.version)
        )
    ).all()
    assert len(history) == 3 and history[-1] is None and None not in history[:2]
    grid = (await client.get(mb.url, params=mb.grid_query(), headers=teacher)).json()
    assert [c["descriptor"] for c in grid["cells"]] == [None]


async def test_the_grid_as_at_a_date_shows_what_stood_then(client, world, mb):
    teacher = world.headers("teacher")
    today = date.today()
    earlier, earliest = today - timedelta(days=20), today - timedelta(days=40)
    for descriptor, day in (("B", earlier), ("S", today), ("G", earliest)):
        body = {"assessed_on": day.isoformat(), "cells": [mb.cell(0, 0, descriptor)]}
        assert (await client.post(mb.url, json=body, headers=teacher)).status_code == 200

    async def standing(as_at: date | None) -> list[str | None]:
        query = mb.grid_query(**({} if as_at is None else {"as_at": as_at.isoformat()}))
        grid = (await client.get(mb.url, params=query, headers=teacher)).json()
        return [c["descriptor"] for c in grid["cells"]]

    # The back-dated G is kept, but S (assessed later) still stands today.
    assert await standing(None) == ["S"]
    assert await standing(today) == ["S"]
    assert await standing(earlier) == ["B"]
    assert await standing(earlier - timedelta(days=1)) == ["G"]
    assert await standing(earliest - timedelta(days=1)) == []
    future = await client.get(
        mb.url, params=mb.grid_query(as_at=(today + timedelta(days=1)).isoformat()), headers=teacher
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "query.as_at"


async def test_a_stale_grid_gets_412_with_the_cells_changed_since(client, world, mb, session):
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    read = await client.get(mb.url, params=mb.grid_query(), headers=teacher)
    etag = read.headers["ETag"]
    colleague = await client.post(mb.url, json={"cells": [mb.cell(1, 2, "G")]}, headers=leader)
    assert colleague.status_code == 200

    # A different cell of the same grid: still refused, the teacher has not seen the change.
    stale = await client.post(
        mb.url,
        params={"class_id": str(mb.class_id)},
        json={"cells": [mb.cell(0, 0, "S")]},
        headers={**teacher, "If-Match": etag},
    )
    assert stale.status_code == 412, stale.text
    problem = stale.json()
    assert problem["type"] == "/problems/precondition-failed"
    assert [(c["pupil_id"], c["objective_id"], c["descriptor"]) for c in problem["cells"]] == [
        (str(mb.pupils[1].id), mb.objectives["4"][2]["id"], "G")
    ]
    assert await _count(session, ObjectiveJudgement) == 1

    fresh = await client.post(
        mb.url,
        params={"class_id": str(mb.class_id)},
        json={"cells": [mb.cell(0, 0, "S")]},
        headers={**teacher, "If-Match": f'"{problem["version"]}"'},
    )
    assert fresh.status_code == 200, fresh.text
    follow_on = await client.post(
        mb.url,
        params={"class_id": str(mb.class_id)},
        json={"cells": [mb.cell(2, 0, "D")]},
        headers={**teacher, "If-Match": fresh.headers["ETag"]},
    )
    assert follow_on.status_code == 200, follow_on.text
    bad = await client.post(
        mb.url, json={"cells": [mb.cell(2, 0, "D")]}, headers={**teacher, "If-Match": "yesterday"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "header.if-match"


async def test_an_etag_the_grid_has_not_reached_gets_412_not_an_overwrite(
    client, world, mb, session
):
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    colleague = await client.post(mb.url, json={"cells": [mb.cell(1, 2, "G")]}, headers=leader)
    assert colleague.status_code == 200
    now = colleague.json()["version"]
    for ahead in ('"999999999999999999"', f'"{now + 1}"', f'W/"{now + 5}"'):
        refused = await client.post(
            mb.url,
            params={"class_id": str(mb.class_id)},
            json={"cells": [mb.cell(1, 2, "B")]},
            headers={**teacher, "If-Match": ahead},
        )
        assert refused.status_code == 412, refused.text
        problem = refused.json()
        assert problem["type"] == "/problems/precondition-failed"
        assert problem["version"] == now and problem["cells"] == []
    states = (await session.execute(sa.select(JudgementState.version))).scalars().all()
    assert states == [now] and await _count(session, ObjectiveJudgement) == 1

    # The version the problem gives is one the grid has reached: the write goes through.
    written = await client.post(
        mb.url,
        params={"class_id": str(mb.class_id)},
        json={"cells": [mb.cell(1, 2, "B")]},
        headers={**teacher, "If-Match": f'"{now}"'},
    )
    assert written.status_code == 200, written.text
    assert written.json()["version"] == now + 1


async def test_bad_cells_are_named_and_nothing_is_stored(client, world, mb, session):
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    other_school = world.schools["A2"].id
    pack = await client.post(
        f"/v1/schools/{other_school}/starter-pack", headers=world.headers("other_school_leader")
    )
    assert pack.status_code == 200
    frameworks = await client.get(
        "/v1/frameworks",
        params={"school_id": str(other_school)},
        headers=world.headers("other_school_leader"),
    )
    foreign_framework = frameworks.json()["items"][0]["id"]
    foreign = await client.get(
        f"/v1/frameworks/{foreign_framework}/objectives",
        params={"limit": 1},
        headers=world.headers("other_school_leader"),
    )
    foreign_objective = foreign.json()["items"][0]["id"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    cells = [
        mb.cell(0, 0, "S"),  # good
        mb.cell(0, 1, "EXS"),  # a teacher-assessment descriptor, not on the depth scale
        {**mb.cell(0, 2, "S"), "objective_id": foreign_objective},
        {**mb.cell(0, 3, "S"), "pupil_id": str(mb.other_pupil.id)},  # not the teacher's
        mb.cell(1, 0, "S", assessed_on=tomorrow),
        mb.cell(0, 0, "G"),  # the same cell again
    ]
    response = await client.post(mb.url, json={"cells": cells}, headers=teacher)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["reason"][:20]) for e in response.json()["errors"]] == [
        ("body.cells.1.descriptor", "not on this framewor"),
        ("body.cells.2.objective_id", "no such objective in"),
        ("body.cells.3.pupil_id", "no such pupil in thi"),
        ("body.cells.4.assessed_on", "cannot be in the fut"),
        ("body.cells.5.objective_id", "the same cell as bod"),
    ]
    assert await _count(session, ObjectiveJudgement) == 0
    assert await _count(session, JudgementState) == 0

    # The leader may record for the pupil the teacher does not teach.
    ok = await client.post(
        mb.url,
        json={"cells": [{**mb.cell(0, 3, "S"), "pupil_id": str(mb.other_pupil.id)}]},
        headers=leader,
    )
    assert ok.status_code == 200, ok.text


async def test_who_may_read_and_write_the_markbook(client, world, mb):
    cells = {"cells": [mb.cell(0, 0, "S")]}
    for who, read, write in (
        ("school_leader", 200, 200),
        ("trust_admin", 200, 200),
        ("integration", 200, 200),
        ("trust_analyst", 200, 403),
        ("teacher", 200, 200),
        ("governor", 404, 404),
        ("other_school_leader", 404, 404),
        ("other_trust_admin", 404, 404),
        ("integration_roster_read", 404, 404),
    ):
        headers = world.headers(who)
        got = await client.get(mb.url, params=mb.grid_query(), headers=headers)
        assert got.status_code == read, (who, got.text)
        sent = await client.post(mb.url, json=cells, headers=headers)
        assert sent.status_code == write, (who, sent.text)
    # A teacher reading another class's grid sees none of its pupils.
    other = await client.get(
        mb.url,
        params={"class_id": str(mb.other_class_id), "subject_id": mb.subject_id},
        headers=world.headers("teacher"),
    )
    assert other.status_code == 200 and other.json()["pupils"] == []


async def test_a_retried_write_with_its_idempotency_key_is_not_recorded_twice(
    client, world, mb, session
):
    headers = {**world.headers("teacher"), "Idempotency-Key": "grid-write-1"}
    first = await client.post(mb.url, json={"cells": [mb.cell(0, 0, "S")]}, headers=headers)
    again = await client.post(mb.url, json={"cells": [mb.cell(0, 0, "S")]}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await _count(session, ObjectiveJudgement) == 1


async def test_working_years_move_a_pupil_to_another_years_curriculum(client, world, mb, session):
    teacher = world.headers("teacher")
    pupil_id, subject_id = mb.pupils[0].id, uuid.UUID(mb.subject_id)
    other_id, untaught_id = mb.pupils[1].id, mb.other_pupil.id
    year3 = mb.objectives["3"][0]
    years_url = f"/v1/schools/{mb.school_id}/working-years"
    body = {
        "rows": [{"pupil_id": str(pupil_id), "subject_id": mb.subject_id, "curriculum_year": "Y3"}]
    }
    saved = await client.post(years_url, json=body, headers=teacher)
    assert saved.status_code == 200, saved.text

    grid = (await client.get(mb.url, params=mb.grid_query(), headers=teacher)).json()
    placed = {p["id"]: (p["working_year"], p["working_year_set"]) for p in grid["pupils"]}
    assert placed[str(pupil_id)] == ("3", True)
    assert placed[str(other_id)] == ("4", False)
    assert {o["curriculum_years"] for o in grid["objectives"]} == {"3", "4"}
    assert grid["version"] == saved.json()["version"]

    # Judged on a Year 3 objective, they are counted against Year 3, never as "below".
    point = AssessmentPoint(
        school_id=mb.school_id,
        academic_year=AcademicYear.containing(date.today()).start_year,
        code="NOW",
        name="Now",
        position=9,
        assessed_on=date.today(),
    )
    session.add(point)
    await session.commit()
    point_id = point.id
    cell = {"pupil_id": str(pupil_id), "objective_id": year3["id"], "descriptor": "S"}
    assert (await client.post(mb.url, json={"cells": [cell]}, headers=teacher)).status_code == 200
    summary = await session.get(JudgementSummary, (pupil_id, subject_id, point_id))
    assert (summary.curriculum_year, summary.judged, summary.secure) == (3, 1, 1)

    back = {"rows": [{**body["rows"][0], "curriculum_year": None}]}
    assert (await client.post(years_url, json=back, headers=teacher)).status_code == 200
    await session.rollback()  # end the test session's read snapshot
    summary = await session.get(JudgementSummary, (pupil_id, subject_id, point_id))
    assert (summary.curriculum_year, summary.judged, summary.secure) == (4, 0, 0)

    bad = await client.post(
        years_url,
        json={"rows": [{**body["rows"][0], "curriculum_year": "14"}]},
        headers=teacher,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.rows.0.curriculum_year"
    other = await client.post(
        years_url,
        json={"rows": [{**body["rows"][0], "pupil_id": str(untaught_id)}]},
        headers=teacher,
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "body.rows.0.pupil_id"


async def test_summaries_count_what_stood_at_each_point(client, world, mb, session):
    """Per pupil x subject x point: judged, value sum and secure, as at each point's date."""
    teacher = world.headers("teacher")
    year = AcademicYear.containing(date.today())
    start, today = year.starts_on, date.today()
    points = [
        AssessmentPoint(
            school_id=mb.school_id,
            academic_year=year.start_year,
            code=code,
            name=code,
            position=10 + index,
            assessed_on=day,
        )
        for index, (code, day) in enumerate((("P1", start), ("P2", year.ends_on)))
    ]
    session.add_all(points)
    await session.commit()
    first = {"assessed_on": start.isoformat(), "cells": [mb.cell(0, 0, "D"), mb.cell(0, 1, "S")]}
    later = {"assessed_on": today.isoformat(), "cells": [mb.cell(0, 0, "G"), mb.cell(0, 1, None)]}
    for body in (first, later):
        assert (await client.post(mb.url, json=body, headers=teacher)).status_code == 200

    async def figures(point: AssessmentPoint) -> tuple[int, float, int]:
        row = await session.get(
            JudgementSummary, (mb.pupils[0].id, uuid.UUID(mb.subject_id), point.id)
        )
        return (row.judged, float(row.value_sum), row.secure)

    # Starter depth values: B 1, D 2, S 3, G 4 (secure from S).
    if today > start:
        assert await figures(points[0]) == (2, 5.0, 1)
    assert await figures(points[1]) == (1, 4.0, 1)


async def test_a_new_or_moved_point_is_counted_as_at_its_date(client, world, mb, session):
    """Summaries follow the calendar: a point added after the judgements is counted at once,
    and moving its date recounts it as at the new date."""
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    year = AcademicYear.containing(date.today())
    pupil_id, subject_id = mb.pupils[0].id, uuid.UUID(mb.subject_id)
    body = {"cells": [mb.cell(0, 0, "S"), mb.cell(0, 1, "G")]}
    assert (await client.post(mb.url, json=body, headers=teacher)).status_code == 200

    created = await client.post(
        f"/v1/schools/{mb.school_id}/assessment-points",
        json={
            "academic_year": year.start_year,
            "code": "END",
            "name": "End of year",
            "position": 9,
            "assessed_on": year.ends_on.isoformat(),
        },
        headers=leader,
    )
    assert created.status_code == 201, created.text
    point_id = uuid.UUID(created.json()["id"])

    async def figures() -> tuple[int, float, int] | None:
        await session.rollback()  # a fresh snapshot of what the app committed
        row = await session.get(JudgementSummary, (pupil_id, subject_id, point_id))
        return None if row is None else (row.judged, float(row.value_sum), row.secure)

    assert await figures() == (2, 7.0, 2)
    if date.today() > year.starts_on:
        moved = await client.patch(
            f"/v1/assessment-points/{point_id}",
            json={"assessed_on": year.starts_on.isoformat()},
            headers=leader,
        )
        assert moved.status_code == 200, moved.text
        assert await figures() == (0, 0.0, 0)


async def test_a_year_group_changed_by_the_mis_recounts_the_pupils_figures(
    client, world, mb, session
):
    """A pupil moved to Year 3 by a roster sync works within Year 3's curriculum by default:
    their Year 4 judgements no longer count in their figures."""
    teacher, leader = world.headers("teacher"), world.headers("school_leader")
    pupil = mb.pupils[0]
    pupil_id, subject_id = pupil.id, uuid.UUID(mb.subject_id)
    row = {
        "external_id": pupil.external_id,
        "upn": pupil.upn,
        "legal_forename": pupil.legal_forename,
        "legal_surname": pupil.legal_surname,
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "year_group": "3",
    }
    year = AcademicYear.containing(date.today())
    point = AssessmentPoint(
        school_id=mb.school_id,
        academic_year=year.start_year,
        code="END",
        name="End",
        position=9,
        assessed_on=year.ends_on,
    )
    session.add(point)
    await session.commit()
    point_id = point.id
    body = {"cells": [mb.cell(0, 0, "S")]}
    assert (await client.post(mb.url, json=body, headers=teacher)).status_code == 200

    synced = await client.post(
        f"/v1/schools/{mb.school_id}/roster/sync",
        json={"academic_year": year.start_year, "pupils": [row]},
        headers=leader,
    )
    assert synced.status_code == 200, synced.text
    await session.rollback()
    summary = await session.get(JudgementSummary, (pupil_id, subject_id, point_id))
    assert (summary.curriculum_year, summary.judged) == (3, 0)
