"""A school set up for reports through the API, as its leader would: the starter pack (subjects,
scales, measures, points, the starter templates), a roster of Year 4 pupils in two classes,
and measure values entered by point. Used by the report tests and the GraphQL tests alike.

Figures come from measure values at the starter pack's points (teacher assessment and
standardised scores), so they do not depend on the date the tests run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.roster import this_year

# Eight Year 4 pupils: p0-p4 in 4A (taught by the world's teacher), p5-p7 in 4B; p0-p2 pupil
# premium; p0 and p1 in the custom group "@risk" (a name a spreadsheet would take for a formula).
PUPILS = [
    {"pupil_premium": True, "classes": ["4A"], "groups": ["@risk"]},
    {"pupil_premium": True, "classes": ["4A"], "groups": ["@risk"]},
    {"pupil_premium": True, "classes": ["4A"]},
    {"pupil_premium": False, "classes": ["4A"]},
    {"pupil_premium": False, "classes": ["4A"]},
    {"pupil_premium": False, "classes": ["4B"]},
    {"pupil_premium": False, "classes": ["4B"]},
    {"pupil_premium": False, "classes": ["4B"]},
]
# Maths teacher assessment at autumn and summer, and the standardised maths score at autumn.
AUTUMN_TA = ["EXS", "GDS", "WTS", "EXS", "EXS", "EXS", "WTS", "GDS"]
SUMMER_TA = ["GDS", "GDS", "EXS", "EXS", "EXS", "EXS", "WTS", "GDS"]
AUTUMN_STD = [100, 120, 84, 95, 101, 99, 90, 111]


@dataclass
class StarterSchool:
    school_id: uuid.UUID
    pupils: list[uuid.UUID]
    templates: dict[str, str]  # code -> id
    points: dict[str, str]  # code -> id
    measures: dict[str, str]  # code -> id


async def starter_school(
    client: httpx.AsyncClient, world: Any, key: str, leader: str, pupils: list[dict[str, Any]]
) -> StarterSchool:
    """School ``key`` given the starter pack by ``leader``, with ``pupils`` (each what a
    roster row adds to a Year 4 pupil) on roll this year in 4A or 4B (in A1 the world's
    teacher teaches 4A)."""
    school_id = world.schools[key].id
    headers = world.headers(leader)
    teachers = ["teacher@world.example.org"] if key == "A1" else []
    pack = await client.post(f"/v1/schools/{school_id}/starter-pack", headers=headers)
    assert pack.status_code == 200, pack.text
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
        f"/v1/schools/{school_id}/roster/sync",
        json={
            "academic_year": this_year(),
            "classes": [
                {"code": "4A", "name": "Class 4A", "teacher_emails": teachers},
                {"code": "4B", "name": "Class 4B"},
            ],
            "pupils": rows,
        },
        headers=headers,
    )
    assert synced.status_code == 200, synced.text
    ids = {r["key"]: uuid.UUID(r["id"]) for r in synced.json()["pupils"]}
    listed = await client.get(
        "/v1/report-templates", params={"school_id": str(school_id)}, headers=headers
    )
    points = await client.get(
        f"/v1/schools/{school_id}/assessment-points",
        params={"academic_year": this_year()},
        headers=headers,
    )
    measures = await client.get(
        "/v1/measures", params={"school_id": str(school_id), "limit": 100}, headers=headers
    )
    return StarterSchool(
        school_id=school_id,
        pupils=[ids[f"{key}-{i}"] for i in range(len(pupils))],
        templates={t["code"]: t["id"] for t in listed.json()["items"]},
        points={p["code"]: p["id"] for p in points.json()["items"]},
        measures={m["code"]: m["id"] for m in measures.json()["items"]},
    )


async def enter_values(
    client: httpx.AsyncClient,
    headers: Any,
    setup: StarterSchool,
    point: str,
    code: str,
    values: list,
) -> None:
    saved = await client.post(
        f"/v1/schools/{setup.school_id}/values",
        json={
            "assessment_point_id": setup.points[point],
            "values": [
                {"pupil_id": str(p), "measure_id": setup.measures[code], "value": v}
                for p, v in zip(setup.pupils, values, strict=False)
            ],
        },
        headers=headers,
    )
    assert saved.status_code == 200, saved.text


async def school_with_values(client: httpx.AsyncClient, world: Any) -> StarterSchool:
    """School A1 (led by the world's school leader; 4A taught by its teacher) with PUPILS, and
    maths teacher assessments at autumn and summer and standardised maths scores at autumn."""
    setup = await starter_school(client, world, "A1", "school_leader", PUPILS)
    leader = world.headers("school_leader")
    await enter_values(client, leader, setup, "AUT", "MATH-TA", AUTUMN_TA)
    await enter_values(client, leader, setup, "SUM", "MATH-TA", SUMMER_TA)
    await enter_values(client, leader, setup, "AUT", "STD-MATH", AUTUMN_STD)
    return setup


# --- The same through GraphQL -----------------------------------------------------------------
# Every field of a GraphQL ReportTable.
REPORT_TABLE = """
title suppressBelow notes
points { index label academicYear asAt schools { schoolId pointId code assessedOn } }
sections {
  name title
  columns { key label unit decimals metric point category }
  rows { keys { dimension value label } cells { value n suppressed } }
}
"""
_RELATIVE = {"start", "mid", "end", "latest"}


def graphql_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A definition as REST takes it, as GraphQL's ReportDefinitionInput does (closed sets as
    enums, fields in camelCase, custom groups apart)."""

    def metric(raw: Any) -> dict[str, Any]:
        found = {"metric": raw} if isinstance(raw, str) else dict(raw)
        found["metric"] = found["metric"].upper()
        return found

    def point(raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            return {"at": raw.upper()} if raw.lower() in _RELATIVE else {"code": raw}
        if "as_at" in raw:
            return {"asAt": raw["as_at"]}
        return {"at": raw["at"].upper()} if "at" in raw else {"code": raw["code"]}

    def breakdown(name: str) -> dict[str, str]:
        if name.startswith("group:"):
            return {"customGroup": name.removeprefix("group:")}
        return {"dimension": name.upper()}

    found: dict[str, Any] = {
        "metrics": [metric(m) for m in definition["metrics"]],
        "points": [point(p) for p in definition["points"]],
        "dimensions": [d.upper() for d in definition.get("dimensions", [])],
        "groups": [g.upper() for g in definition.get("groups", []) if not g.startswith("group:")],
        "customGroups": [
            g.removeprefix("group:") for g in definition.get("groups", []) if g.startswith("group:")
        ],
        "filters": [
            {**breakdown(f["dimension"]), "op": f.get("op", "in").upper(), "values": f["values"]}
            for f in definition.get("filters", [])
        ],
        "attainment": list(definition.get("attainment", [])),
    }
    for rest, graphql in (
        ("title", "title"),
        ("academic_year", "academicYear"),
        ("suppress_below", "suppressBelow"),
    ):
        if rest in definition:
            found[graphql] = definition[rest]
    if "out_of_year" in definition:
        found["outOfYear"] = definition["out_of_year"].upper()
    return found


def rest_report(table: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL ReportTable (every field, as REPORT_TABLE asks) as REST's JSON gives it."""

    def point(p: Mapping[str, Any]) -> dict[str, Any]:
        if p["asAt"] is not None:
            return {"index": p["index"], "label": p["label"], "as_at": p["asAt"]}
        schools = [
            {
                "school_id": s["schoolId"],
                "point_id": s["pointId"],
                "code": s["code"],
                "assessed_on": s["assessedOn"],
            }
            for s in p["schools"]
        ]
        return {
            "index": p["index"],
            "label": p["label"],
            "academic_year": p["academicYear"],
            "schools": schools,
        }

    def row(r: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "keys": {k["dimension"]: k["value"] for k in r["keys"]},
            "labels": {k["dimension"]: k["label"] for k in r["keys"] if k["label"] is not None},
            "cells": r["cells"],
        }

    return {
        "title": table["title"],
        "suppress_below": table["suppressBelow"],
        "points": [point(p) for p in table["points"]],
        "sections": [
            {
                "name": s["name"],
                "title": s["title"],
                "columns": [{**c, "metric": c["metric"].lower()} for c in s["columns"]],
                "rows": [row(r) for r in s["rows"]],
            }
            for s in table["sections"]
        ],
        "notes": table["notes"],
    }
