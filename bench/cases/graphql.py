"""GraphQL: a trust's dashboard and a class with its pupils' figures, each in one query, timed
against its raw-SQL floor, and the dashboard also against the REST report of the same figures.

The data is the generated trust's markbooks (bench/cases/reports.py finds them and checks them
whole). Two cases:

- ``graphql-dashboard``: the trust analyst's dashboard, "% at or above in maths, pupil premium
  against the rest, autumn to summer", for the trust and for each of its 100 schools in one
  query (``trust { report schools { report } }``). Beside it, timed in the same run: the REST
  trust report of the same figures broken down by school (one report whose rows are each
  school's and all the schools'), which the dashboard should cost about as much as. The floor
  is the statement of bench/cases/reports.py's "Data on a page" over the trust, by school.
- ``graphql-class``: the leader's first class of the year (a top maths set of 30), its pupils
  with their characteristics and their maths figures at the year's three points (working year
  counted, objectives judged and secure, depth score, % secured of those judged and of the
  year's curriculum). The floor: one statement over the class's pupils, their summaries and the
  year's curriculum.

Statements per query are the harness's round trips (``trips``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx

from bench.cases import reports as report_cases
from bench.core import Case, Context, register

MATHS = {"subject": "MA", "measure": "MATH-TA"}
DASHBOARD_POINTS = ("AUT", "SUM")
DASHBOARD_GROUPS = (("pupil_premium", "c.pupil_premium"),)


# --- The trust's dashboard -----------------------------------------------------------------------
def dashboard_definition(academic_year: int) -> dict[str, Any]:
    """The REST form of the dashboard's figures: pupils and % at or above in maths (by its
    teacher assessment), pupil premium against the rest, autumn and summer."""
    return {
        "title": "Maths dashboard",
        "metrics": ["pupils", "percent_at_or_above"],
        "dimensions": ["subject"],
        "groups": ["pupil_premium"],
        "points": list(DASHBOARD_POINTS),
        "filters": [{"dimension": "subject", "op": "in", "values": ["MA"]}],
        "attainment": [MATHS],
        "academic_year": academic_year,
    }


def dashboard_input(academic_year: int) -> dict[str, Any]:
    """The same definition as GraphQL's ReportDefinitionInput."""
    return {
        "title": "Maths dashboard",
        "metrics": [{"metric": "PUPILS"}, {"metric": "PERCENT_AT_OR_ABOVE"}],
        "dimensions": ["SUBJECT"],
        "groups": ["PUPIL_PREMIUM"],
        "points": [{"code": code} for code in DASHBOARD_POINTS],
        "filters": [{"dimension": "SUBJECT", "op": "IN", "values": ["MA"]}],
        "attainment": [MATHS],
        "academicYear": academic_year,
    }


_TABLE = """sections { columns { metric point } rows { keys { dimension value }
  cells { value n suppressed } } }"""
DASHBOARD = f"""
query Dashboard($trust: UUID!, $definition: ReportDefinitionInput!) {{
  trust(id: $trust) {{
    report(definition: $definition) {{ {_TABLE} }}
    schools(first: 500) {{ edges {{ node {{ id name
      report(definition: $definition) {{ {_TABLE} }} }} }} }}
  }}
}}
"""
DASHBOARD_SQL = report_cases.page_sql(trust=True, groups=DASHBOARD_GROUPS, by="school_id")

DashboardRow = tuple[Any, ...]  # school (None: all), point, group, value, pupils, % at or above


def _keyed(row: dict[str, Any]) -> dict[str, str | None]:
    """A table row's keys by dimension (GraphQL lists them; REST maps them)."""
    keys = row["keys"]
    if isinstance(keys, dict):
        return keys
    return {key["dimension"]: key["value"] for key in keys}


def _table_rows(table: dict[str, Any], school: str | None) -> list[DashboardRow]:
    section = table["sections"][0]
    columns = [(str(c["metric"]).lower(), c["point"]) for c in section["columns"]]
    found = []
    for row in section["rows"]:
        keys = _keyed(row)
        cells = dict(zip(columns, row["cells"], strict=True))
        for index, code in enumerate(DASHBOARD_POINTS):
            found.append(
                (
                    keys.get("school", school),
                    code,
                    keys["group"],
                    keys["group_value"],
                    cells["pupils", index]["value"],
                    cells["percent_at_or_above", index]["value"],
                )
            )
    return found


def graphql_dashboard_rows(ctx: Context, response: httpx.Response) -> list[DashboardRow]:
    body = response.json()
    if "errors" in body:
        raise RuntimeError(f"the dashboard failed: {body['errors']}")
    trust = body["data"]["trust"]
    rows = _table_rows(trust["report"], None)
    for edge in trust["schools"]["edges"]:
        rows += _table_rows(edge["node"]["report"], edge["node"]["id"])
    return report_cases._sorted(rows)


def rest_dashboard_rows(body: dict[str, Any]) -> list[DashboardRow]:
    """The REST report by school as the dashboard's rows (its "all schools" rows: None)."""
    return report_cases._sorted(_table_rows(body, None))


def floor_dashboard_rows(records: Sequence[Any]) -> list[DashboardRow]:
    return report_cases._sorted(
        [
            (
                None if r["school_id"] is None else str(r["school_id"]),
                r["point"],
                *report_cases._group(r),
                int(r["n"]),
                report_cases._figure(r["at_or_above"], r["n"], 100.0, 1),
            )
            for r in records
            if r["subject"] == "MA"
        ]
    )


async def dashboard_sql(ctx: Context) -> list[asyncpg.Record]:
    found = await report_cases.ensure(ctx)
    return await report_cases._floor(
        ctx,
        DASHBOARD_SQL,
        found.trust_id,
        found.academic_year,
        ["MA"],
        [MATHS["measure"]],
        [None],
        list(DASHBOARD_POINTS),
    )


async def dashboard_api(ctx: Context) -> httpx.Response:
    found: report_cases.Reports = ctx.state["reports"]
    return await ctx.client.post(
        "/graphql",
        json={
            "query": DASHBOARD,
            "variables": {
                "trust": str(found.trust_id),
                "definition": dashboard_input(found.academic_year),
            },
        },
        headers=ctx.bearer("trust_analyst"),
    )


async def dashboard_rest(ctx: Context) -> httpx.Response:
    """The REST trust report of the same figures, broken down by school."""
    found: report_cases.Reports = ctx.state["reports"]
    definition = dashboard_definition(found.academic_year)
    response = await ctx.client.post(
        f"/v1/trusts/{found.trust_id}/reports",
        json={"definition": {**definition, "dimensions": ["school", *definition["dimensions"]]}},
        headers=ctx.bearer("trust_analyst"),
    )
    response.raise_for_status()
    return response


async def _prepare_dashboard(ctx: Context) -> None:
    """Untimed: the REST report gives the dashboard's figures, row for row."""
    await report_cases.ensure(ctx)
    graphql = graphql_dashboard_rows(ctx, await dashboard_api(ctx))
    rest = rest_dashboard_rows((await dashboard_rest(ctx)).json())
    if graphql != rest:
        raise RuntimeError(f"REST and GraphQL differ: {len(rest)} and {len(graphql)} rows")


# --- A class with its pupils' figures -------------------------------------------------------------
CLASS = """
query Class($school: UUID!, $subject: UUID!, $year: Int!) {
  school(id: $school) {
    classes(academicYear: $year, first: 1) { edges { node { id code
      pupils(first: 100) { edges { node {
        id forename surname sex pupilPremium fsm senStatus eal lookedAfter ethnicity
        figures(subjectId: $subject, academicYear: $year) {
          assessmentPointCode curriculumYear judged secure objectives
          depthScore percentSecured percentSecuredOfYear
        }
      } } }
    } } }
  }
}
"""
CLASS_SQL = """
WITH curriculum AS (
    SELECT y.year, count(*) AS objectives
    FROM framework f JOIN objective o ON o.framework_id = f.id AND NOT o.archived
    JOIN generate_series(0, 13) AS y(year) ON o.year_from <= y.year AND y.year <= o.year_to
    WHERE f.subject_id = $2
    GROUP BY y.year
)
SELECT p.id, coalesce(p.preferred_forename, p.legal_forename) AS forename,
       coalesce(p.preferred_surname, p.legal_surname) AS surname, p.sex, p.pupil_premium,
       p.fsm, p.sen_status, p.eal, p.looked_after, p.ethnicity, f.code, f.curriculum_year,
       f.judged, f.secure, f.value_sum, f.objectives
FROM class_pupil cp JOIN pupil p ON p.id = cp.pupil_id
LEFT JOIN LATERAL (
    SELECT ap.code, js.curriculum_year, js.judged, js.secure, js.value_sum,
           coalesce(cur.objectives, 0) AS objectives
    FROM judgement_summary js
    JOIN assessment_point ap ON ap.id = js.assessment_point_id AND ap.academic_year = $3
    LEFT JOIN curriculum cur ON cur.year = js.curriculum_year
    WHERE js.pupil_id = p.id AND js.subject_id = $2
) f ON true
WHERE cp.class_id = $1
"""
_SEX = {"M": "MALE", "F": "FEMALE", None: None}
_SEN = {"N": "NONE", "K": "SUPPORT", "E": "EHC_PLAN", None: None}


def _share(top: Any, bottom: Any) -> float | None:
    return None if not bottom else round(100.0 * float(top) / int(bottom), 6)


def _year(value: int) -> str:
    return "R" if value == 0 else str(value)


def floor_class_rows(records: Sequence[Any]) -> list[tuple[Any, ...]]:
    rows = []
    for r in records:
        pupil = (
            str(r["id"]),
            r["forename"],
            r["surname"],
            _SEX[r["sex"]],
            r["pupil_premium"],
            r["fsm"],
            _SEN[r["sen_status"]],
            r["eal"],
            r["looked_after"],
            r["ethnicity"],
        )
        if r["code"] is None:
            rows.append((*pupil, None))
            continue
        judged = int(r["judged"])
        rows.append(
            (
                *pupil,
                r["code"],
                _year(r["curriculum_year"]),
                judged,
                int(r["secure"]),
                int(r["objectives"]),
                None if not judged else round(float(r["value_sum"]) / judged, 6),
                _share(r["secure"], judged),
                _share(r["secure"], r["objectives"]),
            )
        )
    return report_cases._sorted(rows)


def graphql_class_rows(ctx: Context, response: httpx.Response) -> list[tuple[Any, ...]]:
    body = response.json()
    if "errors" in body:
        raise RuntimeError(f"the class query failed: {body['errors']}")
    (edge,) = body["data"]["school"]["classes"]["edges"]
    if edge["node"]["id"] != str(ctx.state["graphql-class"][0]):
        raise RuntimeError(f"not the class the floor reads: {edge['node']['code']}")
    rows = []
    for pupil_edge in edge["node"]["pupils"]["edges"]:
        p = pupil_edge["node"]
        pupil = (
            p["id"],
            p["forename"],
            p["surname"],
            p["sex"],
            p["pupilPremium"],
            p["fsm"],
            p["senStatus"],
            p["eal"],
            p["lookedAfter"],
            p["ethnicity"],
        )
        if not p["figures"]:
            rows.append((*pupil, None))
        for f in p["figures"]:
            rows.append(
                (
                    *pupil,
                    f["assessmentPointCode"],
                    f["curriculumYear"],
                    f["judged"],
                    f["secure"],
                    f["objectives"],
                    *(
                        None if f[name] is None else round(f[name], 6)
                        for name in ("depthScore", "percentSecured", "percentSecuredOfYear")
                    ),
                )
            )
    return report_cases._sorted(rows)


async def _prepare_class(ctx: Context) -> None:
    """Untimed: the leader's school's first class of the year (as GraphQL lists classes: by
    code) and the school's maths subject."""
    found = await report_cases.ensure(ctx)
    class_id = await ctx.pg.fetchval(
        "SELECT id FROM teaching_group WHERE school_id = $1 AND academic_year = $2"
        " ORDER BY code LIMIT 1",
        found.school_id,
        found.academic_year,
    )
    subject_id = await ctx.pg.fetchval(
        "SELECT id FROM subject WHERE school_id = $1 AND code = 'MA'", found.school_id
    )
    ctx.state["graphql-class"] = (class_id, subject_id)


async def class_sql(ctx: Context) -> list[asyncpg.Record]:
    found = await report_cases.ensure(ctx)
    class_id, subject_id = ctx.state["graphql-class"]
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        return await ctx.pg.fetch(CLASS_SQL, class_id, subject_id, found.academic_year)


async def class_api(ctx: Context) -> httpx.Response:
    found: report_cases.Reports = ctx.state["reports"]
    # The query asks for the first class; graphql_class_rows checks it is the floor's.
    _, subject_id = ctx.state["graphql-class"]
    return await ctx.client.post(
        "/graphql",
        json={
            "query": CLASS,
            "variables": {
                "school": str(found.school_id),
                "subject": str(subject_id),
                "year": found.academic_year,
            },
        },
        headers=ctx.bearer("school_leader"),
    )


CASES_HERE = (
    Case(
        key="graphql-dashboard",
        title="GraphQL trust dashboard, 100 schools",
        floor="the trust's 'Data on a page' statement for maths, pupil premium, by school"
        " with ROLLUP; the REST trust report by school timed beside it",
        api=dashboard_api,
        api_rows=graphql_dashboard_rows,
        sql=dashboard_sql,
        sql_rows=lambda ctx, records: floor_dashboard_rows(records),
        extras={"REST trust report by school": dashboard_rest},
        prepare=_prepare_dashboard,
        repeat=10,
        warmup=3,
    ),
    Case(
        key="graphql-class",
        title="GraphQL class of 30 with figures",
        floor="one statement: the class's pupils, their maths summaries at the year's points"
        " and the year's curriculum",
        api=class_api,
        api_rows=graphql_class_rows,
        sql=class_sql,
        sql_rows=lambda ctx, records: floor_class_rows(records),
        prepare=_prepare_class,
    ),
)
for _case in CASES_HERE:
    register(_case)
