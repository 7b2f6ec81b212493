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

No case is registered here until the report routes exist. The floors, each one statement as
a hand-written report would send it, in a read-only transaction:

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

Run them alone (no API yet): ``uv run python -m bench.cases.reports --size trust --reuse``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

from bench import generate as gen
from bench import schooldata
from bench.core import Context, load_subjects

# The headline measures of "Data on a page", per subject: the teacher assessment whose band
# says at or above, and the standardised score. Science has neither in the starter pack.
HEADLINE = {"EN": ("READ-TA", "STD-READ"), "MA": ("MATH-TA", "STD-MATH"), "SC": (None, None)}
# The key groups of the page, each (name, SQL giving a pupil's value over the cohort, c).
KEY_GROUPS: tuple[tuple[str, str], ...] = (
    ("pupil_premium", "c.pupil_premium"),
    ("fsm", "c.fsm"),
    ("sen_status", "c.sen_status"),
    ("eal", "c.eal"),
    ("sex", "c.sex"),
)
# Others the engine offers, for a floor that names them: looked after, ethnicity (major group),
# the custom group. Every floor also has "all" pupils.
MORE_GROUPS: tuple[tuple[str, str], ...] = (
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
_COHORT = """
cohort AS (
    SELECT p.id AS pupil_id, p.school_id, e.year_group::int AS year_group, p.pupil_premium,
           p.fsm, p.sen_status, p.eal, p.sex, p.looked_after, p.ethnicity,
           EXISTS (SELECT 1 FROM pupil_group_member m WHERE m.pupil_id = p.id) AS in_group
    FROM enrolment e JOIN pupil p ON p.id = e.pupil_id
    WHERE e.school_id {schools} AND e.academic_year = $2 AND e.left_on IS NULL
      AND e.year_group NOT IN ('N1', 'N2', 'R')
), curriculum AS (
    SELECT f.subject_id, y.year AS curriculum_year, count(*) AS objectives
    FROM framework f JOIN objective o ON o.framework_id = f.id AND NOT o.archived
    JOIN generate_series(0, 6) AS y(year) ON o.year_from <= y.year AND y.year <= o.year_to
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


def page_sql(*, trust: bool, groups: Sequence[tuple[str, str]] = KEY_GROUPS) -> str:
    """The statement of "Data on a page" for one school ($1 its id) or a trust's schools ($1
    the trust's id); $2 the academic year; $3-$5 the subjects' codes and their headline
    teacher assessment and standardised score codes. The pupils' figures are summed at the
    finest grain first (subject x point x year group x every key group), so that the
    unpivot into key groups adds up partial sums, not a row per pupil."""
    schools = _schools(trust)
    cohort = _COHORT.format(schools=schools)
    columns, names, values = _key_groups(groups)
    return f"""
WITH {cohort}, headline AS (
    SELECT * FROM unnest($3::text[], $4::text[], $5::text[]) AS h(subject, ta, score)
), figures AS (
    SELECT s.code AS subject, ap.position, ap.code AS point, c.year_group{columns},
           100.0 * js.secure / cur.objectives AS secured,
           CASE WHEN tav.pupil_id IS NOT NULL
                THEN d.band IN ('at', 'above') AND tav.curriculum_year = c.year_group
           END AS at_or_above,
           scv.number AS score
    FROM judgement_summary js
    JOIN cohort c ON c.pupil_id = js.pupil_id
    JOIN assessment_point ap ON ap.id = js.assessment_point_id AND ap.academic_year = $2
    JOIN subject s ON s.id = js.subject_id
    JOIN headline h ON h.subject = s.code
    JOIN curriculum cur ON cur.subject_id = js.subject_id
         AND cur.curriculum_year = js.curriculum_year
    LEFT JOIN measure ta ON ta.school_id = js.school_id AND ta.code = h.ta
    LEFT JOIN measure_value tav ON tav.pupil_id = js.pupil_id AND tav.measure_id = ta.id
         AND tav.assessment_point_id = js.assessment_point_id
    LEFT JOIN descriptor d ON d.id = tav.descriptor_id
    LEFT JOIN measure sc ON sc.school_id = js.school_id AND sc.code = h.score
    LEFT JOIN measure_value scv ON scv.pupil_id = js.pupil_id AND scv.measure_id = sc.id
         AND scv.assessment_point_id = js.assessment_point_id
    WHERE js.school_id {schools}
), sums AS (
    SELECT subject, position, point, year_group{names}, count(*) AS n,
           sum(secured) AS secured, count(secured) AS secured_n,
           count(*) FILTER (WHERE at_or_above) AS at_or_above, count(at_or_above) AS assessed,
           sum(score) AS score, count(score) AS scored
    FROM figures
    GROUP BY subject, position, point, year_group{names}
)
SELECT f.subject, f.point, g.name AS key_group, g.value, f.year_group, sum(f.n) AS n,
       round(sum(f.secured) / nullif(sum(f.secured_n), 0), 1) AS pct_secured,
       round(100.0 * sum(f.at_or_above) / nullif(sum(f.assessed), 0), 1) AS pct_at_or_above,
       round(sum(f.score) / nullif(sum(f.scored), 0), 1) AS mean_score
FROM sums f
CROSS JOIN LATERAL (VALUES {values}) AS g(name, value)
GROUP BY f.subject, f.position, f.point, g.name, g.value, ROLLUP (f.year_group)
ORDER BY f.subject, f.position, g.name, g.value, f.year_group NULLS LAST
"""


def as_at_sql(groups: Sequence[tuple[str, str]] = KEY_GROUPS) -> str:
    """One school's ($1) figures as at a date ($3) in the academic year ($2), from the
    history: per subject x key group, per year group and for the school, n (pupils with a
    cell standing), % secured of the working-year curriculum and depth score (mean value)."""
    cohort = _COHORT.format(schools="= $1::uuid")
    columns, _, values = _key_groups(groups)
    return f"""
WITH {cohort}, working AS (
    SELECT c.*, s.id AS subject_id, s.code AS subject,
           coalesce(wy.curriculum_year, c.year_group) AS curriculum_year
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
    SELECT w.pupil_id, w.subject, w.subject_id, w.curriculum_year,
           min(w.year_group) AS year_group, count(d.id) AS judged,
           sum(d.value) AS value_sum, count(d.id) FILTER (WHERE d.value >= t.value) AS secure
    FROM working w
    JOIN standing st ON st.pupil_id = w.pupil_id AND st.subject_id = w.subject_id
    JOIN objective o ON o.id = st.objective_id
         AND o.year_from <= w.curriculum_year AND w.curriculum_year <= o.year_to
    LEFT JOIN descriptor d ON d.id = st.descriptor_id
    LEFT JOIN scale sc ON sc.id = d.scale_id
    LEFT JOIN descriptor t ON t.scale_id = sc.id AND t.code = sc.secure_from
    GROUP BY w.pupil_id, w.subject, w.subject_id, w.curriculum_year
), figures AS (
    SELECT p.subject, c.year_group{columns}, 100.0 * p.secure / cur.objectives AS secured,
           p.value_sum / nullif(p.judged, 0) AS depth
    FROM pupils p JOIN cohort c ON c.pupil_id = p.pupil_id
    JOIN curriculum cur ON cur.subject_id = p.subject_id
         AND cur.curriculum_year = p.curriculum_year
)
SELECT f.subject, g.name AS key_group, g.value, f.year_group, count(*) AS n,
       round(avg(f.secured), 1) AS pct_secured, round(avg(f.depth), 2) AS depth_score
FROM figures f
CROSS JOIN LATERAL (VALUES {values}) AS g(name, value)
GROUP BY f.subject, g.name, g.value, ROLLUP (f.year_group)
ORDER BY f.subject, g.name, g.value, f.year_group NULLS LAST
"""


PAGE_SCHOOL = page_sql(trust=False)
PAGE_TRUST = page_sql(trust=True)
AS_AT_SCHOOL = as_at_sql()


def _headline() -> tuple[list[str], list[str | None], list[str | None]]:
    codes = list(HEADLINE)
    return codes, [HEADLINE[c][0] for c in codes], [HEADLINE[c][1] for c in codes]


async def page_school_sql(ctx: Context) -> list[asyncpg.Record]:
    """Floor of "Data on a page" for the leader's school."""
    reports = await ensure(ctx)
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        return await ctx.pg.fetch(
            PAGE_SCHOOL, reports.school_id, reports.academic_year, *_headline()
        )


async def page_trust_sql(ctx: Context) -> list[asyncpg.Record]:
    """Floor of "Data on a page" across the trust's schools."""
    reports = await ensure(ctx)
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        return await ctx.pg.fetch(PAGE_TRUST, reports.trust_id, reports.academic_year, *_headline())


async def as_at_school_sql(ctx: Context, on: date | None = None) -> list[asyncpg.Record]:
    """Floor of the leader's school's figures as at a date (default ``Reports.as_at``)."""
    reports = await ensure(ctx)
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        return await ctx.pg.fetch(
            AS_AT_SCHOOL, reports.school_id, reports.academic_year, on or reports.as_at
        )


FLOORS = {
    "report-page-school": page_school_sql,
    "report-page-trust": page_trust_sql,
    "report-as-at-school": as_at_school_sql,
}


# --- Checking the floors against each other and timing them (until the API cases exist) ------
async def check_floors(ctx: Context) -> int:
    """As at each point's date, the history gives the % secured that the figures give at that
    point (for every subject, key group and year group): the two floors count alike."""
    reports = await ensure(ctx)
    page = {
        (r["subject"], r["point"], r["key_group"], r["value"], r["year_group"]): r
        for r in await page_school_sql(ctx)
    }
    compared = 0
    for code, on in reports.points:
        for r in await as_at_school_sql(ctx, on):
            at = page[r["subject"], code, r["key_group"], r["value"], r["year_group"]]
            if (at["n"], at["pct_secured"]) != (r["n"], r["pct_secured"]):
                raise RuntimeError(f"as at {on} and at {code} differ: {dict(r)} {dict(at)}")
            compared += 1
    return compared


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
