"""Build a PostgreSQL benchmark database of a named size, deterministically.

    uv run python -m bench.generate --size trust          # build (drop and recreate)
    uv run python -m bench.generate --size trust --reuse  # keep it if already built alike

The database is named ``markbook_bench_<size>`` on the server given by --server-url (or
MARKBOOK_BENCH_SERVER_URL; default the local server). It is migrated with the project's Alembic
migrations (never create_all), then loaded set-based with COPY, then VACUUM ANALYZEd. The same
size and seed give the same rows (ids, names, URNs, timestamps) every time; only the argon2
hashes differ, because argon2 salts are random. One hash of PASSWORD and one of CLIENT_SECRET
is computed per build and shared by every user and client: hashing is deliberately slow.

Sizes ``small`` and ``trust`` give every school a markbook (bench/schooldata.py): the starter
pack's definitions, about 420 pupils in Years 1-6 with their characteristics, classes and a
custom group, a few percent working out of year, three rounds of judgements in 2025/26 (one
in the fortnight before each of its Autumn, Spring and Summer points; about 12 million in a
trust of 100 schools), the current cells, the figures per pupil x subject x point, and the
teacher assessments and standardised scores at each point. A sample of the figures is then
recounted by the app's own recount and compared.

A comment on the database records size, seed, generator version and migration head, so
``--reuse`` rebuilds only when any of them changed; it is written last, once the sample
check has passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.auth.secrets import hash_secret
from app.db.migrate import head_revision, upgrade
from app.domain.calendar import AcademicYear, default_assessment_points
from app.domain.roles import ClientScope, Role
from bench import schooldata

GENERATOR_VERSION = 2
DEFAULT_SEED = 20251123
DEFAULT_SERVER_URL = os.environ.get(
    "MARKBOOK_BENCH_SERVER_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench password for every user"
CLIENT_SECRET = "mbs_bench_secret_for_every_client"
DOMAIN = "bench.example.org"


# --- Sizes -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Size:
    name: str
    description: str
    trusts: int
    schools_per_trust: int
    teachers_per_school: int = 14
    governors_per_school: int = 3
    exec_head_schools: int = 3  # per trust, one executive head leads this many schools
    academic_years: tuple[int, ...] = (2024, 2025)
    markbooks: bool = False  # every school's markbook (pupils, judgements, figures, values)

    @property
    def schools(self) -> int:
        return self.trusts * self.schools_per_trust

    @property
    def database(self) -> str:
        return f"markbook_bench_{self.name}"


SIZES: dict[str, Size] = {
    size.name: size
    for size in (
        Size("small", "1 trust of 2 schools: a smoke test of the harness", 1, 2, markbooks=True),
        Size(
            "trust", "1 trust of 100 primary schools (DESIGN.md section 8)", 1, 100, markbooks=True
        ),
        Size("large", "10 trusts of 100 primary schools each", 10, 100),
    )
}


# --- Well-known names the harness signs in with ------------------------------------------
def trust_admin_email(trust_no: int) -> str:
    return f"admin@t{trust_no:03d}.{DOMAIN}"


def trust_analyst_email(trust_no: int) -> str:
    return f"analyst@t{trust_no:03d}.{DOMAIN}"


def exec_head_email(trust_no: int) -> str:
    return f"exec.head@t{trust_no:03d}.{DOMAIN}"


def leader_email(urn: str) -> str:
    return f"leader@s{urn}.{DOMAIN}"


def teacher_email(urn: str, k: int) -> str:
    return f"teacher{k:02d}@s{urn}.{DOMAIN}"


def governor_email(urn: str, k: int) -> str:
    return f"governor{k}@s{urn}.{DOMAIN}"


def trust_client_id(trust_no: int) -> str:
    return f"mbc_bench_t{trust_no:03d}"


def school_client_id(urn: str) -> str:
    return f"mbc_bench_s{urn}"


TRUST_CLIENT_SCOPES = sorted(ClientScope)
SCHOOL_CLIENT_SCOPES = sorted(
    [ClientScope.ROSTER_READ, ClientScope.ROSTER_WRITE, ClientScope.VALUES_WRITE]
)


# --- The rows ----------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "trust": ("id", "name", "created_at", "updated_at"),
    "school": ("id", "name", "urn", "phase", "trust_id", "created_at", "updated_at"),
    "user": (
        "id",
        "email",
        "display_name",
        "password_hash",
        "is_active",
        "created_at",
        "updated_at",
    ),
    "role_grant": ("id", "user_id", "role", "trust_id", "school_id", "created_at"),
    "integration_client": (
        "id",
        "name",
        "client_id",
        "secret_hash",
        "scopes",
        "trust_id",
        "school_id",
        "is_active",
        "created_at",
        "updated_at",
    ),
    "assessment_point": (
        "id",
        "school_id",
        "academic_year",
        "code",
        "name",
        "position",
        "assessed_on",
        "created_at",
        "updated_at",
    ),
}
# Load order respects foreign keys.
TABLES = tuple(COLUMNS)

_PLACES = (
    "Oakfield Ashbrook Brampton Castleford Dunmore Elmhurst Fairholme Glenside Harrowby "
    "Ivydene Juniper Kingsmead Larkhill Millbrook Northgate Orchard Parkside Queensway "
    "Riverside Stonebridge Thornbury Upton Valley Westfield Yarrow"
).split()
_KINDS = ("Primary School", "Primary Academy", "Church of England Primary School", "Infant "
          "and Junior School", "Community Primary School")  # fmt: skip
_FIRST = (
    "Amira Ben Chloe Dev Ella Finn Grace Harry Isla Jack Kofi Leah Mo Nia Oscar Priya Rosa Sam "
    "Tariq Uma Vic Wren Yusuf Zoe"
).split()
_LAST = (
    "Ahmed Baker Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis Morgan Nowak "
    "Owen Patel Quinn Roberts Smith Taylor Usman Walker Young"
).split()


@dataclass
class Dataset:
    size: Size
    seed: int
    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in TABLES}
    )

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}


class _Maker:
    """Deterministic ids, names and timestamps from one seeded generator."""

    EPOCH = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def stamps(self) -> tuple[datetime, datetime]:
        created = self.EPOCH + timedelta(seconds=self.rng.randrange(60 * 86_400))
        return created, created + timedelta(seconds=self.rng.randrange(90 * 86_400))

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"


def generate(size: Size, seed: int = DEFAULT_SEED) -> Dataset:
    """All rows of a benchmark database, as tuples in COLUMNS order. Pure: no I/O, no hashing
    (the hash columns hold the placeholders ``PASSWORD_HASH`` and ``CLIENT_SECRET_HASH``)."""
    make = _Maker(seed)
    data = Dataset(size, seed)
    rows = data.rows
    urns = make.rng.sample(range(100_000, 1_000_000), size.schools)
    school_no = 0

    def add_user(email: str, grants: Sequence[tuple[Role, uuid.UUID, bool]]) -> None:
        """grants: (role, scope id, scope is a trust)."""
        user_id = make.id()
        created, updated = make.stamps()
        rows["user"].append((user_id, email, make.person(), PASSWORD_HASH, True, created, updated))
        for role, scope_id, is_trust in grants:
            rows["role_grant"].append(
                (
                    make.id(),
                    user_id,
                    str(role),
                    scope_id if is_trust else None,
                    None if is_trust else scope_id,
                    created,
                )
            )

    for trust_no in range(1, size.trusts + 1):
        trust_id = make.id()
        rows["trust"].append((trust_id, f"Bench Trust {trust_no:03d}", *make.stamps()))
        add_user(trust_admin_email(trust_no), [(Role.TRUST_ADMIN, trust_id, True)])
        add_user(trust_analyst_email(trust_no), [(Role.TRUST_ANALYST, trust_id, True)])
        created, updated = make.stamps()
        rows["integration_client"].append(
            (
                make.id(),
                f"Trust {trust_no:03d} MIS sync",
                trust_client_id(trust_no),
                CLIENT_SECRET_HASH,
                json.dumps([str(s) for s in TRUST_CLIENT_SCOPES]),
                trust_id,
                None,
                True,
                created,
                updated,
            )
        )
        school_ids: list[uuid.UUID] = []
        for _ in range(size.schools_per_trust):
            school_id = make.id()
            school_ids.append(school_id)
            urn = str(urns[school_no])
            school_no += 1
            name = f"{make.rng.choice(_PLACES)} {make.rng.choice(_KINDS)}"
            rows["school"].append((school_id, name, urn, "primary", trust_id, *make.stamps()))
            add_user(leader_email(urn), [(Role.SCHOOL_LEADER, school_id, False)])
            for k in range(1, size.teachers_per_school + 1):
                add_user(teacher_email(urn, k), [(Role.TEACHER, school_id, False)])
            for k in range(1, size.governors_per_school + 1):
                add_user(governor_email(urn, k), [(Role.GOVERNOR, school_id, False)])
            created, updated = make.stamps()
            rows["integration_client"].append(
                (
                    make.id(),
                    f"{name} MIS",
                    school_client_id(urn),
                    CLIENT_SECRET_HASH,
                    json.dumps([str(s) for s in SCHOOL_CLIENT_SCOPES]),
                    None,
                    school_id,
                    True,
                    created,
                    updated,
                )
            )
            for year in size.academic_years:
                for plan in default_assessment_points(AcademicYear(year)):
                    rows["assessment_point"].append(
                        (
                            make.id(),
                            school_id,
                            year,
                            plan.code,
                            plan.name,
                            plan.position,
                            plan.assessed_on,
                            *make.stamps(),
                        )
                    )
        led = school_ids[: size.exec_head_schools]
        add_user(exec_head_email(trust_no), [(Role.SCHOOL_LEADER, s, False) for s in led])
    return data


PASSWORD_HASH = "<password hash>"
CLIENT_SECRET_HASH = "<client secret hash>"


def _with_hashes(data: Dataset) -> dict[str, list[tuple[Any, ...]]]:
    """Put real argon2 hashes in place of the placeholders: one hash each, shared."""
    hashes = {PASSWORD_HASH: hash_secret(PASSWORD), CLIENT_SECRET_HASH: hash_secret(CLIENT_SECRET)}
    return {
        table: [tuple(hashes.get(v, v) if isinstance(v, str) else v for v in row) for row in rows]
        for table, rows in data.rows.items()
    }


# --- The database ------------------------------------------------------------------------
def database_url(server_url: str, database: str) -> str:
    """SQLAlchemy URL (postgresql+asyncpg://...) of another database on the same server."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def marker(size: Size, seed: int, url: str) -> str:
    return (
        f"markbook-bench size={size.name} seed={seed} generator={GENERATOR_VERSION} "
        f"migration={head_revision()}"
    )


async def _admin(server_url: str, *statements: str) -> list[Any]:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        return [await connection.fetch(statement) for statement in statements]
    finally:
        await connection.close()


async def _current_marker(server_url: str, database: str) -> str | None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        return await connection.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            database,
        )
    finally:
        await connection.close()


def markbook_year(size: Size) -> int:
    """The academic year the schools' markbooks are of: the generator's last, whose three
    points are all past (nothing is judged in the future)."""
    return size.academic_years[-1]


def school_plans(data: Dataset) -> list[schooldata.SchoolPlan]:
    """What each generated school's markbook needs: its teachers and this year's points."""
    year = markbook_year(data.size)
    users = {row[1]: row[0] for row in data.rows["user"]}
    points: dict[uuid.UUID, list[tuple[int, uuid.UUID, Any]]] = {}
    for point_id, school_id, academic_year, _, _, position, on, *_ in data.rows["assessment_point"]:
        if academic_year == year:
            points.setdefault(school_id, []).append((position, point_id, on))
    return [
        schooldata.SchoolPlan(
            school_id=school_id,
            urn=urn,
            academic_year=year,
            teachers={
                k: users[teacher_email(urn, k)] for k in range(1, data.size.teachers_per_school + 1)
            },
            points=tuple((point_id, on) for _, point_id, on in sorted(points[school_id])),
        )
        for school_id, _, urn, *_ in data.rows["school"]
    ]


async def _load(
    url: str, rows: dict[str, list[tuple[Any, ...]]], data: Dataset, log: Any
) -> dict[str, int]:
    """COPY the rows (and the schools' markbooks) in one transaction, then VACUUM ANALYZE."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    counts = data.counts()
    try:
        async with connection.transaction():
            for table in TABLES:
                if rows[table]:
                    await connection.copy_records_to_table(
                        table, records=rows[table], columns=list(COLUMNS[table])
                    )
            if data.size.markbooks:
                counts |= await schooldata.load_trust(
                    connection, school_plans(data), data.seed, log=log
                )
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
    return counts


async def _mark(url: str, comment: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        database = await connection.fetchval("SELECT current_database()")
        literal = comment.replace("'", "''")
        await connection.execute(f"COMMENT ON DATABASE \"{database}\" IS '{literal}'")
    finally:
        await connection.close()


@dataclass(frozen=True, slots=True)
class Built:
    size: Size
    url: str
    rebuilt: bool
    seconds: float
    counts: dict[str, int]


def build(
    size: Size,
    *,
    server_url: str = DEFAULT_SERVER_URL,
    seed: int = DEFAULT_SEED,
    reuse: bool = False,
    log: Any = print,
) -> Built:
    """Make (or, with reuse, keep) the database for ``size``. Blocking, and it runs event loops
    of its own (asyncio.run, Alembic's env.py): call it where no event loop is running."""
    url = database_url(server_url, size.database)
    wanted = marker(size, seed, url)
    started = time.perf_counter()
    if reuse:
        found = asyncio.run(_current_marker(server_url, size.database))
        if found == wanted:
            log(f"reusing {size.database} ({wanted})")
            return Built(size, url, False, 0.0, asyncio.run(_counts(url, size)))
        log(f"rebuilding {size.database}: found {found!r}, want {wanted!r}")
    data = generate(size, seed)
    asyncio.run(
        _admin(
            server_url,
            f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)',
            f'CREATE DATABASE "{size.database}"',
        )
    )
    upgrade(url)
    counts = asyncio.run(_load(url, _with_hashes(data), data, log))
    if size.markbooks:
        sample = [row[0] for row in data.rows["school"][:2]]
        compared = asyncio.run(schooldata.check_summaries(url, sample, markbook_year(size)))
        log(f"  {compared:,} figures of a sample recounted by the app: all equal")
    asyncio.run(_mark(url, wanted))
    seconds = time.perf_counter() - started
    log(f"built {size.database} in {seconds:.1f} s: {_describe(counts)}")
    return Built(size, url, True, seconds, counts)


def counted_tables(size: Size) -> tuple[str, ...]:
    """The tables whose rows a run reports: the generated ones, and the markbooks'."""
    return TABLES + (tuple(schooldata.COLUMNS) if size.markbooks else ())


async def _counts(url: str, size: Size) -> dict[str, int]:
    tables = counted_tables(size)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {
            table: await connection.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables
        }
    finally:
        await connection.close()


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {table}" for table, n in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--reuse", action="store_true", help="keep a database built alike")
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    if args.drop:
        drop = f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)'
        asyncio.run(_admin(args.server_url, drop))
        print(f"dropped {size.database}")
        return 0
    build(size, server_url=args.server_url, seed=args.seed, reuse=args.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
