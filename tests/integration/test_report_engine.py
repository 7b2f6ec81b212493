"""The report engine against real databases: a school built through the API (roster sync,
starter pack, working years, judgements and values), then reports whose figures are worked
out by hand below; a trust-wide report from pupil-level data; "as at" a date from the
history; a progress matrix and its pupils; suppression; CSV and XLSX round trips."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from app.auth.policy import Reach
from app.db.curriculum import Measure, Subject
from app.db.markbook import MeasureValue, WorkingYearHistory
from app.db.tenancy import AssessmentPoint
from app.db.tenancy import School as SchoolRow
from app.domain.reports import DefinitionError, ReportTable
from app.reports.engine import matrix_cell_pupils, run_for_schools, run_report
from app.reports.render import render_csv, render_json, render_xlsx

YEAR = 2026
P1_ON, P2_ON = date(2026, 10, 1), date(2026, 11, 20)
TODAY = date(2026, 11, 25)


@dataclass
class School:
    id: uuid.UUID
    pupils: list[uuid.UUID]
    measures: dict[str, str]
    points: dict[str, uuid.UUID]
    objectives: dict[str, list[str]]  # MA objective ids by curriculum year


async def _build_school(
    client: Any, session: Any, world: Any, key: str, leader: str, pupils: list[dict[str, Any]]
) -> School:
    school = world.schools[key]
    headers = world.headers(leader)
    pack = await client.post(f"/v1/schools/{school.id}/starter-pack", headers=headers)
    assert pack.status_code == 200, pack.text
    points = {}
    for code, day, position in (("P1", P1_ON, 4), ("P2", P2_ON, 5)):
        point = AssessmentPoint(
            school_id=school.id,
            academic_year=YEAR,
            code=code,
            name=f"Point {code[1]}",
            position=position,
            assessed_on=day,
        )
        session.add(point)
        await session.flush()
        points[code] = point.id
    await session.commit()
    rows = [
        {
            "external_id": f"{key}-{index}",
            "legal_forename": f"Pupil{index}",
            "legal_surname": key,
            "date_of_birth": "2017-01-15",
            "year_group": "4",
            **row,
        }
        for index, row in enumerate(pupils)
    ]
    synced = await client.post(
        f"/v1/schools/{school.id}/roster/sync",
        json={
            "academic_year": YEAR,
            "classes": [{"code": "4A", "name": "Class 4A"}, {"code": "4B", "name": "Class 4B"}],
            "pupils": rows,
        },
        headers=headers,
    )
    assert synced.status_code == 200, synced.text
    ids = {r["key"]: uuid.UUID(r["id"]) for r in synced.json()["pupils"]}
    measures = await client.get(
        "/v1/measures", params={"school_id": str(school.id), "limit": 100}, headers=headers
    )
    frameworks = await client.get(
        "/v1/frameworks", params={"school_id": str(school.id)}, headers=headers
    )
    maths = next(
        f for f in frameworks.json()["items"] if f["name"] == "National Curriculum: Mathematics"
    )
    listed = await client.get(
        f"/v1/frameworks/{maths['id']}/objectives", params={"limit": 500}, headers=headers
    )
    objectives: dict[str, list[str]] = {}
    for objective in listed.json()["items"]:
        objectives.setdefault(objective["curriculum_years"], []).append(objective["id"])
    return School(
        id=school.id,
        pupils=[ids[f"{key}-{i}"] for i in range(len(pupils))],
        measures={m["code"]: m["id"] for m in measures.json()["items"]},
        points=points,
        objectives=objectives,
    )


async def _judge(client: Any, headers: Any, school: School, day: date, cells: list) -> None:
    body = {
        "assessed_on": day.isoformat(),
        "cells": [
            {
                "pupil_id": str(school.pupils[p]),
                "objective_id": school.objectives[y][o],
                "descriptor": d,
            }
            for p, y, o, d in cells
        ],
    }
    saved = await client.post(f"/v1/schools/{school.id}/markbook", json=body, headers=headers)
    assert saved.status_code == 200, saved.text


async def _values(client: Any, headers: Any, school: School, point: str, rows: list) -> None:
    body = {
        "assessment_point_id": str(school.points[point]),
        "values": [
            {"pupil_id": str(school.pupils[p]), "measure_id": school.measures[code], "value": v}
            for p, code, v in rows
        ],
    }
    saved = await client.post(f"/v1/schools/{school.id}/values", json=body, headers=headers)
    assert saved.status_code == 200, saved.text


# Eight Year 4 pupils: p0-p4 in 4A, p5-p7 in 4B; p0-p2 pupil premium; p7 on SEN support and
# working within Year 3's maths curriculum.
A1_PUPILS = [
    {"pupil_premium": True, "sen_status": "N", "sex": "F", "classes": ["4A"], "ethnicity": "WBRI"},
    {"pupil_premium": True, "sen_status": "N", "sex": "M", "classes": ["4A"], "ethnicity": "ABAN"},
    {"pupil_premium": True, "sen_status": "N", "sex": "F", "classes": ["4A"], "ethnicity": "WBRI"},
    {"pupil_premium": False, "sen_status": "N", "sex": "M", "classes": ["4A"]},
    {"pupil_premium": False, "sen_status": "N", "sex": "F", "classes": ["4A"]},
    {"pupil_premium": False, "sen_status": "N", "sex": "M", "classes": ["4B"]},
    {"pupil_premium": False, "sen_status": "N", "sex": "F", "classes": ["4B"]},
    {"pupil_premium": False, "sen_status": "K", "sex": "M", "classes": ["4B"]},
]


@pytest.fixture
async def trust(client, session, world):  # type: ignore[no-untyped-def]
    a1 = await _build_school(client, session, world, "A1", "school_leader", A1_PUPILS)
    leader = world.headers("school_leader")
    years = await client.post(
        f"/v1/schools/{a1.id}/working-years",
        json={
            "academic_year": YEAR,
            "rows": [
                {
                    "pupil_id": str(a1.pupils[7]),
                    "subject_id": await _subject_id(client, leader, a1.id, "MA"),
                    "curriculum_year": "3",
                }
            ],
        },
        headers=leader,
    )
    assert years.status_code == 200, years.text
    await _set_on(session, a1.pupils[7], SEPTEMBER)
    # Starter depth values: B 1, D 2, S 3, G 4; secure from S.
    await _judge(
        client,
        leader,
        a1,
        P1_ON,
        [(0, "4", 0, "S"), (0, "4", 1, "D"), (1, "4", 0, "G"), (7, "3", 0, "S")],
    )
    await _judge(client, leader, a1, P2_ON, [(0, "4", 2, "S"), (1, "4", 1, "B"), (2, "4", 0, "S")])
    await _values(
        client,
        leader,
        a1,
        "P2",
        [
            (0, "MATH-TA", "EXS"),
            (1, "MATH-TA", "GDS"),
            (2, "MATH-TA", "WTS"),
            (3, "MATH-TA", "EXS"),
            (7, "MATH-TA", "EXS"),
            (0, "STD-MATH", 100),
            (1, "STD-MATH", 120),
            (2, "STD-MATH", 84),
            (3, "STD-MATH", 95),
        ],
    )
    await _values(client, leader, a1, "P1", [(0, "STD-MATH", 90), (1, "STD-MATH", 121)])
    a2 = await _build_school(
        client,
        session,
        world,
        "A2",
        "other_school_leader",
        [{"pupil_premium": False}, {"pupil_premium": True}],
    )
    await _values(
        client,
        world.headers("other_school_leader"),
        a2,
        "P2",
        [(0, "STD-MATH", 110), (1, "STD-MATH", 90)],
    )
    await session.rollback()
    return {"A1": a1, "A2": a2}


SEPTEMBER = datetime(2026, 9, 5, 12, tzinfo=UTC)


async def _set_on(session: Any, pupil_id: uuid.UUID, when: datetime) -> None:
    """Date a pupil's working year changes in the history as if set on ``when``."""
    await session.execute(
        sa.update(WorkingYearHistory)
        .where(WorkingYearHistory.pupil_id == pupil_id)
        .values(set_at=when)
    )
    await session.commit()


async def _subject_id(client: Any, headers: Any, school_id: uuid.UUID, code: str) -> str:
    listed = await client.get("/v1/subjects", params={"school_id": str(school_id)}, headers=headers)
    return next(s["id"] for s in listed.json()["items"] if s["code"] == code)


def _leader(school: School) -> Reach:
    return Reach(school_ids=frozenset({school.id}))


def _cells(table: ReportTable, section: int = 0) -> dict[tuple[Any, ...], dict[str, Any]]:
    """(row labels..., column key) -> cell, for reading figures out of a table."""
    found = {}
    part = table.sections[section]
    for row in part.rows:
        labels = tuple(row.labels.values())
        for column, cell in zip(part.columns, row.cells, strict=True):
            found[(*labels, column.key)] = cell.to_json()
    return found


MATHS_ON_A_PAGE = {
    "title": "Maths on a page",
    "metrics": [
        "pupils",
        "depth_score",
        "percent_secured",
        "percent_secured_of_year",
        "objectives_judged",
        "attainment",
        "percent_at_or_above",
        {"metric": "measure_mean", "measures": ["STD-MATH"]},
        {"metric": "measure_median", "measures": ["STD-MATH"]},
        {"metric": "measure_min", "measures": ["STD-MATH"]},
        {"metric": "measure_max", "measures": ["STD-MATH"]},
        {"metric": "measure_count", "measures": ["STD-MATH"]},
        {"metric": "measure_percent_expected", "measures": ["STD-MATH"]},
        {"metric": "measure_percent_above", "measures": ["STD-MATH"]},
        {"metric": "progress_depth_score"},
        {"metric": "progress_measure", "measures": ["STD-MATH"]},
    ],
    "dimensions": ["subject"],
    "groups": ["pupil_premium"],
    "academic_year": YEAR,
    "points": ["P1", "P2"],
    "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
}


async def test_a_school_report_gives_the_figures_worked_out_by_hand(session, trust):
    a1: School = trust["A1"]
    table = await run_report(
        session,
        definition=MATHS_ON_A_PAGE,
        reach=_leader(a1),
        school_ids=[a1.id],
        suppress_below=None,
        today=TODAY,
    )
    cells = _cells(table)
    everyone = ("Mathematics", "All pupils")
    # p0: S, D (2 judged, 5, 1 secure); p1: G (1, 4, 1); p7 in Year 3's curriculum: S (1, 3, 1).
    assert cells[(*everyone, "0.pupils.0")]["value"] == 8
    assert cells[(*everyone, "1.depth_score.0")] == {"value": 3.17, "n": 3, "suppressed": False}
    assert cells[(*everyone, "2.percent_secured.0")]["value"] == pytest.approx(83.3)
    assert cells[(*everyone, "4.objectives_judged.0")]["value"] == pytest.approx(1.3)
    # At P2: p0 S, D, S (3, 8, 2); p1 G, B (2, 5, 1); p2 S (1, 3, 1); p7 as before.
    assert cells[(*everyone, "1.depth_score.1")] == {"value": 2.79, "n": 4, "suppressed": False}
    # Teacher assessment at P2: p0 EXS, p1 GDS, p2 WTS, p3 EXS; p7 EXS but in Year 3's
    # curriculum: their own category, never "below".
    distribution = {
        part: cells[(*everyone, f"5.attainment.1.{part}")]["value"]
        for part in ("below", "at", "above", "earlier_curriculum", "not_assessed")
    }
    assert distribution == {
        "below": 1,
        "at": 2,
        "above": 1,
        "earlier_curriculum": 1,
        "not_assessed": 3,
    }
    assert cells[(*everyone, "5.attainment.1.at.percent")]["value"] == 25.0
    assert cells[(*everyone, "6.percent_at_or_above.1")]["value"] == 37.5
    # Standardised maths at P2: 100, 120, 84, 95.
    assert cells[(*everyone, "7.measure_mean.1")] == {"value": 99.8, "n": 4, "suppressed": False}
    assert cells[(*everyone, "8.measure_median.1")]["value"] == 97.5
    assert cells[(*everyone, "9.measure_min.1")]["value"] == 84
    assert cells[(*everyone, "10.measure_max.1")]["value"] == 120
    assert cells[(*everyone, "11.measure_count.1")]["value"] == 4
    assert cells[(*everyone, "12.measure_percent_expected.1")]["value"] == 75.0
    assert cells[(*everyone, "13.measure_percent_above.1")]["value"] == 25.0
    # Depth score P1 -> P2 for p0 (2.5 -> 2.667), p1 (4 -> 2.5), p7 (3 -> 3).
    assert cells[(*everyone, "14.progress_depth_score.1")] == {
        "value": -0.44,
        "n": 3,
        "suppressed": False,
    }
    # Standardised maths P1 -> P2: p0 90 -> 100, p1 121 -> 120.
    assert cells[(*everyone, "15.progress_measure.1")] == {
        "value": 4.5,
        "n": 2,
        "suppressed": False,
    }
    # Pupil premium (p0-p2) against the rest at P2.
    pp = ("Mathematics", "Pupil premium: Pupil premium")
    assert cells[(*pp, "0.pupils.1")]["value"] == 3
    assert cells[(*pp, "6.percent_at_or_above.1")]["value"] == pytest.approx(66.7)
    rest = ("Mathematics", "Pupil premium: Not pupil premium")
    assert cells[(*rest, "5.attainment.1.earlier_curriculum")]["value"] == 1
    assert cells[(*rest, "5.attainment.1.not_assessed")]["value"] == 3


async def test_percent_secured_of_the_year_counts_each_pupil_against_their_working_year(
    session, trust, client, world
):
    a1: School = trust["A1"]
    year4, year3 = len(a1.objectives["4"]), len(a1.objectives["3"])
    definition = {
        "metrics": ["percent_secured_of_year", {"metric": "progress_percent_secured"}],
        "dimensions": ["subject"],
        "academic_year": YEAR,
        "points": ["P1", "P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    }
    table = await run_report(
        session, definition=definition, reach=_leader(a1), school_ids=[a1.id], suppress_below=None
    )
    cells = _cells(table)
    at_p1 = (100 / year4 + 100 / year4 + 100 / year3) / 3
    assert cells[("Mathematics", "All pupils", "0.percent_secured_of_year.0")]["value"] == round(
        at_p1, 1
    )
    at_p2 = (200 / year4 + 100 / year4 + 100 / year4 + 100 / year3) / 4
    assert cells[("Mathematics", "All pupils", "0.percent_secured_of_year.1")]["value"] == round(
        at_p2, 1
    )
    # p0 gains one more secure Year 4 objective; p1 and p7 none: the change in position.
    progress = cells[("Mathematics", "All pupils", "1.progress_percent_secured.1")]
    assert progress["n"] == 3 and progress["value"] == round(100 / year4 / 3, 1)


async def test_an_out_of_year_pupil_is_placed_by_their_curriculum_only_when_the_school_chooses(
    session, trust
):
    a1: School = trust["A1"]
    definition = {
        "metrics": ["attainment"],
        "dimensions": ["subject", "year_group"],
        "groups": ["out_of_year", "sen_status"],
        "academic_year": YEAR,
        "points": ["P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
        "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
        "out_of_year": "working_curriculum",
    }
    table = await run_report(
        session, definition=definition, reach=_leader(a1), school_ids=[a1.id], suppress_below=None
    )
    cells = _cells(table)
    row = ("Mathematics", "Year 4", "All pupils")
    assert cells[(*row, "0.attainment.0.at")]["value"] == 3
    assert cells[(*row, "0.attainment.0.earlier_curriculum")]["value"] == 0
    earlier = (
        "Mathematics",
        "Year 4",
        "Working within an earlier year's curriculum: Working within an earlier year's curriculum",
    )
    assert cells[(*earlier, "0.attainment.0.at")]["value"] == 1
    support = ("Mathematics", "Year 4", "SEN status: SEN support")
    assert cells[(*support, "0.attainment.0.below")]["value"] == 0
    # The "All year groups" row adds up the year groups.
    assert (
        cells[("Mathematics", "All year groups", "All pupils", "0.attainment.0.at")]["value"] == 3
    )


async def test_a_report_asked_again_reads_the_figures_as_they_are_now(
    client, session, world, trust
):
    """The engine keeps a report's built statement for the next report alike: asked again, it
    still reads the markbook as it is then, and another school's report reads its own."""
    a1, a2 = trust["A1"], trust["A2"]
    leader = world.headers("school_leader")
    definition = {
        "metrics": [{"metric": "measure_mean", "measures": ["STD-MATH"]}],
        "dimensions": ["subject"],
        "academic_year": YEAR,
        "points": ["P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    }

    async def mean(school: School) -> Any:
        table = await run_report(
            session,
            definition=definition,
            reach=_leader(school),
            school_ids=[school.id],
            suppress_below=None,
        )
        await session.rollback()  # the next report's transaction sees the values sent since
        return _cells(table)[("Mathematics", "All pupils", "0.measure_mean.0")]["value"]

    assert await mean(a1) == 99.8  # 100, 120, 84, 95
    assert await mean(a2) == 100.0  # 110, 90
    await _values(client, leader, a1, "P2", [(2, "STD-MATH", 104)])
    assert await mean(a1) == 104.8  # 100, 120, 104, 95
    assert await mean(a2) == 100.0


async def test_trust_figures_come_from_pupils_across_the_schools(session, trust):
    a1, a2 = trust["A1"], trust["A2"]
    definition = {
        "metrics": ["pupils", {"metric": "measure_mean", "measures": ["STD-MATH"]}],
        "dimensions": ["subject", "school"],
        "academic_year": YEAR,
        "points": ["P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    }
    reach = Reach(school_ids=frozenset({a1.id, a2.id}))
    table = await run_report(
        session, definition=definition, reach=reach, school_ids=[a1.id, a2.id], suppress_below=None
    )
    cells = _cells(table)
    assert cells[("Mathematics", "School A1", "All pupils", "1.measure_mean.0")]["value"] == 99.8
    assert cells[("Mathematics", "School A2", "All pupils", "1.measure_mean.0")]["value"] == 100.0
    # (100 + 120 + 84 + 95 + 110 + 90) / 6, not the mean of the two schools' means (99.9).
    total = cells[("Mathematics", "All schools", "All pupils", "1.measure_mean.0")]
    assert total == {"value": 99.8, "n": 6, "suppressed": False}
    assert cells[("Mathematics", "All schools", "All pupils", "0.pupils.0")]["value"] == 10


async def test_a_trust_report_counts_each_pupil_once_per_measure_code(session, trust):
    # The trust's KS-SCORE serves A2; A1 has its own KS-SCORE, which wins there. A1's pupils
    # also hold values of the trust's (say, from before A1 made its own): they must not count
    # twice, and A1's figures are those of A1's own measure.
    a1, a2 = trust["A1"], trust["A2"]
    trust_id = (await session.get(SchoolRow, a1.id)).trust_id
    common = {"code": "KS-SCORE", "kind": "number", "expected_from": 100}
    trusts = Measure(trust_id=trust_id, name="Trust score", **common)
    own = Measure(school_id=a1.id, name="A1 score", **common)
    session.add_all([trusts, own])
    await session.flush()
    rows = [(a1, 0, trusts, 80), (a1, 0, own, 104), (a1, 1, trusts, 81), (a1, 1, own, 110)]
    rows += [(a2, 0, trusts, 96), (a2, 1, trusts, 100)]
    for school, pupil, measure, number in rows:
        session.add(
            MeasureValue(
                pupil_id=school.pupils[pupil],
                measure_id=measure.id,
                assessment_point_id=school.points["P2"],
                school_id=school.id,
                number=number,
                recorded_by=uuid.uuid4(),
                recorded_at=datetime.now(UTC),
            )
        )
    await session.commit()
    definition = {
        "metrics": [
            "pupils",
            {"metric": "measure_mean", "measures": ["KS-SCORE"]},
            {"metric": "measure_percent_expected", "measures": ["KS-SCORE"]},
            "attainment",
        ],
        "dimensions": ["subject", "school"],
        "academic_year": YEAR,
        "points": ["P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
        "attainment": [{"subject": "MA", "measure": "KS-SCORE"}],
    }
    table = await run_report(
        session,
        definition=definition,
        reach=Reach(school_ids=frozenset({a1.id, a2.id})),
        school_ids=[a1.id, a2.id],
        suppress_below=None,
    )
    cells = _cells(table)
    every = ("Mathematics", "All schools", "All pupils")
    assert cells[(*every, "0.pupils.0")]["value"] == 10
    assert cells[(*every, "1.measure_mean.0")] == {"value": 102.5, "n": 4, "suppressed": False}
    assert cells[(*every, "2.measure_percent_expected.0")]["value"] == 75.0
    assert cells[(*every, "3.attainment.0.at")]["value"] == 3
    assert cells[(*every, "3.attainment.0.below")]["value"] == 1
    a1_row = ("Mathematics", "School A1", "All pupils")
    assert cells[(*a1_row, "0.pupils.0")]["value"] == 8
    assert cells[(*a1_row, "1.measure_mean.0")]["value"] == 107.0


async def test_as_at_a_date_reads_the_history_of_one_school(session, trust):
    a1, a2 = trust["A1"], trust["A2"]
    definition = {
        "metrics": ["depth_score", "objectives_judged"],
        "dimensions": ["subject"],
        "academic_year": YEAR,
        "points": ["P1", {"as_at": "2026-10-15"}, {"as_at": "2026-11-24"}],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    }
    table = await run_report(
        session, definition=definition, reach=_leader(a1), school_ids=[a1.id], suppress_below=None
    )
    cells = _cells(table)
    row = ("Mathematics", "All pupils")
    assert cells[(*row, "0.depth_score.1")] == cells[(*row, "0.depth_score.0")]
    assert cells[(*row, "0.depth_score.2")] == {"value": 2.79, "n": 4, "suppressed": False}
    with pytest.raises(DefinitionError) as refused:
        await run_report(
            session,
            definition=definition,
            reach=Reach(school_ids=frozenset({a1.id, a2.id})),
            school_ids=[a1.id, a2.id],
            suppress_below=None,
        )
    assert refused.value.field == "points.1"


async def test_as_at_a_date_uses_the_working_year_that_stood_then(client, session, world, trust):
    # p6 is moved to Year 3's maths curriculum on 10 November; p7 has worked within Year 3
    # since September. As at 15 October only p7 works within an earlier year's curriculum.
    a1 = trust["A1"]
    leader = world.headers("school_leader")
    moved = await client.post(
        f"/v1/schools/{a1.id}/working-years",
        json={
            "academic_year": YEAR,
            "rows": [
                {
                    "pupil_id": str(a1.pupils[6]),
                    "subject_id": await _subject_id(client, leader, a1.id, "MA"),
                    "curriculum_year": "3",
                }
            ],
        },
        headers=leader,
    )
    assert moved.status_code == 200, moved.text
    await _set_on(session, a1.pupils[6], datetime(2026, 11, 10, 9, tzinfo=UTC))
    definition = {
        "metrics": ["pupils"],
        "dimensions": ["subject"],
        "groups": ["out_of_year"],
        "academic_year": YEAR,
        "points": [{"as_at": "2026-10-15"}, {"as_at": "2026-11-10"}, {"as_at": "2026-11-09"}],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
    }
    table = await run_report(
        session, definition=definition, reach=_leader(a1), school_ids=[a1.id], suppress_below=None
    )
    cells = _cells(table)
    earlier = (
        "Mathematics",
        "Working within an earlier year's curriculum: Working within an earlier year's curriculum",
    )
    assert cells[(*earlier, "0.pupils.0")]["value"] == 1
    assert cells[(*earlier, "0.pupils.1")]["value"] == 2  # set during that day
    assert cells[(*earlier, "0.pupils.2")]["value"] == 1


async def test_a_progress_matrix_counts_pupils_and_lists_those_behind_a_cell(session, trust):
    a1: School = trust["A1"]
    definition = {
        "metrics": ["pupils", {"metric": "progress_matrix"}, {"metric": "category_movement"}],
        "dimensions": ["subject"],
        "academic_year": YEAR,
        "points": ["P1", "P2"],
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
        "attainment": [{"subject": "MA", "secured": {"at": 1, "above": 10}}],
    }
    table = await run_report(
        session, definition=definition, reach=_leader(a1), school_ids=[a1.id], suppress_below=None
    )
    year4 = len(a1.objectives["4"])
    assert 100 / year4 >= 1 and 200 / year4 < 10  # so one secure objective is "at", two too
    matrix = table.sections[1]
    counts = {
        (row.keys["group"], row.keys["from"], column.part): cell.value
        for row in matrix.rows
        for column, cell in zip(matrix.columns, row.cells, strict=True)
        if cell.value
    }
    # P1: p0, p1 at; p7 earlier; the rest not assessed. P2: p0, p1, p2 at; p7 earlier.
    assert counts == {
        (None, "at", "at"): 2,
        (None, "earlier_curriculum", "earlier_curriculum"): 1,
        (None, "not_assessed", "at"): 1,
        (None, "not_assessed", "not_assessed"): 4,
    }
    pupils = await matrix_cell_pupils(
        session,
        definition=definition,
        reach=_leader(a1),
        school_ids=[a1.id],
        metric=1,
        keys={"subject": "MA", "group": None, "group_value": None},
        from_category="at",
        to_category="at",
    )
    assert set(pupils) == {a1.pupils[0], a1.pupils[1]}
    movement = _cells(table)
    assert movement[("Mathematics", "All pupils", "2.category_movement.1.same")]["value"] == 2
    assert (
        movement[("Mathematics", "All pupils", "2.category_movement.1.not_comparable")]["value"]
        == 6
    )


async def test_a_teacher_reaches_only_the_pupils_they_teach(session, trust, world):
    a1: School = trust["A1"]
    definition = {**MATHS_ON_A_PAGE, "metrics": ["pupils"], "groups": []}
    reach = Reach(
        taught_school_ids=frozenset({a1.id}),
        taught_by=world.users["teacher"].id,
        taught_from_year=YEAR,
    )
    table = await run_report(
        session, definition=definition, reach=reach, school_ids=[a1.id], suppress_below=None
    )
    assert table.sections[0].rows == []


async def test_a_governor_gets_small_groups_suppressed(session, trust):
    a1: School = trust["A1"]
    table = await run_report(
        session,
        definition=MATHS_ON_A_PAGE,
        reach=_leader(a1),
        school_ids=[a1.id],
        suppress_below=3,
        today=TODAY,
    )
    section = table.sections[0]
    for row in section.rows:
        for column, cell in zip(section.columns, row.cells, strict=True):
            if cell.suppressed:
                assert cell.value is None and cell.n is None
                continue
            assert cell.n is None or cell.n == 0 or cell.n >= 3, (row.labels, column.key)
            if column.unit == "pupils":
                assert cell.value == 0 or cell.value >= 3, (row.labels, column.key)
    cells = _cells(table)
    everyone = ("Mathematics", "All pupils")
    # One pupil below: hidden, and so is the next smallest category, so neither can be
    # worked out from the eight pupils.
    assert cells[(*everyone, "5.attainment.1.below")]["suppressed"]
    hidden = [
        part
        for part in ("below", "at", "above", "earlier_curriculum", "not_assessed")
        if cells[(*everyone, f"5.attainment.1.{part}")]["suppressed"]
    ]
    assert len(hidden) >= 2
    assert cells[(*everyone, "0.pupils.1")] == {"value": 8, "n": 8, "suppressed": False}
    assert any("c: suppressed" in note for note in table.notes)


async def test_bad_definitions_are_refused_naming_the_field(session, trust):
    a1: School = trust["A1"]

    async def field_of(**change: Any) -> str | None:
        try:
            await run_report(
                session,
                definition={**MATHS_ON_A_PAGE, **change},
                reach=_leader(a1),
                school_ids=[a1.id],
                suppress_below=None,
            )
        except DefinitionError as exc:
            return exc.field
        return None

    assert await field_of(points=["NOPE", "P2"]) == "points.0"
    assert await field_of(metrics=["pupils", {"metric": "measure_mean", "measures": ["NO"]}]) == (
        "metrics.1.measures.0"
    )
    assert await field_of(attainment=[{"subject": "XX", "measure": "MATH-TA"}]) == (
        "attainment.0.subject"
    )
    assert await field_of(attainment=[{"subject": "MA", "measure": "MTC"}]) == (
        "attainment.0.measure"
    )
    assert await field_of(dimensions=["subject", "year_group", "class", "school"]) is None
    with pytest.raises(DefinitionError) as low:
        await run_report(
            session,
            definition=MATHS_ON_A_PAGE,
            reach=_leader(a1),
            school_ids=[a1.id],
            suppress_below=2,
        )
    assert low.value.field == "suppress_below"


# --- Several schools at once (a trust's dashboard) --------------------------------------------
# Definitions that take every path of the SQL: medians (a statement of their own on SQLite),
# classes (rows from every pupil, not from partial sums), key groups, progress matrices and
# movement, combined subjects, each suppressed or not.
BATCHED = {
    "maths on a page": MATHS_ON_A_PAGE,
    "by class": {
        **MATHS_ON_A_PAGE,
        "metrics": [
            "pupils",
            "attainment",
            "depth_score",
            {"metric": "progress_matrix"},
            {"metric": "category_movement"},
            {"metric": "combined_at_or_above", "subjects": ["MA", "EN"]},
        ],
        "dimensions": ["subject", "year_group", "class"],
        "groups": ["pupil_premium", "sex", "sen_status"],
        "filters": [],
        "attainment": [
            {"subject": "MA", "measure": "MATH-TA"},
            {"subject": "EN", "secured": {"at": 1}},
        ],
    },
    "by year group, partial sums": {
        **MATHS_ON_A_PAGE,
        "metrics": ["pupils", "percent_secured_of_year", "percent_at_or_above"],
        "dimensions": ["year_group", "subject"],
        "groups": ["pupil_premium", "out_of_year"],
    },
}
# Whom the reports are for, by the threshold each school's report is suppressed at: a trust
# admin (nothing hidden), a governor of both schools (each school's own threshold), and one
# who leads A1 and governs A2.
AUDIENCES = {
    "trust admin": {"A1": None, "A2": None},
    "governor": {"A1": 6, "A2": 3},
    "leader and governor": {"A1": None, "A2": 5},
}


def _count_statements(session: Any) -> list[str]:
    """The statements sent from now on: a transaction's BEGIN and its settings for reports
    (tune_for_reports, sent once a transaction) aside."""
    sent: list[str] = []

    def count(*event: Any) -> None:
        if not event[2].startswith(("BEGIN", "SELECT set_config")):
            sent.append(event[2])

    sa.event.listen(session.bind.sync_engine, "before_cursor_execute", count)
    return sent


@pytest.mark.parametrize("audience", AUDIENCES)
async def test_schools_run_together_get_exactly_what_each_gets_alone(session, trust, audience):
    schools = {key: trust[key].id for key in ("A1", "A2")}
    thresholds = {schools[key]: value for key, value in AUDIENCES[audience].items()}
    reach = Reach(school_ids=frozenset(schools.values()))
    sent = _count_statements(session)
    for name, definition in BATCHED.items():
        sent.clear()
        together = await run_for_schools(
            session, definition=definition, reach=reach, suppress_below=thresholds, today=TODAY
        )
        batched = len(sent)
        for school_id, threshold in thresholds.items():
            sent.clear()
            alone = await run_report(
                session,
                definition=definition,
                reach=reach,
                school_ids=[school_id],
                suppress_below=threshold,
                today=TODAY,
            )
            assert len(sent) == batched, name  # two schools in the statements of one
            table = together[school_id]
            assert isinstance(table, ReportTable), name
            assert render_json(table) == render_json(alone), name
            assert table.sections[0].rows, "the comparison must be over figures"
        hidden = any(
            c.suppressed
            for t in together.values()
            for r in t.sections[0].rows  # type: ignore[union-attr]
            for c in r.cells
        )
        assert hidden == (audience != "trust admin"), name


async def test_schools_run_together_are_refused_each_as_alone(session, trust):
    # A measure of A1's own, and a point only A2 has: each school's refusal is its own, and
    # the other school's report runs.
    a1, a2 = trust["A1"], trust["A2"]
    session.add(Measure(school_id=a1.id, code="A1-ONLY", name="A1's own", kind="number"))
    session.add(
        AssessmentPoint(
            school_id=a2.id,
            academic_year=YEAR,
            code="P3",
            name="Point 3",
            position=6,
            assessed_on=date(2026, 11, 24),
        )
    )
    await session.commit()
    reach = Reach(school_ids=frozenset({a1.id, a2.id}))
    thresholds = {a1.id: None, a2.id: 3}
    for definition, refused, field in (
        (
            {**MATHS_ON_A_PAGE, "metrics": [{"metric": "measure_max", "measures": ["A1-ONLY"]}]},
            a2.id,
            "metrics.0.measures.0",
        ),
        ({**MATHS_ON_A_PAGE, "metrics": ["pupils"], "points": ["P3"]}, a1.id, "points.0"),
    ):
        together = await run_for_schools(
            session, definition=definition, reach=reach, suppress_below=thresholds
        )
        for school_id, threshold in thresholds.items():
            try:
                alone: Any = await run_report(
                    session,
                    definition=definition,
                    reach=reach,
                    school_ids=[school_id],
                    suppress_below=threshold,
                )
            except DefinitionError as exc:
                alone = exc
            found = together[school_id]
            if school_id == refused:
                assert isinstance(found, DefinitionError) and isinstance(alone, DefinitionError)
                assert (found.field, found.message) == (alone.field, alone.message)
                assert found.field == field
            else:
                assert isinstance(found, ReportTable) and isinstance(alone, ReportTable)
                assert render_json(found) == render_json(alone)


async def test_schools_whose_measures_differ_by_subject_still_get_their_own(session, trust):
    # KS-SCORE: A1's own, of maths; trust A's, of no subject (serving every subject), in A2.
    # The SQL matches a measure to a row by its subject, so the two run apart, each right.
    a1, a2 = trust["A1"], trust["A2"]
    trust_id = (await session.get(SchoolRow, a1.id)).trust_id
    maths = await session.scalar(
        sa.select(Subject.id).where(Subject.school_id == a1.id, Subject.code == "MA")
    )
    common = {"code": "KS-SCORE", "kind": "number", "expected_from": 100}
    own = Measure(school_id=a1.id, name="A1 score", subject_id=maths, **common)
    trusts = Measure(trust_id=trust_id, name="Trust score", **common)
    session.add_all([own, trusts])
    await session.flush()
    for school, measure, numbers in ((a1, own, [104, 99]), (a2, trusts, [96, 100])):
        for pupil, number in enumerate(numbers):
            session.add(
                MeasureValue(
                    pupil_id=school.pupils[pupil],
                    measure_id=measure.id,
                    assessment_point_id=school.points["P2"],
                    school_id=school.id,
                    number=number,
                    recorded_by=uuid.uuid4(),
                    recorded_at=datetime.now(UTC),
                )
            )
    await session.commit()
    definition = {
        "metrics": [{"metric": "measure_mean", "measures": ["KS-SCORE"]}],
        "dimensions": ["subject"],
        "academic_year": YEAR,
        "points": ["P2"],
    }
    reach = Reach(school_ids=frozenset({a1.id, a2.id}))
    together = await run_for_schools(
        session, definition=definition, reach=reach, suppress_below={a1.id: None, a2.id: None}
    )
    for school in (a1, a2):
        alone = await run_report(
            session, definition=definition, reach=reach, school_ids=[school.id], suppress_below=None
        )
        assert render_json(together[school.id]) == render_json(alone)  # type: ignore[arg-type]
    means = {
        row.keys["subject"]: row.cells[0].value
        for row in together[a2.id].sections[0].rows  # type: ignore[union-attr]
        if row.keys["group"] is None
    }
    assert means["MA"] == 98.0 and means["EN"] == 98.0  # A2: the trust's serves every subject
    a1_means = {
        row.keys["subject"]: row.cells[0].value
        for row in together[a1.id].sections[0].rows  # type: ignore[union-attr]
        if row.keys["group"] is None
    }
    assert a1_means["MA"] == 101.5 and a1_means["EN"] is None


async def test_csv_and_xlsx_round_trip_the_table(session, trust):
    a1: School = trust["A1"]
    table = await run_report(
        session,
        definition={**MATHS_ON_A_PAGE, "metrics": ["pupils", "attainment", "depth_score"]},
        reach=_leader(a1),
        school_ids=[a1.id],
        suppress_below=3,
    )
    text = b"".join(render_csv(table, bom=True)).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header = rows[0]
    section = table.sections[0]
    assert header[: len(section.rows[0].labels)] == ["Subject", "Group"]
    first = rows[1]
    offset = len(section.rows[0].labels)
    for column, cell, written in zip(
        section.columns, section.rows[0].cells, first[offset:], strict=True
    ):
        expected = "c" if cell.suppressed else ("" if cell.value is None else str(cell.value))
        if column.decimals and cell.value is not None and not cell.suppressed:
            expected = f"{cell.value:.{column.decimals}f}"
        assert written == expected, column.key
    assert any(r and r[0].startswith("c:") for r in rows)

    data = b"".join(render_xlsx(table))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[book.sheetnames[0]]
    read = list(sheet.iter_rows(values_only=True))
    assert list(read[0][:offset]) == ["Subject", "Group"]
    assert sheet.freeze_panes == "A2"
    for column, cell, written in zip(
        section.columns, section.rows[0].cells, read[1][offset:], strict=True
    ):
        if cell.suppressed:
            assert written == "c"
        else:
            assert written == cell.value, column.key
    assert any(r[0] and str(r[0]).startswith("c:") for r in read)
    json_ready = render_json(table)
    assert json_ready["sections"][0]["rows"][0]["cells"][0]["value"] == 8
