"""The markbook: a class's grid read, a grid write of 1,200 cells, and a bulk write of 10,000
measure values, in a 420-pupil primary school with three subjects' judgements.

The school is the bench's own, in a trust of its own (URN 099420, outside the generator's
range), so that no other case touches it: the roster cases delete every pupil of the schools
they sync into. ``prepare`` makes it, untimed and set-based (COPY): 14 teachers and an
integration client (roster:read, roster:write, values:write), signed in through the token
endpoint; what the England primary starter pack gives a school (English, mathematics and
science; the depth scale B/D/S/G secure from S; the teacher-assessment scale; the starter
measures; the national curriculum frameworks, judged on the depth scale); the default
Autumn, Spring and Summer points of this academic year (the one the run's date falls in: a
teacher reaches the pupils of the classes they teach this year); and its roll: 420 pupils,
70 in each of Years 1-6, each year in two form classes (35) and three maths sets (30, 25,
15), every class taught by one of the teachers. teacher01 teaches Year 4's form class 4A and
its top maths set 4/Ma1.

Every pupil is judged against every objective of their year group in the three subjects
three times (about 40,000 cells, 121,000 judgements): history in ``objective_judgement``,
the latest in ``judgement_state``, and the figures per pupil x subject x point in
``judgement_summary``, as the app would have left them. So that no judgement is dated in the
future, whatever the run's date, the three rounds are dated in the first weeks of the year
(1, 7 and 13 September) and the timed grid write is dated 20 September (or today, earlier in
September): it stands over every cell's history, and it changes the figures at all three
points of the year (90 summaries: 30 pupils x 1 subject x 3 points).

The cases, each beside its raw-SQL floor on the same data:

- ``markbook-grid-read``: teacher01 reads 4/Ma1's mathematics grid (30 pupils x the 42
  Year 4 objectives, 1,260 judged cells). Floor: the class's pupils, the objectives and the
  cells from ``judgement_state``, three SELECTs in one read-only transaction.
- ``markbook-grid-as-at``: the same grid as at the second round's date, so each cell's
  standing judgement has to be found in the history. Floor: as the read, with the cells
  picked from ``objective_judgement`` with ``DISTINCT ON`` (no target in the issue).
- ``markbook-grid-write``: teacher01 writes 1,200 cells of that grid (30 pupils x the first
  40 objectives; about 4% cleared, some with a note) with the grid's ETag as If-Match.
  Floor, in one transaction: one statement that ticks the clock, appends the 1,200
  judgements and upserts the 1,200 current cells (data-modifying CTEs), then one
  ``INSERT ... SELECT ... GROUP BY`` that recounts the 90 summaries from the history.
- ``values-bulk-write``: the school's integration client (values:write) writes 10,000
  values (420 pupils x 8 starter measures x 3 points, the first 10,000: teacher assessments
  as descriptor codes, standardised and KS2 scores as numbers) into a school with none at
  those points. Floor, in one transaction: tick the clock, COPY the history, upsert the
  current values with one ``INSERT ... SELECT FROM unnest ... ON CONFLICT``.

The write cases reset, untimed, before every call: the grid write's cells, summaries and
clock are put back as built and its judgements deleted (then VACUUM); the values written
are deleted. A readback of what each side left (every stored column but ids and times) must
be equal. The roster cases delete every pupil of this school in their reset: each markbook
reset checks the data is whole and rebuilds it if not. ``cleanup`` removes it all at the end
of the run, so the database is as generated (and ``--reuse`` stays valid).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from app.domain.calendar import AcademicYear, default_assessment_points
from app.domain.roles import Role
from app.services.starter import ATTAINMENT_SCALE, MEASURES, SUBJECTS
from bench import generate as gen
from bench import schooldata
from bench.core import Case, Context, register

# The bench's own school, in a trust of its own: no other case touches it (the roster cases
# delete every pupil of the schools they sync into).
URN = "099420"  # the generator's URNs are 100000-999999
TRUST_NAME = "Bench Markbook Trust"
SCHOOL_NAME = "Bench Markbook Primary School"
CLIENT_ID = gen.school_client_id(URN)
TEACHERS = 14
TEACHER = "markbook_teacher"  # keys of ctx.tokens
LEADER = "markbook_leader"
CLIENT = "markbook_client"
PER_YEAR = 70
YEAR_GROUPS = schooldata.YEAR_GROUPS  # two form classes of 35, maths sets of 30, 25 and 15
ROUNDS = 3  # judgements per cell
GRID_YEAR = schooldata.GRID_YEAR  # teacher01 teaches 4A and 4/Ma1
GRID_SUBJECT = "MA"
GRID_CLASS = "4/Ma1"
WRITE_OBJECTIVES = 40  # x the class's 30 pupils: 1,200 cells
VALUE_MEASURES = (
    "READ-TA",
    "WRIT-TA",
    "MATH-TA",
    "STD-READ",
    "STD-MATH",
    "KS2-READ",
    "KS2-GPS",
    "KS2-MATH",
)
VALUES = 10_000
PUPIL_KEY = "MBK-"  # external ids of the bench's pupils
WRITE_DAY = 20  # September: the grid write's date, after the three rounds
TIMEOUT = 120.0


# --- The plan: ids and dates, deterministic for an academic year ---------------------------
def this_year(today: date | None = None) -> AcademicYear:
    return AcademicYear.containing(today or date.today())


def write_date(year: AcademicYear, today: date | None = None) -> date:
    """The grid write's date: 20 September, or today if that is still to come."""
    return min(today or date.today(), year.starts_on + timedelta(days=WRITE_DAY - 1))


def round_dates(year: AcademicYear, today: date | None = None) -> list[date]:
    """When the three rounds of judgements were made: spread from 1 September to before the
    write's date (1, 7 and 13 September once the year is three weeks old)."""
    span = (write_date(year, today) - year.starts_on).days
    return [year.starts_on + timedelta(days=k * span // ROUNDS) for k in range(ROUNDS)]


BASE_VERSION = schooldata.last_version(ROUNDS)


def class_codes() -> list[str]:
    return [code for y in YEAR_GROUPS for code in schooldata.class_codes(y)]


@dataclass
class Markbook:
    """What the cases need, as strings and small tuples (nothing for the app's garbage
    collector to walk, in-process)."""

    school_id: str
    year: AcademicYear
    subjects: dict[str, str]  # code -> id
    points: list[tuple[str, date]]  # (id, date) of the year's three points, in order
    class_id: str  # 4/Ma1
    class_pupils: list[str]
    grid_objectives: list[str]  # the Year 4 mathematics objectives, in order
    teacher_id: str  # teacher01, who teaches 4A and 4/Ma1
    client_id: str  # the school's integration client
    cells: int  # judgement_state rows of the school
    summaries: list[tuple[Any, ...]] = field(default_factory=list)  # 4/Ma1 x MA, as built
    measures: dict[str, str] = field(default_factory=dict)  # code -> id
    pupils: list[tuple[str, int]] = field(default_factory=list)  # (id, year group): all 420


# --- Building the school's markbook (untimed, COPY) ----------------------------------------
_COLUMNS: dict[str, tuple[str, ...]] = {
    "trust": ("id", "name", "created_at", "updated_at"),
    "school": ("id", "name", "urn", "phase", "trust_id", "created_at", "updated_at"),
    "user": gen.COLUMNS["user"],
    "role_grant": gen.COLUMNS["role_grant"],
    "integration_client": gen.COLUMNS["integration_client"],
    "assessment_point": gen.COLUMNS["assessment_point"],
    **schooldata.COLUMNS,
}
_TOUCHED = ", ".join(f'"{table}"' for table in (*_COLUMNS, "audit_event"))


def _rows(
    year: AcademicYear, today: date, password_hash: str, secret_hash: str
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the bench's markbook school, in _COLUMNS order. Deterministic for the
    year (ids from a generator seeded with it); only created_at/updated_at are the run's.
    The hashes are copied from the generated users and clients (argon2 is slow)."""
    rng = random.Random(f"markbook-bench-{year.start_year}")
    new_id = schooldata.Ids(rng)
    now = datetime.now(UTC)
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}

    # The school in a trust of its own, its teachers and its MIS client, this year's points.
    trust_id, school_id = new_id(), new_id()
    rows["trust"].append((trust_id, TRUST_NAME, now, now))
    rows["school"].append((school_id, SCHOOL_NAME, URN, "primary", trust_id, now, now))
    teachers: dict[int, uuid.UUID] = {}
    for k in range(1, TEACHERS + 1):
        teachers[k] = new_id()
        email = gen.teacher_email(URN, k)
        rows["user"].append((teachers[k], email, f"Teacher {k:02d}", password_hash, True, now, now))
        rows["role_grant"].append((new_id(), teachers[k], str(Role.TEACHER), None, school_id, now))
    # The school's leader: the whole school's grid.
    leader = new_id()
    rows["user"].append((leader, gen.leader_email(URN), "Leader", password_hash, True, now, now))
    rows["role_grant"].append((new_id(), leader, str(Role.SCHOOL_LEADER), None, school_id, now))
    rows["integration_client"].append(
        (
            new_id(),
            f"{SCHOOL_NAME} MIS",
            CLIENT_ID,
            secret_hash,
            json.dumps([str(scope) for scope in gen.SCHOOL_CLIENT_SCOPES]),
            None,
            school_id,
            True,
            now,
            now,
        )
    )
    points = []
    for plan in default_assessment_points(year):
        point_id = new_id()
        points.append((point_id, plan))
        rows["assessment_point"].append(
            (
                point_id,
                school_id,
                year.start_year,
                plan.code,
                plan.name,
                plan.position,
                plan.assessed_on,
                now,
                now,
            )
        )

    defs = schooldata.definitions(rows, new_id, school_id, now)
    pupils = schooldata.roll(
        rows,
        new_id,
        rng,
        school_id=school_id,
        academic_year=year.start_year,
        year_sizes=dict.fromkeys(YEAR_GROUPS, PER_YEAR),
        teachers=teachers,
        key=PUPIL_KEY,
        now=now,
    )
    # Three rounds of every pupil against every objective of their year, dated before the
    # year's first point: the figures at every point are the last round's.
    days = round_dates(year, today)
    schooldata.judgements(
        rows,
        new_id,
        rng,
        school_id=school_id,
        pupils=pupils,
        defs=defs,
        teachers=teachers,
        rounds=ROUNDS,
        day=lambda round_no, _subject, _year: days[round_no],
        points=[(point_id, plan.assessed_on) for point_id, plan in points],
        not_after=now - timedelta(minutes=10),
    )
    rows["markbook_clock"].append((school_id, BASE_VERSION))
    return rows


async def _remove(pg: asyncpg.Connection) -> None:
    """Take out the bench's markbook school, whatever of it is there.

    The cells go first, then VACUUM: judgement_state has no index on judgement_id, so each
    judgement deleted while cells remain would scan judgement_state for cells to cascade to
    (deleting the 420 pupils with their judgements took minutes that way)."""
    found = await pg.fetchrow("SELECT id, trust_id FROM school WHERE urn = $1", URN)
    if found is not None:
        school_id = found["id"]
        await pg.execute("DELETE FROM judgement_state WHERE school_id = $1", school_id)
        await pg.execute("VACUUM judgement_state")
        await pg.execute("DELETE FROM objective_judgement WHERE school_id = $1", school_id)
        await pg.execute("DELETE FROM pupil WHERE school_id = $1", school_id)
        for table in ("measure", "framework", "subject", "scale", "audit_event"):
            await pg.execute(f"DELETE FROM {table} WHERE school_id = $1", school_id)
        await pg.execute("DELETE FROM school WHERE id = $1", school_id)
        await pg.execute("DELETE FROM trust WHERE id = $1", found["trust_id"])
    await pg.execute("DELETE FROM integration_client WHERE client_id = $1", CLIENT_ID)
    await pg.execute(
        'DELETE FROM "user" WHERE email = ANY($1::text[])',
        [gen.leader_email(URN), *(gen.teacher_email(URN, k) for k in range(1, TEACHERS + 1))],
    )


async def _build(ctx: Context) -> None:
    pg = ctx.pg
    today = date.today()
    year = this_year(today)
    await _remove(pg)
    password_hash = await pg.fetchval(
        'SELECT password_hash FROM "user" WHERE email = $1', ctx.subjects.teacher.email
    )
    secret_hash = await pg.fetchval(
        "SELECT secret_hash FROM integration_client WHERE client_id = $1",
        ctx.subjects.school_client.client_id,
    )
    rows = _rows(year, today, password_hash, secret_hash)
    async with pg.transaction():
        for table, columns in _COLUMNS.items():
            await pg.copy_records_to_table(table, records=rows[table], columns=list(columns))
    cells = len(rows["judgement_state"])
    del rows
    await pg.execute(f"VACUUM (ANALYZE) {_TOUCHED}")
    ctx.state["markbook"] = await _load(ctx, year, cells)
    ctx.state["markbook:builds"] = ctx.state.get("markbook:builds", 0) + 1
    await _sign_in(ctx)


async def _sign_in(ctx: Context) -> None:
    """Tokens for the school's teacher01, its leader and its client, from the token
    endpoint."""
    for who, form in (
        (
            TEACHER,
            {
                "grant_type": "password",
                "username": gen.teacher_email(URN, 1),
                "password": gen.PASSWORD,
            },
        ),
        (
            LEADER,
            {"grant_type": "password", "username": gen.leader_email(URN), "password": gen.PASSWORD},
        ),
        (
            CLIENT,
            {
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": gen.CLIENT_SECRET,
            },
        ),
    ):
        response = await ctx.client.post("/v1/auth/token", data=form)
        response.raise_for_status()
        ctx.tokens[who] = response.json()["access_token"]


async def _load(ctx: Context, year: AcademicYear, cells: int) -> Markbook:
    """The ids the cases need, read back from what was built."""
    pg = ctx.pg
    school_id = await pg.fetchval("SELECT id FROM school WHERE urn = $1", URN)
    subjects = {
        r["code"]: str(r["id"])
        for r in await pg.fetch(
            "SELECT id, code FROM subject WHERE school_id = $1 AND code = ANY($2::text[])",
            school_id,
            list(schooldata.SUBJECT_CODES),
        )
    }
    points = await pg.fetch(
        "SELECT id, assessed_on FROM assessment_point WHERE school_id = $1"
        " AND academic_year = $2 ORDER BY position",
        school_id,
        year.start_year,
    )
    teacher_id = await pg.fetchval(
        'SELECT id FROM "user" WHERE email = $1', gen.teacher_email(URN, 1)
    )
    client_id = await pg.fetchval(
        "SELECT id FROM integration_client WHERE client_id = $1", CLIENT_ID
    )
    class_id = await pg.fetchval(
        "SELECT id FROM teaching_group WHERE school_id = $1 AND academic_year = $2 AND code = $3",
        school_id,
        year.start_year,
        GRID_CLASS,
    )
    class_pupils = await pg.fetch(
        "SELECT p.id FROM class_pupil cp JOIN pupil p ON p.id = cp.pupil_id"
        " WHERE cp.class_id = $1 ORDER BY p.legal_surname, p.legal_forename, p.id",
        class_id,
    )
    objectives = await pg.fetch(
        "SELECT o.id FROM objective o JOIN framework f ON f.id = o.framework_id"
        " WHERE f.school_id = $1 AND f.subject_id = $2 AND o.year_from <= $3"
        " AND $3 <= o.year_to ORDER BY o.position",
        school_id,
        uuid.UUID(subjects[GRID_SUBJECT]),
        GRID_YEAR,
    )
    measures = {
        r["code"]: str(r["id"])
        for r in await pg.fetch(
            "SELECT id, code FROM measure WHERE school_id = $1 AND code = ANY($2::text[])",
            school_id,
            list(VALUE_MEASURES),
        )
    }
    pupils = await pg.fetch(
        "SELECT p.id, e.year_group FROM pupil p"
        " JOIN enrolment e ON e.pupil_id = p.id AND e.academic_year = $2"
        " WHERE p.school_id = $1 AND p.external_id LIKE $3 ORDER BY p.external_id",
        school_id,
        year.start_year,
        f"{PUPIL_KEY}%",
    )
    book = Markbook(
        school_id=str(school_id),
        year=year,
        subjects=subjects,
        points=[(str(p["id"]), p["assessed_on"]) for p in points],
        class_id=str(class_id),
        class_pupils=[str(r["id"]) for r in class_pupils],
        grid_objectives=[str(r["id"]) for r in objectives],
        teacher_id=str(teacher_id),
        client_id=str(client_id),
        cells=cells,
        measures=measures,
        pupils=[(str(r["id"]), int(r["year_group"])) for r in pupils],
    )
    book.summaries = await _grid_summaries(pg, book)
    return book


_PRESENT = """
SELECT (SELECT count(*) FROM pupil WHERE school_id = $1 AND external_id LIKE $2),
       (SELECT count(*) FROM judgement_state WHERE school_id = $1),
       (SELECT count(*) FROM class_pupil WHERE school_id = $1
          AND class_id IN (SELECT id FROM teaching_group WHERE school_id = $1
                             AND academic_year = $3 AND code = ANY($4::text[])))
"""


async def ensure(ctx: Context) -> Markbook:
    """The school's markbook, built if it is not there whole (another case's reset may have
    deleted the school's pupils) or if the academic year has turned since it was built."""
    book: Markbook | None = ctx.state.get("markbook")
    year = this_year()
    if book is not None and book.year == year:
        pupils, cells, members = await ctx.pg.fetchrow(
            _PRESENT, book.school_id, f"{PUPIL_KEY}%", year.start_year, class_codes()
        )
        if (pupils, cells, members) == (
            PER_YEAR * len(YEAR_GROUPS),
            book.cells,
            2 * PER_YEAR * len(YEAR_GROUPS),
        ):
            return book
    await _build(ctx)
    built: Markbook = ctx.state["markbook"]
    return built


async def cleanup(ctx: Context) -> None:
    """Put the database back as generated: the bench's markbook school and trust removed."""
    await _remove(ctx.pg)
    await ctx.pg.execute(f"VACUUM (ANALYZE) {_TOUCHED}")
    ctx.state.pop("markbook", None)


# --- a) Reading a class's grid ---------------------------------------------------------------
def _grid_url(book: Markbook) -> str:
    return f"/v1/schools/{book.school_id}/markbook"


async def read_api(ctx: Context) -> httpx.Response:
    book: Markbook = ctx.state["markbook"]
    return await ctx.client.get(
        _grid_url(book),
        params={"class_id": book.class_id, "subject_id": book.subjects[GRID_SUBJECT]},
        headers=ctx.bearer(TEACHER),
        timeout=TIMEOUT,
    )


def _grid_rows(
    pupils: list[str], objectives: list[str], version: int, cells: list[Any]
) -> list[Any]:
    """One row for the grid (its pupils and objectives in order, and its version), then its
    cells (pupil, objective, descriptor code, date assessed) in id order."""
    return [("grid", tuple(pupils), tuple(objectives), version), *sorted(cells)]


def read_api_rows(_ctx: Context, response: httpx.Response) -> list[Any]:
    grid = response.json()
    return _grid_rows(
        [p["id"] for p in grid["pupils"]],
        [o["id"] for o in grid["objectives"]],
        grid["version"],
        [
            (c["pupil_id"], c["objective_id"], c["descriptor"], c["assessed_on"])
            for c in grid["cells"]
        ],
    )


_GRID_PUPILS = """
SELECT p.id, p.legal_forename, p.legal_surname, p.preferred_forename, p.preferred_surname
FROM pupil p
WHERE p.school_id = $1 AND p.id IN (SELECT pupil_id FROM class_pupil WHERE class_id = $2)
ORDER BY coalesce(p.preferred_surname, p.legal_surname),
         coalesce(p.preferred_forename, p.legal_forename), p.id
"""
_GRID_OBJECTIVES = """
SELECT o.id, o.framework_id, o.code, o.statement, o.curriculum_years, o.strand, o.sub_strand,
       o.is_key
FROM objective o JOIN framework f ON f.id = o.framework_id
WHERE f.school_id = $1 AND f.subject_id = $2 AND NOT o.archived
  AND o.year_from <= $3 AND $3 <= o.year_to
ORDER BY o.framework_id, o.position
"""
_GRID_CELLS = """
SELECT s.pupil_id, s.objective_id, d.code, s.assessed_on, s.recorded_at,
       s.recorded_by, s.note, s.version
FROM judgement_state s LEFT JOIN descriptor d ON d.id = s.descriptor_id
WHERE s.pupil_id = ANY($1::uuid[]) AND s.objective_id = ANY($2::uuid[])
"""


async def read_sql(ctx: Context) -> Any:
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    async with pg.transaction(isolation="repeatable_read", readonly=True):
        pupils = await pg.fetch(_GRID_PUPILS, book.school_id, book.class_id)
        objectives = await pg.fetch(
            _GRID_OBJECTIVES, book.school_id, book.subjects[GRID_SUBJECT], GRID_YEAR
        )
        cells = await pg.fetch(
            _GRID_CELLS, [p["id"] for p in pupils], [o["id"] for o in objectives]
        )
    return pupils, objectives, cells


def read_sql_rows(_ctx: Context, found: Any) -> list[Any]:
    pupils, objectives, cells = found
    return _grid_rows(
        [str(p["id"]) for p in pupils],
        [str(o["id"]) for o in objectives],
        max((c["version"] for c in cells), default=0),
        [
            (str(c["pupil_id"]), str(c["objective_id"]), c["code"], c["assessed_on"].isoformat())
            for c in cells
        ],
    )


async def _prepare_read(ctx: Context) -> None:
    await ensure(ctx)


async def _reset_read(ctx: Context) -> None:
    await ensure(ctx)
    await _restore_grid(ctx)


def _check_read(ctx: Context, response: httpx.Response) -> None:
    book: Markbook = ctx.state["markbook"]
    grid = response.json()
    shape = (len(grid["pupils"]), len(grid["objectives"]), len(grid["cells"]))
    want = (len(book.class_pupils), len(book.grid_objectives))
    if shape != (*want, want[0] * want[1]):
        raise RuntimeError(f"markbook-grid-read: expected {want} fully judged, got {shape}")
    if response.headers.get("etag") != f'"{grid["version"]}"':
        raise RuntimeError(f"markbook-grid-read: ETag {response.headers.get('etag')!r}")


register(
    Case(
        key="markbook-grid-read",
        title="markbook grid: 30 x 42 (teacher)",
        floor="the class's pupils, the Year 4 objectives, and their cells from judgement_state,"
        " three SELECTs in one read-only transaction",
        api=read_api,
        api_rows=read_api_rows,
        sql=read_sql,
        sql_rows=read_sql_rows,
        prepare=_prepare_read,
        reset=_reset_read,
        check=_check_read,
        cleanup=cleanup,
        target_ms=30,
    )
)


# --- a') The same grid as at a date --------------------------------------------------------
def _as_at(book: Markbook) -> date:
    """The day of the second round: each cell's standing judgement is then that round's, not
    its latest, so it has to be found in the history."""
    return round_dates(book.year)[1]


async def as_at_api(ctx: Context) -> httpx.Response:
    book: Markbook = ctx.state["markbook"]
    return await ctx.client.get(
        _grid_url(book),
        params={
            "class_id": book.class_id,
            "subject_id": book.subjects[GRID_SUBJECT],
            "as_at": _as_at(book).isoformat(),
        },
        headers=ctx.bearer(TEACHER),
        timeout=TIMEOUT,
    )


def _versionless(rows: list[Any]) -> list[Any]:
    """A grid's rows without its version, for a floor that does not work it out."""
    grid, *cells = rows
    return [(*grid[:3], None), *cells]


def as_at_api_rows(ctx: Context, response: httpx.Response) -> list[Any]:
    # The version is the grid's now (what a write would be checked against), not as at.
    return _versionless(read_api_rows(ctx, response))


_GRID_AS_AT = """
SELECT DISTINCT ON (j.pupil_id, j.objective_id) j.pupil_id, j.objective_id, d.code,
       j.assessed_on, j.recorded_at, j.recorded_by, j.note, j.version
FROM objective_judgement j LEFT JOIN descriptor d ON d.id = j.descriptor_id
WHERE j.pupil_id = ANY($1::uuid[]) AND j.objective_id = ANY($2::uuid[]) AND j.assessed_on <= $3
ORDER BY j.pupil_id, j.objective_id, j.assessed_on DESC, j.recorded_at DESC, j.version DESC
"""


async def as_at_sql(ctx: Context) -> Any:
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    async with pg.transaction(isolation="repeatable_read", readonly=True):
        pupils = await pg.fetch(_GRID_PUPILS, book.school_id, book.class_id)
        objectives = await pg.fetch(
            _GRID_OBJECTIVES, book.school_id, book.subjects[GRID_SUBJECT], GRID_YEAR
        )
        cells = await pg.fetch(
            _GRID_AS_AT, [p["id"] for p in pupils], [o["id"] for o in objectives], _as_at(book)
        )
    return pupils, objectives, cells


def as_at_sql_rows(ctx: Context, found: Any) -> list[Any]:
    return _versionless(read_sql_rows(ctx, found))


def _check_as_at(ctx: Context, response: httpx.Response) -> None:
    _check_read(ctx, response)
    book: Markbook = ctx.state["markbook"]
    day = _as_at(book).isoformat()
    later = [c for c in response.json()["cells"] if c["assessed_on"] > day]
    if later:
        raise RuntimeError(f"markbook-grid-as-at: {len(later)} cells assessed after {day}")


register(
    Case(
        key="markbook-grid-as-at",
        title="markbook grid as at a date (teacher)",
        floor="the class's pupils, the Year 4 objectives, and per cell the latest judgement"
        " on or before the date from the history (DISTINCT ON), in one read-only transaction",
        api=as_at_api,
        api_rows=as_at_api_rows,
        sql=as_at_sql,
        sql_rows=as_at_sql_rows,
        prepare=_prepare_read,
        reset=_reset_read,
        check=_check_as_at,
        cleanup=cleanup,
    )
)


# --- a'') The whole school's grid ---------------------------------------------------------------
async def school_api(ctx: Context) -> httpx.Response:
    book: Markbook = ctx.state["markbook"]
    return await ctx.client.get(
        _grid_url(book),
        params=[
            ("subject_id", book.subjects[GRID_SUBJECT]),
            *(("pupil_id", pupil_id) for pupil_id, _ in book.pupils),
        ],
        headers=ctx.bearer(LEADER),
        timeout=TIMEOUT,
    )


def school_api_rows(ctx: Context, response: httpx.Response) -> list[Any]:
    # The floor does not work out the grid's version (its working years' count too).
    return _versionless(read_api_rows(ctx, response))


_SCHOOL_PUPILS = """
SELECT p.id, coalesce(w.curriculum_year, e.year_group::int) AS working_year
FROM pupil p
JOIN enrolment e ON e.pupil_id = p.id AND e.academic_year = $3
LEFT JOIN working_year w
  ON w.pupil_id = p.id AND w.subject_id = $4 AND w.academic_year = $3
WHERE p.school_id = $1 AND p.id = ANY($2::uuid[])
ORDER BY coalesce(p.preferred_surname, p.legal_surname),
         coalesce(p.preferred_forename, p.legal_forename), p.id
"""
_SCHOOL_OBJECTIVES = """
SELECT o.id, o.framework_id, o.code, o.statement, o.curriculum_years, o.strand, o.sub_strand,
       o.is_key
FROM objective o JOIN framework f ON f.id = o.framework_id
WHERE f.school_id = $1 AND f.subject_id = $2 AND NOT o.archived
  AND EXISTS (SELECT FROM unnest($3::int[]) y WHERE o.year_from <= y AND y <= o.year_to)
ORDER BY o.framework_id, o.position
"""


async def school_sql(ctx: Context) -> Any:
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    subject = book.subjects[GRID_SUBJECT]
    async with pg.transaction(isolation="repeatable_read", readonly=True):
        pupils = await pg.fetch(
            _SCHOOL_PUPILS,
            book.school_id,
            [pupil_id for pupil_id, _ in book.pupils],
            book.year.start_year,
            subject,
        )
        years = sorted({p["working_year"] for p in pupils})
        objectives = await pg.fetch(_SCHOOL_OBJECTIVES, book.school_id, subject, years)
        cells = await pg.fetch(
            _GRID_CELLS, [p["id"] for p in pupils], [o["id"] for o in objectives]
        )
    return pupils, objectives, cells


def school_sql_rows(ctx: Context, found: Any) -> list[Any]:
    return _versionless(read_sql_rows(ctx, found))


def _check_school(ctx: Context, response: httpx.Response) -> None:
    book: Markbook = ctx.state["markbook"]
    grid = response.json()
    if len(grid["pupils"]) != len(book.pupils) or not grid["cells"]:
        raise RuntimeError(
            f"markbook-grid-school: {len(grid['pupils'])} pupils, {len(grid['cells'])} cells"
        )


register(
    Case(
        key="markbook-grid-school",
        title="markbook grid: the whole school (leader)",
        floor="the school's 420 pupils with their working years, the mathematics objectives of"
        " those years, and their cells from judgement_state, three SELECTs in one read-only"
        " transaction",
        api=school_api,
        api_rows=school_api_rows,
        sql=school_sql,
        sql_rows=school_sql_rows,
        prepare=_prepare_read,
        reset=_reset_read,
        check=_check_school,
        cleanup=cleanup,
        target_ms=250,
        repeat=20,
        warmup=5,
    )
)


# --- b) Writing 1,200 cells ------------------------------------------------------------------
def _write_cells(book: Markbook) -> list[tuple[str, str, str | None, str | None]]:
    """(pupil, objective, descriptor code or None, note) of the write: 30 x 40, a mix of
    codes, about 4% cleared, a note on some."""
    cells = []
    for p, pupil_id in enumerate(book.class_pupils):
        for o, objective_id in enumerate(book.grid_objectives[:WRITE_OBJECTIVES]):
            code = None if (p + o) % 23 == 0 else schooldata.DEPTH_CODES[(p * 7 + o * 3) % 4]
            note = "Talked it through in a pupil conference" if (p * o) % 17 == 5 else None
            cells.append((pupil_id, objective_id, code, note))
    return cells


@dataclass
class GridWrite:
    body: bytes
    keys: list[tuple[str, str]]  # (pupil, objective), sorted
    assessed_on: date
    if_match: str
    # The floor's arrays, one per column.
    pupils: list[str]
    objectives: list[str]
    codes: list[str | None]
    notes: list[str | None]


def _grid_write(book: Markbook) -> GridWrite:
    cells = _write_cells(book)
    on = write_date(book.year)
    body = {
        "assessed_on": on.isoformat(),
        "cells": [
            {"pupil_id": p, "objective_id": o, "descriptor": code, **({"note": n} if n else {})}
            for p, o, code, n in cells
        ],
    }
    # The grid's version as read after a reset: its cells' latest write (Year 4 mathematics,
    # the last round).
    subject_no = [code for _, code, _ in SUBJECTS].index(GRID_SUBJECT)
    version = schooldata.batch_version(ROUNDS - 1, subject_no, GRID_YEAR)
    return GridWrite(
        body=json.dumps(body).encode(),
        keys=sorted((p, o) for p, o, _, _ in cells),
        assessed_on=on,
        if_match=f'"{version}"',
        pupils=[c[0] for c in cells],
        objectives=[c[1] for c in cells],
        codes=[c[2] for c in cells],
        notes=[c[3] for c in cells],
    )


async def write_api(ctx: Context) -> httpx.Response:
    book: Markbook = ctx.state["markbook"]
    write: GridWrite = ctx.state["markbook:write"]
    return await ctx.client.post(
        _grid_url(book),
        params={"class_id": book.class_id},
        content=write.body,
        headers={
            **ctx.bearer(TEACHER),
            "Content-Type": "application/json",
            "If-Match": write.if_match,
        },
        timeout=TIMEOUT,
    )


# Tick the clock, append the judgements, and put each cell's current row (the new judgement
# unless what stood is later by date assessed; the version either way), in one statement.
_WRITE_CELLS = """
WITH tick AS (
    INSERT INTO markbook_clock AS c (school_id, version) VALUES ($1::uuid, 1)
    ON CONFLICT (school_id) DO UPDATE SET version = c.version + 1
    RETURNING version
), judged AS (
    INSERT INTO objective_judgement (id, school_id, pupil_id, objective_id, subject_id,
        descriptor_id, assessed_on, note, recorded_at, recorded_by, version)
    SELECT gen_random_uuid(), $1::uuid, cell.pupil_id, cell.objective_id, f.subject_id, d.id,
           $6::date, cell.note, now(), $7::uuid, tick.version
    FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[])
         AS cell(pupil_id, objective_id, code, note)
    CROSS JOIN tick
    JOIN objective o ON o.id = cell.objective_id
    JOIN framework f ON f.id = o.framework_id
    LEFT JOIN descriptor d ON d.scale_id = f.scale_id AND d.code = cell.code
    RETURNING *
)
INSERT INTO judgement_state AS s (pupil_id, objective_id, school_id, subject_id, judgement_id,
    descriptor_id, assessed_on, note, recorded_at, recorded_by, version)
SELECT pupil_id, objective_id, school_id, subject_id, id, descriptor_id, assessed_on, note,
       recorded_at, recorded_by, version
FROM judged
ON CONFLICT (pupil_id, objective_id) DO UPDATE SET
    judgement_id = CASE WHEN (s.assessed_on, s.recorded_at) > (excluded.assessed_on,
        excluded.recorded_at) THEN s.judgement_id ELSE excluded.judgement_id END,
    descriptor_id = CASE WHEN (s.assessed_on, s.recorded_at) > (excluded.assessed_on,
        excluded.recorded_at) THEN s.descriptor_id ELSE excluded.descriptor_id END,
    note = CASE WHEN (s.assessed_on, s.recorded_at) > (excluded.assessed_on,
        excluded.recorded_at) THEN s.note ELSE excluded.note END,
    recorded_by = CASE WHEN (s.assessed_on, s.recorded_at) > (excluded.assessed_on,
        excluded.recorded_at) THEN s.recorded_by ELSE excluded.recorded_by END,
    assessed_on = greatest(s.assessed_on, excluded.assessed_on),
    recorded_at = CASE WHEN (s.assessed_on, s.recorded_at) > (excluded.assessed_on,
        excluded.recorded_at) THEN s.recorded_at ELSE excluded.recorded_at END,
    version = excluded.version
"""
# Recount the written pupils' figures in the subject at every point dated on or after the
# write: per cell the judgement standing as at the point's date, among the objectives of
# the pupil's working year then (set, else their year group's), grouped by the database.
_SUMMARIES = """
INSERT INTO judgement_summary AS m (pupil_id, subject_id, assessment_point_id, school_id,
    curriculum_year, judged, value_sum, secure)
SELECT w.pupil_id, $2::uuid, ap.id, $1::uuid, w.year, count(d.id), coalesce(sum(d.value), 0),
       count(d.id) FILTER (WHERE d.value >= threshold.value)
FROM assessment_point ap
JOIN LATERAL (
    SELECT e.pupil_id, coalesce(wy.curriculum_year, CASE WHEN e.year_group IN ('N1', 'N2', 'R')
           THEN 0 ELSE e.year_group::int END) AS year
    FROM enrolment e
    LEFT JOIN working_year wy ON wy.pupil_id = e.pupil_id AND wy.subject_id = $2::uuid
         AND wy.academic_year = e.academic_year
    WHERE e.pupil_id = ANY($3::uuid[]) AND e.academic_year = ap.academic_year
) w ON true
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (j.objective_id) j.descriptor_id
    FROM objective_judgement j
    JOIN objective o ON o.id = j.objective_id AND o.year_from <= w.year AND w.year <= o.year_to
    WHERE j.pupil_id = w.pupil_id AND j.subject_id = $2::uuid
      AND j.assessed_on <= ap.assessed_on
    ORDER BY j.objective_id, j.assessed_on DESC, j.recorded_at DESC, j.version DESC
) cell ON true
LEFT JOIN descriptor d ON d.id = cell.descriptor_id
LEFT JOIN scale sc ON sc.id = d.scale_id
LEFT JOIN descriptor threshold ON threshold.scale_id = sc.id AND threshold.code = sc.secure_from
WHERE ap.school_id = $1::uuid AND ap.assessed_on >= $4::date
GROUP BY w.pupil_id, ap.id, w.year
ON CONFLICT (pupil_id, subject_id, assessment_point_id) DO UPDATE SET
    curriculum_year = excluded.curriculum_year, judged = excluded.judged,
    value_sum = excluded.value_sum, secure = excluded.secure
"""


async def write_sql(ctx: Context) -> Any:
    book: Markbook = ctx.state["markbook"]
    write: GridWrite = ctx.state["markbook:write"]
    pg = ctx.pg
    async with pg.transaction():
        written = await pg.execute(
            _WRITE_CELLS,
            book.school_id,
            write.pupils,
            write.objectives,
            write.codes,
            write.notes,
            write.assessed_on,
            book.teacher_id,
        )
        await pg.execute(
            _SUMMARIES,
            book.school_id,
            book.subjects[GRID_SUBJECT],
            sorted(set(write.pupils)),
            write.assessed_on,
        )
    return write.keys if written == f"INSERT 0 {len(write.keys)}" else written


def write_api_rows(ctx: Context, response: httpx.Response) -> list[Any]:
    return list(ctx.state["markbook:write"].keys) if response.json()["written"] else []


def write_sql_rows(_ctx: Context, keys: Any) -> list[Any]:
    return list(keys)


def _check_write(ctx: Context, response: httpx.Response) -> None:
    answer = response.json()
    want = {"written": len(ctx.state["markbook:write"].keys), "version": BASE_VERSION + 1}
    got = {name: answer.get(name) for name in want}
    if got != want:
        raise RuntimeError(f"markbook-grid-write: expected {want}, got {got}")


async def _grid_summaries(pg: asyncpg.Connection, book: Markbook) -> list[tuple[Any, ...]]:
    rows = await pg.fetch(
        f"SELECT {', '.join(_COLUMNS['judgement_summary'])} FROM judgement_summary"
        " WHERE pupil_id = ANY($1::uuid[]) AND subject_id = $2",
        book.class_pupils,
        book.subjects[GRID_SUBJECT],
    )
    return [tuple(str(v) if isinstance(v, uuid.UUID) else v for v in row) for row in rows]


_RESTORE_STATE = """
INSERT INTO judgement_state AS s (pupil_id, objective_id, school_id, subject_id, judgement_id,
    descriptor_id, assessed_on, note, recorded_at, recorded_by, version)
SELECT DISTINCT ON (pupil_id, objective_id) pupil_id, objective_id, school_id, subject_id, id,
       descriptor_id, assessed_on, note, recorded_at, recorded_by, version
FROM objective_judgement
WHERE pupil_id = ANY($1::uuid[]) AND subject_id = $2 AND version <= $3
ORDER BY pupil_id, objective_id, assessed_on DESC, recorded_at DESC, version DESC
ON CONFLICT (pupil_id, objective_id) DO UPDATE SET
    judgement_id = excluded.judgement_id, descriptor_id = excluded.descriptor_id,
    assessed_on = excluded.assessed_on, note = excluded.note,
    recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by,
    version = excluded.version
"""


async def _restore_grid(ctx: Context) -> None:
    """Undo grid writes: the class's cells and figures as built, the clock back, the written
    judgements deleted (then VACUUM, so no call writes among the dead rows of the last)."""
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    version = await pg.fetchval(
        "SELECT version FROM markbook_clock WHERE school_id = $1", book.school_id
    )
    extra = await pg.fetchval(
        "SELECT count(*) FROM objective_judgement WHERE school_id = $1 AND version > $2",
        book.school_id,
        BASE_VERSION,
    )
    if version == BASE_VERSION and not extra:
        return
    subject_id = book.subjects[GRID_SUBJECT]
    async with pg.transaction():
        await pg.execute(_RESTORE_STATE, book.class_pupils, subject_id, BASE_VERSION)
        # No cell points at these judgements any more; without the foreign-key triggers,
        # deleting them does not scan judgement_state (unindexed on judgement_id) per row.
        await pg.execute("SET LOCAL session_replication_role = replica")
        await pg.execute(
            "DELETE FROM objective_judgement WHERE school_id = $1 AND version > $2",
            book.school_id,
            BASE_VERSION,
        )
        await pg.execute("SET LOCAL session_replication_role = origin")
        await pg.execute(
            "DELETE FROM judgement_summary WHERE pupil_id = ANY($1::uuid[]) AND subject_id = $2",
            book.class_pupils,
            subject_id,
        )
        await pg.copy_records_to_table(
            "judgement_summary",
            records=book.summaries,
            columns=list(_COLUMNS["judgement_summary"]),
        )
        await pg.execute(
            "UPDATE markbook_clock SET version = $2 WHERE school_id = $1",
            book.school_id,
            BASE_VERSION,
        )
    if extra:
        await pg.execute(
            "VACUUM objective_judgement, judgement_state, judgement_summary, markbook_clock"
        )


async def _prepare_write(ctx: Context) -> None:
    book = await ensure(ctx)
    ctx.state["markbook:write"] = _grid_write(book)


async def _reset_write(ctx: Context) -> None:
    book = await ensure(ctx)
    if ctx.state.get("markbook:write") is None:
        ctx.state["markbook:write"] = _grid_write(book)
    await _restore_grid(ctx)


_READBACK_HISTORY = """
SELECT pupil_id, objective_id, subject_id, descriptor_id, assessed_on, note, recorded_by,
       version
FROM objective_judgement WHERE school_id = $1 AND version > $2
ORDER BY pupil_id, objective_id, version
"""
_READBACK_STATE = """
SELECT s.pupil_id, s.objective_id, s.subject_id, s.descriptor_id, s.assessed_on, s.note,
       s.recorded_by, s.version, j.version AS judgement_version
FROM judgement_state s JOIN objective_judgement j ON j.id = s.judgement_id
WHERE s.pupil_id = ANY($1::uuid[]) AND s.subject_id = $2
ORDER BY s.pupil_id, s.objective_id
"""
_READBACK_SUMMARY = """
SELECT pupil_id, subject_id, assessment_point_id, school_id, curriculum_year, judged,
       value_sum, secure
FROM judgement_summary WHERE pupil_id = ANY($1::uuid[]) AND subject_id = $2
ORDER BY pupil_id, assessment_point_id
"""


async def write_readback(ctx: Context) -> list[Any]:
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    subject_id = book.subjects[GRID_SUBJECT]
    rows: list[Any] = [
        ("clock", await pg.fetchval(
            "SELECT version FROM markbook_clock WHERE school_id = $1", book.school_id
        )),
    ]  # fmt: skip
    rows += [tuple(r) for r in await pg.fetch(_READBACK_HISTORY, book.school_id, BASE_VERSION)]
    for query in (_READBACK_STATE, _READBACK_SUMMARY):
        rows += [tuple(r) for r in await pg.fetch(query, book.class_pupils, subject_id)]
    return rows


register(
    Case(
        key="markbook-grid-write",
        title="markbook grid: write 1,200 cells",
        floor="one transaction: tick the clock, append 1,200 judgements and upsert 1,200"
        " current cells in one statement (CTEs), recount the 90 summaries with one"
        " INSERT ... SELECT ... GROUP BY from the history",
        api=write_api,
        api_rows=write_api_rows,
        sql=write_sql,
        sql_rows=write_sql_rows,
        prepare=_prepare_write,
        reset=_reset_write,
        readback=write_readback,
        check=_check_write,
        cleanup=cleanup,
        repeat=30,
        warmup=6,
        target_ms=150,
        unit="cells",
    )
)


# --- c) Writing 10,000 measure values --------------------------------------------------------
@dataclass
class ValuesWrite:
    body: bytes
    keys: list[tuple[str, str, str]]  # (pupil, measure, point), sorted
    history: list[tuple[Any, ...]]  # measure_value_history records for COPY
    arrays: list[list[Any]]  # measure_value columns for the unnest upsert
    point_ids: list[str]


_HISTORY_COLUMNS = (
    "id",
    "school_id",
    "pupil_id",
    "measure_id",
    "assessment_point_id",
    "number",
    "descriptor_id",
    "text",
    "flag",
    "value_on",
    "curriculum_year",
    "recorded_at",
    "recorded_by",
)
_VALUE_UPSERT = """
INSERT INTO measure_value AS v (pupil_id, measure_id, assessment_point_id, school_id, number,
    descriptor_id, text, flag, value_on, curriculum_year, recorded_at, recorded_by)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::numeric[],
    $6::uuid[], $7::text[], $8::bool[], $9::date[], $10::int4[], $11::timestamptz[],
    $12::uuid[])
ON CONFLICT (pupil_id, measure_id, assessment_point_id) DO UPDATE SET
    school_id = excluded.school_id, number = excluded.number,
    descriptor_id = excluded.descriptor_id, text = excluded.text, flag = excluded.flag,
    value_on = excluded.value_on, curriculum_year = excluded.curriculum_year,
    recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by
"""
_TICK = """
INSERT INTO markbook_clock AS c (school_id, version) VALUES ($1, 1)
ON CONFLICT (school_id) DO UPDATE SET version = c.version + 1
RETURNING version
"""


async def _values_write(ctx: Context, book: Markbook) -> ValuesWrite:
    """10,000 values: pupil by pupil, point by point, the eight measures; as JSON for the
    API and as rows for the floor (the same stored columns the app derives)."""
    scale = {
        r["code"]: (str(r["id"]), Decimal(r["value"]))
        for r in await ctx.pg.fetch(
            "SELECT d.id, d.code, d.value FROM descriptor d JOIN scale s ON s.id = d.scale_id"
            " WHERE s.school_id = $1 AND s.name = $2",
            uuid.UUID(book.school_id),
            ATTAINMENT_SCALE["name"],
        )
    }
    kinds = {m["code"]: m["kind"] for m in MEASURES}
    # Teacher assessments record the curriculum year the pupil works within: here their
    # year group's (no working years are set).
    records_year = {m["code"] for m in MEASURES if m.get("records_working_year")}
    default_point = book.points[0][0]
    recorded_by = book.client_id
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    history: list[tuple[Any, ...]] = []
    columns: list[list[Any]] = [[] for _ in range(12)]
    keys = []
    for n, (pupil_id, year_group) in enumerate(book.pupils):
        for p, (point_id, _) in enumerate(book.points):
            for m, code in enumerate(VALUE_MEASURES):
                if len(rows) == VALUES:
                    break
                measure_id = book.measures[code]
                k = n * 7 + p * 3 + m
                raw: Any
                if kinds[code] == "scale":
                    raw = ("WTS", "EXS", "EXS", "GDS")[k % 4]
                    descriptor_id, number = scale[raw]
                elif code.startswith("STD"):
                    raw, descriptor_id = 85 + k % 40, None
                    number = Decimal(raw)
                else:
                    raw, descriptor_id = 90 + k % 30, None
                    number = Decimal(raw)
                row = {"pupil_id": pupil_id, "measure_id": measure_id, "value": raw}
                if point_id != default_point:
                    row["assessment_point_id"] = point_id
                rows.append(row)
                keys.append((pupil_id, measure_id, point_id))
                curriculum_year = year_group if code in records_year else None
                # number, descriptor_id, text, flag, value_on, curriculum_year
                stored = (number, descriptor_id, None, None, None, curriculum_year)
                cell = (pupil_id, measure_id, point_id)
                history.append(
                    (str(uuid.uuid4()), book.school_id, *cell, *stored, now, recorded_by)
                )
                current = (*cell, book.school_id, *stored, now, recorded_by)
                for column, value in zip(columns, current, strict=True):
                    column.append(value)
    if len(rows) != VALUES:
        raise RuntimeError(f"values-bulk-write: only {len(rows)} values to write")
    body = {"assessment_point_id": default_point, "values": rows}
    return ValuesWrite(
        body=json.dumps(body).encode(),
        keys=sorted(keys),
        history=history,
        arrays=columns,
        point_ids=[point_id for point_id, _ in book.points],
    )


async def values_api(ctx: Context) -> httpx.Response:
    book: Markbook = ctx.state["markbook"]
    write: ValuesWrite = ctx.state["markbook:values"]
    return await ctx.client.post(
        f"/v1/schools/{book.school_id}/values",
        content=write.body,
        headers={**ctx.bearer(CLIENT), "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )


async def values_sql(ctx: Context) -> Any:
    book: Markbook = ctx.state["markbook"]
    write: ValuesWrite = ctx.state["markbook:values"]
    pg = ctx.pg
    async with pg.transaction():
        await pg.fetchval(_TICK, book.school_id)
        await pg.copy_records_to_table(
            "measure_value_history", records=write.history, columns=list(_HISTORY_COLUMNS)
        )
        status = await pg.execute(_VALUE_UPSERT, *write.arrays)
    return write.keys if status == f"INSERT 0 {len(write.keys)}" else status


def values_api_rows(ctx: Context, response: httpx.Response) -> list[Any]:
    return list(ctx.state["markbook:values"].keys) if response.json()["written"] else []


def values_sql_rows(_ctx: Context, keys: Any) -> list[Any]:
    return list(keys)


def _check_values(_ctx: Context, response: httpx.Response) -> None:
    answer = response.json()
    got = {name: answer.get(name) for name in ("written", "cleared", "unchanged")}
    want = {"written": VALUES, "cleared": 0, "unchanged": 0}
    if got != want:
        raise RuntimeError(f"values-bulk-write: expected {want}, got {got}")


async def _clear_values(ctx: Context) -> None:
    """No values at the year's points (the state the write starts from), the clock back."""
    book: Markbook = ctx.state["markbook"]
    pg = ctx.pg
    points = [point_id for point_id, _ in book.points]
    deleted = await pg.execute(
        "DELETE FROM measure_value_history WHERE school_id = $1"
        " AND assessment_point_id = ANY($2::uuid[])",
        book.school_id,
        points,
    )
    await pg.execute(
        "DELETE FROM measure_value WHERE school_id = $1 AND assessment_point_id = ANY($2::uuid[])",
        book.school_id,
        points,
    )
    await pg.execute(
        "DELETE FROM audit_event WHERE school_id = $1 AND entity_type = 'measure_values'",
        book.school_id,
    )
    await pg.execute(
        "UPDATE markbook_clock SET version = $2 WHERE school_id = $1 AND version <> $2",
        book.school_id,
        BASE_VERSION,
    )
    if deleted != "DELETE 0":
        await pg.execute("VACUUM measure_value, measure_value_history, markbook_clock")


async def _prepare_values(ctx: Context) -> None:
    book = await ensure(ctx)
    ctx.state["markbook:values"] = await _values_write(ctx, book)


async def _reset_values(ctx: Context) -> None:
    book = await ensure(ctx)
    if ctx.state.get("markbook:values") is None:
        ctx.state["markbook:values"] = await _values_write(ctx, book)
    await _restore_grid(ctx)
    await _clear_values(ctx)


_READBACK_VALUES = """
SELECT pupil_id, measure_id, assessment_point_id, school_id, number, descriptor_id, text, flag,
       value_on, curriculum_year, recorded_by
FROM {table} WHERE school_id = $1 AND assessment_point_id = ANY($2::uuid[])
ORDER BY pupil_id, measure_id, assessment_point_id
"""


async def values_readback(ctx: Context) -> list[Any]:
    book: Markbook = ctx.state["markbook"]
    points = [point_id for point_id, _ in book.points]
    rows: list[Any] = [
        ("clock", await ctx.pg.fetchval(
            "SELECT version FROM markbook_clock WHERE school_id = $1", book.school_id
        )),
    ]  # fmt: skip
    for table in ("measure_value", "measure_value_history"):
        rows.append(table)
        query = _READBACK_VALUES.format(table=table)
        rows += [tuple(r) for r in await ctx.pg.fetch(query, book.school_id, points)]
    return rows


register(
    Case(
        key="values-bulk-write",
        title="values: write 10,000 (school client)",
        floor="one transaction: tick the clock, COPY 10,000 history rows, upsert 10,000"
        " current values with one INSERT ... SELECT FROM unnest ... ON CONFLICT",
        api=values_api,
        api_rows=values_api_rows,
        sql=values_sql,
        sql_rows=values_sql_rows,
        prepare=_prepare_values,
        reset=_reset_values,
        readback=values_readback,
        check=_check_values,
        cleanup=cleanup,
        floor_unlogged=1,  # the COPY
        repeat=20,
        warmup=5,
        unit="values",
    )
)
