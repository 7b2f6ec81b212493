"""Roster sync: 2,000 new pupils into one school, the same 2,000 re-sent unchanged, and 10,000
new pupils across several schools of a trust.

The syncs run as the MIS would: the school's integration client (roster:write) on
POST /v1/schools/{id}/roster/sync, the trust's client on POST /v1/trusts/{id}/roster/sync with
a school_urn on every row. Each school gets 60 classes (per year group 1-6, five form classes
and five maths sets, each with one of the school's generated teachers), made once, untimed,
by a classes-only sync in ``prepare``; every pupil is in one form class and one maths set. So
a new-pupil sync writes exactly: the pupils, their enrolments for 2025/26, two class
memberships each, and one audit row each.

Both sides of a new-pupil case start from a school without those pupils: an untimed reset
deletes them (their enrolments and memberships go by cascade) and their audit rows, then
VACUUMs the tables, so neither side inserts next to the dead rows of the previous call. The
floor writes the same rows with COPY (asyncpg copy_records_to_table), one per table, in one
transaction; an extra timing writes them with one INSERT ... SELECT FROM unnest(...) per
table, the shape the app's bulk writer sends. The rows for the floor (ids, audit JSON) are
built once, untimed: the floor is what PostgreSQL needs, not the Python that builds rows.
A readback of what each side left behind (every stored column but ids and timestamps, the
class codes, the audit rows' before and after) must be equal, as rows are for reads.

The re-sync case starts from the 2,000 pupils in place (re-made, untimed, if another case
removed them) and must answer created=0, unchanged=2000 on every call; its floor reads what
the sync has to compare against: the school's pupils, enrolments, classes, class teachers
and class memberships, one SELECT each, in one transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from app.db.roster import PUPIL_FIELDS
from app.domain.pupils import make_upn
from bench import generate as gen
from bench.core import Case, Context, register

YEAR = 2025  # the academic year the syncs are for (2025/26)
YEAR_GROUPS = ("1", "2", "3", "4", "5", "6")
CLASSES_PER_KIND = 5  # per year group: five form classes and five maths sets, 60 a school
SCHOOL_PUPILS = 2_000
TRUST_PUPILS = 10_000
TRUST_SCHOOLS = 10  # the trust sync spreads its pupils over this many schools (or all, if fewer)
TIMEOUT = 300.0  # seconds: over --http the default of 5 s is too short for 10,000 pupils
TEACHERS = min(size.teachers_per_school for size in gen.SIZES.values())
KEY = "BENCH-"  # external ids of the synced pupils (the generated markbooks' are PUP-)

_FIRST = "Amira Ben Chloe Dev Ella Finn Grace Harry Isla Jack Kofi Leah Mo Nia Oscar".split()
_LAST = "Ahmed Baker Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis".split()
_ETHNICITY = ("WBRI", "WBRI", "WOTH", "ABAN", "APKN", "BAFR", "MWBC", "CHNE", "WIRT")
_SEN = "NNNNNNNNKE"

PUPIL_COLUMNS = (
    "id",
    "school_id",
    *PUPIL_FIELDS,
    "upn_temporary",
    "left_on",
    "created_at",
    "updated_at",
)
ENROLMENT_COLUMNS = (
    "id",
    "pupil_id",
    "school_id",
    "academic_year",
    "year_group",
    "joined_on",
    "left_on",
    "created_at",
    "updated_at",
)
MEMBERSHIP_COLUMNS = ("class_id", "pupil_id", "school_id")
AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "request_id",
    "action",
    "entity_type",
    "entity_id",
    "trust_id",
    "school_id",
    "before",
    "after",
)
# The floor's own SQL types, for the unnest form (varchar columns go as text[]).
_TYPES = {
    "id": "uuid",
    "school_id": "uuid",
    "pupil_id": "uuid",
    "class_id": "uuid",
    "actor_id": "uuid",
    "entity_id": "uuid",
    "trust_id": "uuid",
    "date_of_birth": "date",
    "joined_on": "date",
    "left_on": "date",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "occurred_at": "timestamptz",
    "academic_year": "int4",
    "pupil_premium": "bool",
    "fsm": "bool",
    "eal": "bool",
    "looked_after": "bool",
    "upn_temporary": "bool",
    "before": "jsonb",
    "after": "jsonb",
}


# --- The payloads ------------------------------------------------------------------------
def class_rows(urn: str, *, trust_wide: bool) -> list[dict[str, Any]]:
    """The school's 60 classes, each taught by one of its generated teachers."""
    rows = []
    for y in YEAR_GROUPS:
        for n in range(1, CLASSES_PER_KIND + 1):
            for code, name, subject in (
                (f"{y}F{n}", f"Year {y} form {n}", None),
                (f"{y}M{n}", f"Year {y} maths set {n}", "Mathematics"),
            ):
                teacher = 1 + len(rows) % TEACHERS
                row: dict[str, Any] = {
                    "code": code,
                    "name": name,
                    "subject": subject,
                    "teacher_emails": [gen.teacher_email(urn, teacher)],
                }
                if trust_wide:
                    row["school_urn"] = urn
                rows.append(row)
    return rows


def pupil_row(n: int, i: int, urn: str, *, trust_wide: bool) -> dict[str, Any]:
    """Pupil ``i`` of the ``n``-th school of a sync, as an MIS would send it."""
    y = YEAR_GROUPS[i % len(YEAR_GROUPS)]
    form = 1 + (i // len(YEAR_GROUPS)) % CLASSES_PER_KIND
    maths = 1 + (i // (len(YEAR_GROUPS) * CLASSES_PER_KIND)) % CLASSES_PER_KIND
    born = date(YEAR - 5 - int(y), 9, 1) + timedelta(days=(i * 37) % 365)
    row: dict[str, Any] = {
        "external_id": f"{KEY}{urn}-{i:05d}",
        # 3-digit LA, 4-digit establishment, 2-digit year, 3-digit serial: unique per school
        "upn": make_upn(f"{801 + n:03d}{int(urn) % 10_000:04d}{10 + i // 1000:02d}{i % 1000:03d}"),
        "legal_forename": _FIRST[i % len(_FIRST)],
        "legal_surname": _LAST[(i // len(_FIRST)) % len(_LAST)],
        "date_of_birth": born.isoformat(),
        "sex": "F" if i % 2 else "M",
        "pupil_premium": i % 4 == 0,
        "fsm": i % 5 == 0,
        "sen_status": _SEN[i % len(_SEN)],
        "eal": i % 6 == 1,
        "looked_after": i % 97 == 0,
        "ethnicity": _ETHNICITY[i % len(_ETHNICITY)],
        "year_group": y,
        "joined_on": date(YEAR - int(y), 9, 3).isoformat(),
        "classes": [f"{y}F{form}", f"{y}M{maths}"],
    }
    if i % 9 == 0:
        row["preferred_forename"] = row["legal_forename"][:3]
    if trust_wide:
        row["school_urn"] = urn
    return row


# --- A sync and the rows it must leave behind --------------------------------------------
@dataclass
class Roster:
    """One sync: where it goes, its body, and the floor's rows for the same pupils.

    Held as bytes, strings and tuples of atoms only (ids as text: asyncpg takes them so), so
    that in-process the harness adds nothing for the app's cyclic garbage collector to walk:
    10,000 payload dicts and 60,000 uuid.UUID objects would add to every full collection
    during the API call, as they would not in a server."""

    url: str
    who: str  # the token in ctx.tokens
    actor_id: str
    schools: tuple[tuple[str, str, str], ...]  # (id, urn, trust_id)
    body: bytes = b""
    keys: tuple[str, ...] = ()  # external ids, sorted
    tables: tuple[tuple[str, tuple[str, ...], list[tuple[Any, ...]]], ...] = ()

    @property
    def school_ids(self) -> list[str]:
        return [school_id for school_id, _, _ in self.schools]

    async def post(self, ctx: Context, body: bytes | None = None) -> httpx.Response:
        return await ctx.client.post(
            self.url,
            content=self.body if body is None else body,
            headers={**ctx.bearer(self.who), "Content-Type": "application/json"},
            timeout=TIMEOUT,
        )


def _body(classes: list[dict[str, Any]], pupils: list[dict[str, Any]]) -> bytes:
    return json.dumps({"academic_year": YEAR, "classes": classes, "pupils": pupils}).encode()


async def _make(
    ctx: Context, *, url: str, who: str, actor_id: uuid.UUID, schools: Sequence[Any], per: int
) -> Roster:
    """Classes in place (one untimed classes-only sync), then the payload and floor rows."""
    trust_wide = "/trusts/" in url
    roster = Roster(
        url=url,
        who=who,
        actor_id=str(actor_id),
        schools=tuple((str(s["id"]), s["urn"], str(s["trust_id"])) for s in schools),
    )
    classes = [c for s in schools for c in class_rows(s["urn"], trust_wide=trust_wide)]
    pupils = [
        pupil_row(n, i, s["urn"], trust_wide=trust_wide)
        for n, s in enumerate(schools)
        for i in range(per)
    ]
    response = await roster.post(ctx, _body(classes, []))
    if response.status_code != 200:
        raise RuntimeError(f"classes-only sync: HTTP {response.status_code}: {response.text}")
    roster.body = _body(classes, pupils)
    roster.keys = tuple(sorted(p["external_id"] for p in pupils))
    class_ids = {
        (str(r["school_id"]), r["code"]): str(r["id"])
        for r in await ctx.pg.fetch(
            "SELECT id, school_id, code FROM teaching_group"
            " WHERE school_id = ANY($1::uuid[]) AND academic_year = $2",
            roster.school_ids,
            YEAR,
        )
    }
    roster.tables = _floor_rows(roster, pupils, class_ids)
    return roster


def _floor_rows(
    roster: Roster, rows: list[dict[str, Any]], class_ids: dict[tuple[str, str], str]
) -> tuple[tuple[str, tuple[str, ...], list[tuple[Any, ...]]], ...]:
    """What the sync stores for new pupils, as records for COPY: the stored fields as sent
    (None where not sent), the enrolment, the memberships and the audit row with the same
    JSON the app writes."""
    now = datetime.now(UTC)
    by_urn = {urn: (school_id, trust_id) for school_id, urn, trust_id in roster.schools}
    single = roster.schools[0] if "/schools/" in roster.url else None
    pupils, enrolments, memberships, audit = [], [], [], []
    for row in rows:
        school_id, trust_id = by_urn[single[1] if single else row["school_urn"]]
        pupil_id = str(uuid.uuid4())
        stored = {name: row.get(name) for name in PUPIL_FIELDS}
        stored["upn_temporary"] = row["upn"][-1].isalpha()
        stored["left_on"] = None
        typed = {
            **stored,
            "date_of_birth": date.fromisoformat(row["date_of_birth"]),
        }
        pupils.append((pupil_id, school_id, *typed.values(), now, now))
        enrolment = {
            "year_group": row["year_group"],
            "joined_on": row["joined_on"],
            "left_on": None,
        }
        enrolments.append(
            (
                str(uuid.uuid4()),
                pupil_id,
                school_id,
                YEAR,
                row["year_group"],
                date.fromisoformat(row["joined_on"]),
                None,
                now,
                now,
            )
        )
        memberships += [
            (class_ids[(school_id, code)], pupil_id, school_id) for code in sorted(row["classes"])
        ]
        after = {**stored, "enrolment": enrolment, "classes": sorted(row["classes"])}
        audit.append(
            (
                str(uuid.uuid4()),
                now,
                "client",
                roster.actor_id,
                None,
                "create",
                "pupil",
                pupil_id,
                trust_id,
                school_id,
                None,
                json.dumps(after),
            )
        )
    return (
        ("pupil", PUPIL_COLUMNS, pupils),
        ("enrolment", ENROLMENT_COLUMNS, enrolments),
        ("class_pupil", MEMBERSHIP_COLUMNS, memberships),
        ("audit_event", AUDIT_COLUMNS, audit),
    )


async def _schools(ctx: Context, count: int) -> list[asyncpg.Record]:
    """The first ``count`` schools of the subjects' trust by URN (the first is the leader's)."""
    return await ctx.pg.fetch(
        "SELECT id, urn, trust_id FROM school WHERE trust_id = $1 ORDER BY urn LIMIT $2",
        ctx.subjects.trust_admin.trust_id,
        count,
    )


async def _school_roster(ctx: Context) -> Roster:
    if "roster:school" not in ctx.state:
        schools = await _schools(ctx, 1)
        assert schools[0]["id"] == ctx.subjects.school_leader.school_id
        ctx.state["roster:school"] = await _make(
            ctx,
            url=f"/v1/schools/{schools[0]['id']}/roster/sync",
            who="school_client",
            actor_id=ctx.subjects.school_client.id,
            schools=schools,
            per=SCHOOL_PUPILS,
        )
    roster: Roster = ctx.state["roster:school"]
    return roster


async def _trust_roster(ctx: Context) -> Roster:
    if "roster:trust" not in ctx.state:
        schools = await _schools(ctx, TRUST_SCHOOLS)
        if TRUST_PUPILS % len(schools):
            raise RuntimeError(f"{TRUST_PUPILS} pupils do not spread evenly over {len(schools)}")
        ctx.state["roster:trust"] = await _make(
            ctx,
            url=f"/v1/trusts/{ctx.subjects.trust_admin.trust_id}/roster/sync",
            who="trust_client",
            actor_id=ctx.subjects.trust_client.id,
            schools=schools,
            per=TRUST_PUPILS // len(schools),
        )
    roster: Roster = ctx.state["roster:trust"]
    return roster


# --- Reset, readback, cleanup (untimed) --------------------------------------------------
_TABLES = "pupil, enrolment, class_pupil, audit_event"
# The pupils and classes these cases sync; the schools' own (their generated markbooks) are
# left alone.
OURS = f"{KEY}%"
_OUR_CLASSES = r"^[1-6][FM][0-9]+$"


async def _clear(ctx: Context, school_ids: list[str]) -> None:
    """None of the sync's pupils in the schools: the state a new-pupil sync starts from."""
    await ctx.pg.execute(
        "DELETE FROM audit_event WHERE school_id = ANY($1::uuid[]) AND entity_type = 'pupil'",
        school_ids,
    )
    deleted = await ctx.pg.execute(
        "DELETE FROM pupil WHERE school_id = ANY($1::uuid[]) AND external_id LIKE $2",
        school_ids,
        OURS,
    )
    if deleted != "DELETE 0":
        await ctx.pg.execute(f"VACUUM {_TABLES}")


_READBACK_PUPILS = f"""
SELECT {", ".join(f"p.{name}" for name in PUPIL_COLUMNS[1:-2])},
       e.academic_year, e.year_group, e.joined_on, e.left_on AS enrolment_left_on,
       ARRAY(SELECT g.code FROM class_pupil cp JOIN teaching_group g ON g.id = cp.class_id
             WHERE cp.pupil_id = p.id ORDER BY g.code) AS classes
FROM pupil p LEFT JOIN enrolment e ON e.pupil_id = p.id
WHERE p.school_id = ANY($1::uuid[]) AND p.external_id LIKE '{OURS}'
ORDER BY p.school_id, p.external_id, e.academic_year
"""
_READBACK_AUDIT = """
SELECT p.external_id, a.action, a.entity_type, a.actor_type, a.actor_id, a.trust_id,
       a.school_id, a.before::text, a.after::text
FROM audit_event a JOIN pupil p ON p.id = a.entity_id
WHERE a.school_id = ANY($1::uuid[]) AND a.entity_type = 'pupil'
ORDER BY a.school_id, p.external_id
"""
_READBACK_COUNTS = """
SELECT 'audit ' || entity_type || ' ' || action, count(*) FROM audit_event
WHERE school_id = ANY($1::uuid[]) GROUP BY 1
UNION ALL SELECT 'class_pupil', count(*) FROM class_pupil WHERE school_id = ANY($1::uuid[])
UNION ALL SELECT 'class_teacher', count(*) FROM class_teacher WHERE school_id = ANY($1::uuid[])
UNION ALL SELECT 'teaching_group', count(*) FROM teaching_group WHERE school_id = ANY($1::uuid[])
ORDER BY 1
"""


async def _readback(ctx: Context, school_ids: list[str]) -> list[Any]:
    rows: list[Any] = []
    for query in (_READBACK_PUPILS, _READBACK_AUDIT, _READBACK_COUNTS):
        rows += [tuple(record) for record in await ctx.pg.fetch(query, school_ids)]
    return rows


async def cleanup(ctx: Context) -> None:
    """Put the schools back as generated: none of the sync's pupils, classes or audit rows."""
    school_ids = [s["id"] for s in await _schools(ctx, max(TRUST_SCHOOLS, 1))]
    await ctx.pg.execute(
        "DELETE FROM audit_event WHERE school_id = ANY($1::uuid[])"
        " AND entity_type IN ('pupil', 'teaching_group')",
        school_ids,
    )
    await ctx.pg.execute(
        "DELETE FROM pupil WHERE school_id = ANY($1::uuid[]) AND external_id LIKE $2",
        school_ids,
        OURS,
    )
    await ctx.pg.execute(
        "DELETE FROM teaching_group WHERE school_id = ANY($1::uuid[]) AND academic_year = $2"
        " AND code ~ $3",
        school_ids,
        YEAR,
        _OUR_CLASSES,
    )
    await ctx.pg.execute(f"VACUUM (ANALYZE) {_TABLES}, teaching_group, class_teacher")


# --- Checking the answers (untimed) ------------------------------------------------------
_COUNTS = ("created", "updated", "unchanged", "rejected", "left")
_CLASS_COUNTS = ("classes_created", "classes_updated")


def _expect(key: str, **wanted: int) -> Callable[[Context, httpx.Response], None]:
    def check(_ctx: Context, response: httpx.Response) -> None:
        body = response.json()
        got = {name: body[name] for name in (*_COUNTS, *_CLASS_COUNTS)}
        want = {name: wanted.get(name, 0) for name in (*_COUNTS, *_CLASS_COUNTS)}
        if got != want:
            raise RuntimeError(f"{key}: expected {want}, got {got}")

    return check


def _keys(_ctx: Context, response: httpx.Response) -> list[Any]:
    return sorted(row["key"] for row in response.json()["pupils"])


def _floor_keys(_ctx: Context, keys: Any) -> list[Any]:
    return list(keys)


# --- The floors (timed) ------------------------------------------------------------------
async def copy_rows(pg: asyncpg.Connection, roster: Roster) -> tuple[str, ...]:
    async with pg.transaction():
        for table, columns, records in roster.tables:
            await pg.copy_records_to_table(table, records=records, columns=list(columns))
    return roster.keys


def _unnest_sql(table: str, columns: tuple[str, ...]) -> str:
    sources = ", ".join(
        f"${k}::{_TYPES.get(name, 'text')}[]" for k, name in enumerate(columns, start=1)
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({sources})"


async def unnest_rows(pg: asyncpg.Connection, roster: Roster) -> tuple[str, ...]:
    async with pg.transaction():
        for table, columns, records in roster.tables:
            arrays = [list(column) for column in zip(*records, strict=True)]
            await pg.execute(_unnest_sql(table, columns), *arrays)
    return roster.keys


def _new_pupils_case(
    key: str,
    title: str,
    roster_of: Callable[[Context], Awaitable[Roster]],
    pupils: int,
    target_ms: float,
    repeat: int,
    warmup: int,
) -> Case:
    async def prepare(ctx: Context) -> None:
        await roster_of(ctx)

    async def reset(ctx: Context) -> None:
        await _clear(ctx, (await roster_of(ctx)).school_ids)

    async def api(ctx: Context) -> httpx.Response:
        return await ctx.state[state_key].post(ctx)

    async def sql(ctx: Context) -> Any:
        return await copy_rows(ctx.pg, ctx.state[state_key])

    async def unnest(ctx: Context) -> Any:
        return await unnest_rows(ctx.pg, ctx.state[state_key])

    async def readback(ctx: Context) -> list[Any]:
        return await _readback(ctx, ctx.state[state_key].school_ids)

    state_key = "roster:trust" if "trust" in key else "roster:school"
    return Case(
        key=key,
        title=title,
        floor="COPY the same pupils, enrolments, class memberships and audit rows, one COPY a"
        " table, in one transaction (extra: one INSERT ... SELECT FROM unnest a table)",
        api=api,
        api_rows=_keys,
        sql=sql,
        sql_rows=_floor_keys,
        extras={"unnest INSERTs": unnest},
        floor_unlogged=4,  # the COPYs: BEGIN and COMMIT are logged
        prepare=prepare,
        reset=reset,
        readback=readback,
        check=_expect(key, created=pupils),
        cleanup=cleanup,
        repeat=repeat,
        warmup=warmup,
        target_ms=target_ms,
        unit="pupils",
    )


register(
    _new_pupils_case(
        "roster-new-2000",
        "roster sync: 2,000 new (school client)",
        _school_roster,
        SCHOOL_PUPILS,
        target_ms=1_000,
        repeat=20,
        warmup=5,  # with the verifying call, past PostgreSQL's five custom plans
    )
)


# --- Re-sending the same 2,000 -----------------------------------------------------------
async def _in_place(ctx: Context) -> None:
    """The 2,000 pupils stored as the school sync stores them (re-made if another case
    cleared them)."""
    roster = await _school_roster(ctx)
    school_id = roster.school_ids[0]
    stored = await ctx.pg.fetchval(
        "SELECT count(*) FROM pupil WHERE school_id = $1 AND external_id = ANY($2::text[])",
        school_id,
        list(roster.keys),
    )
    # The school's other pupils (the generated markbook's) stay; only the sync's own count.
    ours = await ctx.pg.fetchval(
        "SELECT count(*) FROM pupil WHERE school_id = $1 AND external_id LIKE $2", school_id, OURS
    )
    if stored == ours == SCHOOL_PUPILS:
        return
    await _clear(ctx, roster.school_ids)
    response = await roster.post(ctx)
    _expect("roster-resync-2000 (setting up)", created=SCHOOL_PUPILS)(ctx, response)


_STATE = (
    "SELECT * FROM pupil WHERE school_id = $1",
    "SELECT * FROM enrolment WHERE school_id = $1 AND academic_year = $2",
    "SELECT * FROM teaching_group WHERE school_id = $1 AND academic_year = $2",
    "SELECT * FROM class_teacher WHERE class_id IN"
    " (SELECT id FROM teaching_group WHERE school_id = $1 AND academic_year = $2)",
    "SELECT * FROM class_pupil WHERE class_id IN"
    " (SELECT id FROM teaching_group WHERE school_id = $1 AND academic_year = $2)",
)


async def _resync_api(ctx: Context) -> httpx.Response:
    return await ctx.state["roster:school"].post(ctx)


async def _resync_sql(ctx: Context) -> Any:
    school_id = ctx.state["roster:school"].school_ids[0]
    async with ctx.pg.transaction(isolation="repeatable_read", readonly=True):
        pupils = await ctx.pg.fetch(_STATE[0], school_id)
        for query in _STATE[1:]:
            await ctx.pg.fetch(query, school_id, YEAR)
    return pupils


register(
    Case(
        key="roster-resync-2000",
        title="roster sync: same 2,000 re-sent",
        floor="SELECT what the sync compares against: the school's pupils, enrolments, classes,"
        " class teachers and class memberships, one SELECT each, in one transaction",
        api=_resync_api,
        api_rows=_keys,
        sql=_resync_sql,
        # The school holds its own pupils too (the generated markbook's): the floor reads
        # them all, as the sync does; the answer names the sync's.
        sql_rows=lambda _ctx, records: sorted(
            r["external_id"] for r in records if r["external_id"].startswith(KEY)
        ),
        prepare=_in_place,
        reset=_in_place,
        check=_expect("roster-resync-2000", unchanged=SCHOOL_PUPILS),
        cleanup=cleanup,
        repeat=30,
        warmup=6,
        target_ms=500,
        unit="pupils",
    )
)

register(
    _new_pupils_case(
        "roster-trust-10000",
        "roster sync: 10,000 new (trust client)",
        _trust_roster,
        TRUST_PUPILS,
        target_ms=4_000,
        repeat=10,
        warmup=2,
    )
)
