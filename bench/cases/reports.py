"""Reports: the data the report engine is measured on, and the raw-SQL floors its API cases
will be timed against.

The data is the generated trust's markbooks (bench/schooldata.py, built by bench/generate.py
for sizes ``small`` and ``trust``): every school with about 420 pupils in Years 1-6, a few
percent working within the year below's curriculum, three rounds of judgements in 2025/26
(one before each of its Autumn, Spring and Summer points), the cells, the figures per pupil x
subject x point, and at each point the teacher assessments (READ-TA, WRIT-TA, MATH-TA) and
standardised scores (STD-READ, STD-MATH). ``ensure`` finds it, checks that every school's
markbook is whole (pupils and cells as generated) and re-makes any school another case has
damaged.

Each case times a report route against its floor: one statement as a hand-written report
would send it, in a read-only transaction with the settings the engine gives its own
statements (no JIT; the report's work_mem):

- ``page_school_sql``: "Data on a page" for one school (the leader's: the trust's school with
  the lowest URN): per subject x point x key group (all pupils, pupil premium, FSM, SEN, EAL,
  sex), per year group and for the school: n, % secured of the working-year curriculum (from
  the figures; the mean over pupils of secure / non-archived objectives covering their
  working year), % at or above from the subject's teacher assessment (band at or above, made
  against the pupil's own year group: out-of-year pupils are their own category, never
  "below" and never counted as at), and the mean standardised score.
- ``page_trust_sql``: the same over the trust's schools from pupil-level data (subjects and
  points matched by code across schools).
- ``as_at_school_sql``: one school's % secured and depth score per subject x key group x year
  group as at a date, from the history: each cell's latest judgement on or before the date
  (DISTINCT ON), among the objectives of the pupil's working year.

Run the floors alone: ``uv run python -m bench.cases.reports --size trust --reuse``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import openpyxl

from app.services import starter
from app.settings import get_settings
from bench import generate as gen
from bench import schooldata
from bench.core import Case, Context, load_subjects, register

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the starter pack's "Data on a page" template (app/services/starter.py) asks for: per
# subject, the teacher assessment whose band says at or above (its attainment rule) and the
# standardised score (science has neither in the starter pack); its key groups; its points.
HEADLINE = {"EN": ("READ-TA", "STD-READ"), "MA": ("MATH-TA", "STD-MATH"), "SC": (None, None)}
# The key groups of the page, each (name, SQL giving a pupil's value over the cohort, c).
KEY_GROUPS: tuple[tuple[str, str], ...] = (
    ("pupil_premium", "c.pupil_premium"),
    ("sen_status", "c.sen_status"),
    ("eal", "c.eal"),
    ("sex", "c.sex"),
)
POINTS = ("AUT", "SPR", "SUM")
# Others the engine offers, for a floor that names them: FSM, looked after, ethnicity (major
# group), the custom group. Every floor also has "all" pupils.
MORE_GROUPS: tuple[tuple[str, str], ...] = (
    ("fsm", "c.fsm"),
    ("looked_after", "c.looked_after"),
    ("ethnicity", "left(c.ethnicity, 1)"),
    ("custom_group", "c.in_group"),
)


@dataclass(frozen=True, slots=True)
class Reports:
    """Where the report data is: the trust, its schools, the one school reports run on."""

    academic_year: int
    trust_id: uuid.UUID
    school_ids: tuple[uuid.UUID, ...]
    school_id: uuid.UUID  # the leader's school (lowest URN)
    points: tuple[tuple[str, date], ...]  # (code, date) of the school's points, in order
    pupils: int  # on the school's roll
    judgements: int  # in the trust

    @property
    def as_at(self) -> date:
        """Inside the spring round: some of its batches judged by then, some not."""
        return self.points[1][1] - timedelta(days=5)


# --- Finding (and repairing) the data ------------------------------------------------------
async def _seed_and_size(pg: asyncpg.Connection) -> tuple[gen.Size, int]:
    comment = await pg.fetchval(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
        " WHERE datname = current_database()"
    )
    fields = dict(part.split("=", 1) for part in (comment or "").split()[1:] if "=" in part)
    if "size" not in fields or "seed" not in fields:
        raise RuntimeError(f"not a finished bench database (comment {comment!r})")
    return gen.SIZES[fields["size"]], int(fields["seed"])


_SHAPE = f"""
SELECT s.id, (SELECT count(*) FROM pupil p WHERE p.school_id = s.id
                AND p.external_id LIKE '{schooldata.PUPIL_KEY}%') AS pupils,
       (SELECT count(*) FROM judgement_state j WHERE j.school_id = s.id) AS cells
FROM school s WHERE s.trust_id = $1
"""


async def ensure(ctx: Context) -> Reports:
    """The report data, checked whole once per run (``ctx.state["reports"]``); any school
    whose markbook does not hold the pupils and cells generated is made again."""
    found: Reports | None = ctx.state.get("reports")
    if found is None:
        found = ctx.state["reports"] = await find(ctx.pg, repair=True)
    return found


async def find(pg: asyncpg.Connection, *, repair: bool = False) -> Reports:
    size, seed = await _seed_and_size(pg)
    if not size.markbooks:
        raise RuntimeError(f"size {size.name} has no markbooks: use small or trust")
    subjects = await load_subjects(pg)
    data = gen.generate(size, seed)
    plans = {plan.school_id: plan for plan in gen.school_plans(data)}
    shapes = {
        r["id"]: (r["pupils"], r["cells"])
        for r in await pg.fetch(_SHAPE, subjects.trust_admin.trust_id)
    }
    damaged = [
        plan
        for school_id, plan in plans.items()
        if shapes.get(school_id) != schooldata.school_shape(plan, seed)
    ]
    if damaged and not repair:
        raise RuntimeError(f"{len(damaged)} schools' markbooks are not as generated")
    for plan in damaged:
        print(f"re-making the markbook of school {plan.urn}", file=sys.stderr)
        await schooldata.load_school(pg, plan, seed)
    if damaged:
        await pg.execute("VACUUM (ANALYZE)")
    school_id = subjects.school_leader.school_id
    plan = plans[school_id]
    return Reports(
        academic_year=gen.markbook_year(size),
        trust_id=subjects.trust_admin.trust_id,
        school_ids=tuple(plans),
        school_id=school_id,
        points=tuple(
            (r["code"], r["assessed_on"])
            for r in await pg.fetch(
                "SELECT code, assessed_on FROM assessment_point WHERE school_id = $1"
                " AND academic_year = $2 ORDER BY position",
                school_id,
                plan.academic_year,
            )
        ),
        pupils=schooldata.school_shape(plan, seed)[0],
        judgements=await pg.fetchval(
            "SELECT count(*) FROM objective_judgement WHERE school_id = ANY($1::uuid[])",
            list(plans),
        ),
    )


# --- The floors ------------------------------------------------------------------------------
# Each floor returns counts and sums per row; the figures are worked out from them in Python
# the way the domain does (app.domain.reports.figure: a float ratio, rounded to the column's
# decimals), so that both sides round the same number.
_PUPIL = """p.id AS pupil_id, e.school_id, e.year_group,
           CASE WHEN e.year_group IN ('N1', 'N2', 'R') THEN 0 ELSE e.year_group::int END AS year,
           p.pupil_premium, p.fsm, p.sen_status, p.eal, p.sex, p.looked_after, p.ethnicity,
           EXISTS (SELECT 1 FROM pupil_group_member m WHERE m.pupil_id = p.id) AS in_group"""
_ON_ROLL = """(e.left_on IS NULL OR e.left_on >= {on})
         AND (e.joined_on IS NULL OR e.joined_on <= {on})"""
_CURRICULUM = """
curriculum AS (
    SELECT f.subject_id, y.year AS curriculum_year, count(*) AS objectives
    FROM framework f JOIN objective o ON o.framework_id = f.id AND NOT o.archived
    JOIN generate_series(0, 13) AS y(year) ON o.year_from <= y.year AND y.year <= o.year_to
    WHERE f.school_id {schools}
    GROUP BY f.subject_id, y.year
)"""


def _key_groups(groups: Sequence[tuple[str, str]]) -> tuple[str, str, str]:
    """The groups' columns (for the pupils' rows), their names (to group by), and the rows
    of the unpivot: ("all", "all"), then (name, value) for each."""
    columns = "".join(f", {expression} AS {name}" for name, expression in groups)
    names = "".join(f", {name}" for name, _ in groups)
    values = ", ".join(["('all', 'all')", *(f"('{name}', f.{name}::text)" for name, _ in groups)])
    return columns, names, values


def _schools(trust: bool) -> str:
    return "IN (SELECT id FROM school WHERE trust_id = $1::uuid)" if trust else "= $1::uuid"


def page_sql(
    *, trust: bool, groups: Sequence[tuple[str, str]] = KEY_GROUPS, by: str = "year_group"
) -> str:
    """The statement of "Data on a page" for one school ($1 its id) or a trust's schools ($1
    the trust's id); $2 the academic year; $3-$5 the subjects' codes and their headline
    teacher assessment and standardised score codes; $6 the points' codes. One row per pupil
    on roll at each point x subject; the figures are summed at the finest grain first
    (subject x point x year group x every key group), so that the unpivot into key groups
    adds up partial sums, not a row per pupil.

    As the starter template counts them: n, every pupil on roll; % secured of the year's
    curriculum over pupils judged (secure / the working year's objectives); at or above, the
    teacher assessment's band at or above unless the pupil works within an earlier year's
    curriculum (the assessment's year, else the figures', else the year set, else their
    year group's, below their year group's), over all pupils, in a subject with a teacher
    assessment; the mean score over pupils with one."""
    schools = _schools(trust)
    columns, names, values = _key_groups(groups)
    return f"""
WITH cohort AS (
    SELECT ap.id AS point_id, ap.position, ap.code AS point, {_PUPIL}
    FROM assessment_point ap
    JOIN enrolment e ON e.school_id = ap.school_id AND e.academic_year = ap.academic_year
         AND {_ON_ROLL.format(on="ap.assessed_on")}
    JOIN pupil p ON p.id = e.pupil_id
    WHERE ap.school_id {schools} AND ap.academic_year = $2 AND ap.code = ANY($6::text[])
), {_CURRICULUM.format(schools=schools)}, headline AS (
    SELECT s.id AS subject_id, s.school_id, h.subject, ta.id AS ta_id, sc.id AS score_id
    FROM unnest($3::text[], $4::text[], $5::text[]) AS h(subject, ta, score)
    JOIN subject s ON s.code = h.subject
    LEFT JOIN measure ta ON ta.school_id = s.school_id AND ta.code = h.ta
    LEFT JOIN measure sc ON sc.school_id = s.school_id AND sc.code = h.score
    WHERE s.school_id {schools}
), figures AS (
    SELECT h.subject, c.position, c.point, c.{by}{columns},
           CASE WHEN js.judged > 0 THEN js.secure * 1.0 / cur.objectives END AS secured,
           CASE WHEN h.ta_id IS NOT NULL
                THEN coalesce(d.band IN ('at', 'above'), false)
                     AND coalesce(tav.curriculum_year, js.curriculum_year, wy.curriculum_year,
                                  c.year) >= c.year
           END AS at_or_above,
           scv.number AS score
    FROM cohort c
    JOIN headline h ON h.school_id = c.school_id
    LEFT JOIN judgement_summary js ON js.pupil_id = c.pupil_id
         AND js.subject_id = h.subject_id AND js.assessment_point_id = c.point_id
    LEFT JOIN curriculum cur ON cur.subject_id = h.subject_id
         AND cur.curriculum_year = js.curriculum_year
    LEFT JOIN working_year wy ON wy.pupil_id = c.pupil_id AND wy.subject_id = h.subject_id
         AND wy.academic_year = $2
    LEFT JOIN measure_value tav ON tav.pupil_id = c.pupil_id AND tav.measure_id = h.ta_id
         AND tav.assessment_point_id = c.point_id
    LEFT JOIN descriptor d ON d.id = tav.descriptor_id
    LEFT JOIN measure_value scv ON scv.pupil_id = c.pupil_id AND scv.measure_id = h.score_id
         AND scv.assessment_point_id = c.point_id
), sums AS (
    SELECT subject, position, point, {by}{names}, count(*) AS n,
           sum(secured) AS secured, count(secured) AS secured_n,
           sum(at_or_above::int) AS at_or_above, sum(score) AS score, count(score) AS scored
    FROM figures
    GROUP BY subject, position, point, {by}{names}
)
SELECT f.subject, f.point, g.name AS key_group, g.value, f.{by}, sum(f.n) AS n,
       sum(f.secured) AS secured, sum(f.secured_n) AS secured_n,
       sum(f.at_or_above) AS at_or_above, sum(f.score) AS score, sum(f.scored) AS scored
FROM sums f
CROSS JOIN LATERAL (VALUES {values}) AS g(name, value)
GROUP BY f.subject, f.position, f.point, g.name, g.value, ROLLUP (f.{by})
"""


def as_at_sql(groups: Sequence[tuple[str, str]] = KEY_GROUPS) -> str:
    """One school's ($1) figures as at a date ($3) in the academic year ($2), from the
    history, for the pupils on roll that day: per subject x key group, per year group and
    for the school, the pupils judged (n), and the sums of their share of the working year's
    curriculum secured and of their depth scores (mean value of the descriptors standing)."""
    columns, _, values = _key_groups(groups)
    return f"""
WITH cohort AS (
    SELECT {_PUPIL}
    FROM enrolment e JOIN pupil p ON p.id = e.pupil_id
    WHERE e.school_id = $1::uuid AND e.academic_year = $2 AND {_ON_ROLL.format(on="$3")}
), {_CURRICULUM.format(schools="= $1::uuid")}, working AS (
    SELECT c.pupil_id, s.id AS subject_id, s.code AS subject,
           coalesce(wy.curriculum_year, c.year) AS curriculum_year
    FROM cohort c CROSS JOIN subject s
    LEFT JOIN working_year wy ON wy.pupil_id = c.pupil_id AND wy.subject_id = s.id
         AND wy.academic_year = $2
    WHERE s.school_id = $1::uuid
), standing AS (
    SELECT DISTINCT ON (j.pupil_id, j.objective_id) j.pupil_id, j.objective_id,
           j.subject_id, j.descriptor_id
    FROM objective_judgement j
    WHERE j.school_id = $1::uuid AND j.assessed_on <= $3
    ORDER BY j.pupil_id, j.objective_id, j.assessed_on DESC, j.recorded_at DESC,
             j.version DESC
), pupils AS (
    SELECT w.pupil_id, w.subject, w.subject_id, w.curriculum_year, count(*) AS judged,
           sum(d.value) AS value_sum, count(*) FILTER (WHERE d.value >= t.value) AS secure
    FROM working w
    JOIN standing st ON st.pupil_id = w.pupil_id AND st.subject_id = w.subject_id
    JOIN objective o ON o.id = st.objective_id
         AND o.year_from <= w.curriculum_year AND w.curriculum_year <= o.year_to
    JOIN descriptor d ON d.id = st.descriptor_id
    JOIN scale sc ON sc.id = d.scale_id
    JOIN descriptor t ON t.scale_id = sc.id AND t.code = sc.secure_from
    GROUP BY w.pupil_id, w.subject, w.subject_id, w.curriculum_year
), figures AS (
    SELECT p.subject, c.year_group{columns},
           p.secure * 1.0 / nullif(cur.objectives, 0) AS secured,
           p.value_sum::float8 / p.judged AS depth
    FROM pupils p JOIN cohort c ON c.pupil_id = p.pupil_id
    LEFT JOIN curriculum cur ON cur.subject_id = p.subject_id
         AND cur.curriculum_year = p.curriculum_year
)
SELECT f.subject, g.name AS key_group, g.value, f.year_group, count(*) AS n,
       sum(f.secured) AS secured, count(f.secured) AS secured_n, sum(f.depth) AS depth
FROM figures f
CROSS JOIN LATERAL (VALUES {values}) AS g(name, value)
GROUP BY f.subject, g.name, g.value, ROLLUP (f.year_group)
"""


PAGE_SCHOOL = page_sql(trust=False)
PAGE_TRUST = page_sql(trust=True)
AS_AT_SCHOOL = as_at_sql()


def _headline() -> tuple[list[str], list[str | None], list[str | None], list[str]]:
    codes = list(HEADLINE)
    return codes, [HEADLINE[c][0] for c in codes], [HEADLINE[c][1] for c in codes], list(POINTS)


async def _floor(ctx: Context, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One floor statement in a read-only transaction, with the settings the engine gives its
    own statements (app.db.queries.reports: no JIT, the report's work_mem)."""
    work_mem = get_settings().report_work_mem_mb
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        await ctx.pg.execute(f"SET LOCAL jit = off; SET LOCAL work_mem = '{work_mem}MB'")
        return await ctx.pg.fetch(sql, *args)


async def page_school_sql(ctx: Context) -> list[asyncpg.Record]:
    """Floor of "Data on a page" for the leader's school."""
    reports = await ensure(ctx)
    return await _floor(ctx, PAGE_SCHOOL, reports.school_id, reports.academic_year, *_headline())


async def page_trust_sql(ctx: Context) -> list[asyncpg.Record]:
    """Floor of "Data on a page" across the trust's schools."""
    reports = await ensure(ctx)
    return await _floor(ctx, PAGE_TRUST, reports.trust_id, reports.academic_year, *_headline())


async def as_at_school_sql(ctx: Context, on: date | None = None) -> list[asyncpg.Record]:
    """Floor of the leader's school's figures as at a date (default ``Reports.as_at``)."""
    reports = await ensure(ctx)
    return await _floor(
        ctx, AS_AT_SCHOOL, reports.school_id, reports.academic_year, on or reports.as_at
    )


FLOORS = {
    "report-page-school": page_school_sql,
    "report-page-trust": page_trust_sql,
    "report-as-at-school": as_at_school_sql,
}


# --- The figures, from the floors' sums and from the API's table -----------------------------
def _figure(top: Any, bottom: Any, scale: float, decimals: int) -> float | None:
    """A ratio as app.domain.reports.figure makes it (scale x top / bottom, as floats) and
    rounds it for the table; None without a denominator."""
    if top is None or not bottom:
        return None
    return round(scale * float(top) / int(bottom), decimals)


_FLAGS = {"true": "yes", "false": "no", None: "unknown"}


def _group(record: Any) -> tuple[str | None, str | None]:
    """A floor's key group as the engine names it: all pupils (None, None); yes / no /
    unknown for a flag; the roster's code, else unknown."""
    name, value = record["key_group"], record["value"]
    if name == "all":
        return None, None
    if value in _FLAGS:
        return name, _FLAGS[value]
    return name, value


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=lambda row: tuple("" if v is None else str(v) for v in row))


PageRow = tuple[Any, ...]  # subject, point, group, value, year group, n, n secured, 3 figures


def page_rows(records: Sequence[Any]) -> list[PageRow]:
    """The floor's rows as the page's figures: (subject, point, key group, value, year group,
    pupils, pupils with % secured, % secured of the year's curriculum, % at or above, mean
    standardised score)."""
    return _sorted(
        [
            (
                r["subject"],
                r["point"],
                *_group(r),
                r["year_group"],
                int(r["n"]),
                int(r["secured_n"]),
                _figure(r["secured"], r["secured_n"], 100.0, 1),
                _figure(r["at_or_above"], r["n"], 100.0, 1),
                _figure(r["score"], r["scored"], 1.0, 1),
            )
            for r in records
        ]
    )


def _cells(section: dict[str, Any], row: dict[str, Any]) -> dict[tuple[str, int], Any]:
    """A table row's cells by (metric, point)."""
    return {
        (column["metric"], column["point"]): cell
        for column, cell in zip(section["columns"], row["cells"], strict=True)
    }


def table_page_rows(body: dict[str, Any]) -> list[PageRow]:
    """The API's "Data on a page" table as the floor's rows: one per row x point."""
    section = body["sections"][0]
    found = []
    for row in section["rows"]:
        keys, cells = row["keys"], _cells(section, row)
        for point, code in enumerate(POINTS):
            secured = cells["percent_secured_of_year", point]
            found.append(
                (
                    keys["subject"],
                    code,
                    keys["group"],
                    keys["group_value"],
                    keys["year_group"],
                    cells["pupils", point]["value"],
                    secured["n"],
                    secured["value"],
                    cells["percent_at_or_above", point]["value"],
                    cells["measure_mean", point]["value"],
                )
            )
    return _sorted(found)


def as_at_rows(records: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The as-at floor's rows: (subject, key group, value, year group, pupils judged,
    pupils with % secured, % secured of the year's curriculum, depth score)."""
    return _sorted(
        [
            (
                r["subject"],
                *_group(r),
                r["year_group"],
                int(r["n"]),
                int(r["secured_n"]),
                _figure(r["secured"], r["secured_n"], 100.0, 1),
                _figure(r["depth"], r["n"], 1.0, 2),
            )
            for r in records
        ]
    )


def table_as_at_rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    section = body["sections"][0]
    found = []
    for row in section["rows"]:
        keys, cells = row["keys"], _cells(section, row)
        secured, depth = cells["percent_secured_of_year", 0], cells["depth_score", 0]
        found.append(
            (
                keys["subject"],
                keys["group"],
                keys["group_value"],
                keys["year_group"],
                depth["n"],
                secured["n"],
                secured["value"],
                depth["value"],
            )
        )
    return _sorted(found)


# --- Checking the floors against each other ----------------------------------------------------
async def check_floors(ctx: Context) -> int:
    """As at each point's date, the history gives the % secured that the figures give at that
    point (for every subject, key group and year group): the two floors count alike."""
    reports = await ensure(ctx)
    page = {row[:5]: row for row in page_rows(await page_school_sql(ctx))}
    compared = 0
    for code, on in reports.points:
        for row in as_at_rows(await as_at_school_sql(ctx, on)):
            at = page[row[0], code, *row[1:4]]
            if at[6:8] != row[5:7]:
                raise RuntimeError(f"as at {on} and at {code} differ: {row} {at}")
            compared += 1
    return compared


# --- The API cases --------------------------------------------------------------------------
def data_on_a_page(reports: Reports) -> dict[str, Any]:
    """The starter pack's "Data on a page" template, for the generated markbooks' year."""
    template = next(t for t in starter.REPORT_TEMPLATES if t["code"] == "DATA-ON-A-PAGE")
    return {**template["definition"], "academic_year": reports.academic_year}


def as_at_definition(reports: Reports) -> dict[str, Any]:
    """The page's figures from the markbooks (% secured of the year's curriculum, depth
    score) by the same rows, as at ``Reports.as_at``, read from the history."""
    page = data_on_a_page(reports)
    return {
        "title": "As at",
        "metrics": ["percent_secured_of_year", "depth_score"],
        "dimensions": page["dimensions"],
        "groups": page["groups"],
        "points": [{"as_at": reports.as_at.isoformat()}],
    }


async def _prepare(ctx: Context) -> None:
    reports = await ensure(ctx)
    want = [name for name, _ in KEY_GROUPS]
    definition = data_on_a_page(reports)
    if definition["groups"] != want or definition["points"] != list(POINTS):
        raise RuntimeError(f"the floors' key groups {want} are not the template's: align them")


async def page_school_api(ctx: Context) -> httpx.Response:
    reports: Reports = ctx.state["reports"]
    return await ctx.client.post(
        f"/v1/schools/{reports.school_id}/reports",
        json={"definition": data_on_a_page(reports)},
        headers=ctx.bearer("school_leader"),
    )


async def page_trust_api(ctx: Context) -> httpx.Response:
    reports: Reports = ctx.state["reports"]
    return await ctx.client.post(
        f"/v1/trusts/{reports.trust_id}/reports",
        json={"definition": data_on_a_page(reports)},
        headers=ctx.bearer("trust_analyst"),
    )


async def page_trust_xlsx_api(ctx: Context) -> httpx.Response:
    reports: Reports = ctx.state["reports"]
    return await ctx.client.post(
        f"/v1/trusts/{reports.trust_id}/reports",
        json={"definition": data_on_a_page(reports)},
        headers={**ctx.bearer("trust_analyst"), "Accept": XLSX},
    )


async def as_at_school_api(ctx: Context) -> httpx.Response:
    reports: Reports = ctx.state["reports"]
    return await ctx.client.post(
        f"/v1/schools/{reports.school_id}/reports",
        json={"definition": as_at_definition(reports)},
        headers=ctx.bearer("school_leader"),
    )


async def _prepare_xlsx(ctx: Context) -> None:
    """The JSON table of the same report, untimed: its labels say which row of the workbook
    is which (the workbook shows labels, not keys)."""
    await _prepare(ctx)
    response = await page_trust_api(ctx)
    response.raise_for_status()
    ctx.state["report-page-trust-json"] = response.json()


def xlsx_page_rows(ctx: Context, response: httpx.Response) -> list[PageRow]:
    """The workbook's figures, read back with openpyxl and matched to the JSON table's rows
    by their labels, as the floor's rows."""
    if response.headers["content-type"] != XLSX:
        raise RuntimeError(f"not a workbook: {response.headers['content-type']}")
    body = ctx.state["report-page-trust-json"]
    section = body["sections"][0]
    by_labels = {tuple(row["labels"].values()): row for row in section["rows"]}
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = book.worksheets[0]
    rows = []
    labels = len(section["rows"][0]["labels"])
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = by_labels.get(tuple(values[:labels]))
        if row is None:  # the blank line and the notes under the table
            continue
        figures = [*values[labels:], *[None] * len(row["cells"])]  # empty cells end a row
        cells = [
            {**cell, "value": None if value == "c" else value}
            for cell, value in zip(row["cells"], figures, strict=False)
        ]
        rows.append({**row, "cells": cells})
    book.close()
    if len(rows) != len(section["rows"]):
        raise RuntimeError(f"the workbook has {len(rows)} rows, the table {len(section['rows'])}")
    return table_page_rows({"sections": [{**section, "rows": rows}]})


CASES_HERE = (
    Case(
        key="report-page-school",
        title='"Data on a page", one school (leader)',
        floor="one statement: the pupils on roll at each point x subject, their figures,"
        " teacher assessment and score, summed per finest group, unpivoted into key groups"
        " with ROLLUP (year group)",
        api=page_school_api,
        api_rows=lambda ctx, r: table_page_rows(r.json()),
        sql=page_school_sql,
        sql_rows=lambda ctx, records: page_rows(records),
        prepare=_prepare,
        target_ms=50,
    ),
    Case(
        key="report-page-trust",
        title='"Data on a page", 100 schools (analyst)',
        floor="the same statement over the trust's schools, subjects and points by code",
        api=page_trust_api,
        api_rows=lambda ctx, r: table_page_rows(r.json()),
        sql=page_trust_sql,
        sql_rows=lambda ctx, records: page_rows(records),
        prepare=_prepare,
        target_ms=1000,
        repeat=10,
        warmup=3,
    ),
    Case(
        key="report-page-trust-xlsx",
        title='"Data on a page", 100 schools, XLSX',
        floor="the trust statement (the workbook's figures read back and compared)",
        api=page_trust_xlsx_api,
        api_rows=xlsx_page_rows,
        sql=page_trust_sql,
        sql_rows=lambda ctx, records: page_rows(records),
        prepare=_prepare_xlsx,
        repeat=10,
        warmup=3,
        peak_memory=True,
    ),
    Case(
        key="report-as-at-school",
        title="one school as at a date (leader)",
        floor="one statement: per cell the judgement standing on the date (DISTINCT ON) among"
        " the working year's objectives, per pupil, then per key group with ROLLUP",
        api=as_at_school_api,
        api_rows=lambda ctx, r: table_as_at_rows(r.json()),
        sql=as_at_school_sql,
        sql_rows=lambda ctx, records: as_at_rows(records),
        prepare=_prepare,
        repeat=20,
        warmup=5,
    ),
)
# Run as a script (python -m bench.cases.reports), the package has registered them already.
if __name__ != "__main__":
    for _case in CASES_HERE:
        register(_case)


# --- Timing the floors alone ----------------------------------------------------------------------
async def _time(ctx: Context, floor: Any, repeat: int, warmup: int) -> tuple[list[float], int]:
    rows = 0
    for _ in range(warmup):
        rows = len(await floor(ctx))
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await floor(ctx)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


async def _main(url: str, repeat: int, warmup: int) -> None:
    pg = await asyncpg.connect(gen.asyncpg_dsn(url))
    try:
        ctx = Context(client=None, pg=pg, subjects=await load_subjects(pg), issuer=None)  # type: ignore[arg-type]
        started = time.perf_counter()
        reports = await ensure(ctx)
        print(
            f"report data: {len(reports.school_ids)} schools, {reports.judgements:,} judgements;"
            f" one school: {reports.pupils} pupils (checked whole in"
            f" {time.perf_counter() - started:.1f} s)"
        )
        print(f"floors agree: {await check_floors(ctx):,} figures as at each point's date")
        print(f"{'floor':<22} {'rows':>6} {'median ms':>10} {'p95 ms':>8}")
        for key, floor in FLOORS.items():
            samples, rows = await _time(ctx, floor, repeat, warmup)
            p95 = sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]
            print(f"{key:<22} {rows:>6} {statistics.median(samples):>10.1f} {p95:>8.1f}")
    finally:
        await pg.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cases.reports", description=__doc__)
    parser.add_argument("--size", choices=("small", "trust"), default="small")
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    parser.add_argument("--server-url", default=gen.DEFAULT_SERVER_URL)
    parser.add_argument("--reuse", action="store_true", help="keep a database built alike")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=6)
    args = parser.parse_args(argv)
    size = gen.SIZES[args.size]
    built = gen.build(size, server_url=args.server_url, seed=args.seed, reuse=args.reuse)
    asyncio.run(_main(built.url, args.repeat, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
