"""What a benchmark case is, the registry of cases, and the context cases run in.

A case pairs an API call with its raw-SQL floor: the minimal query (or queries) that produce
the same rows straight from PostgreSQL with asyncpg. The harness checks once that both give the
same rows, then times them alternately on the same data in the same run. Add a case by writing
a module under bench/cases/ that calls ``register(Case(...))`` and importing it from
bench/cases/__init__.py.

A write case (the roster syncs) has both sides write the same rows: an untimed ``reset`` puts
the database back before every call, and an untimed ``readback`` of what each side wrote must
be equal, as the rows are for reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from app.auth.tokens import TokenIssuer
from bench import generate as gen

ApiCall = Callable[["Context"], Awaitable[httpx.Response]]
SqlCall = Callable[["Context"], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Case:
    key: str
    title: str
    floor: str  # what the SQL floor is, in one line (printed in the README and --list)
    api: ApiCall  # the timed request; returns the response
    api_rows: Callable[[Context, httpx.Response], list[Any]]  # untimed: rows to compare
    sql: SqlCall | None = None  # the timed floor; None for reference cases without one
    sql_rows: Callable[[Context, Any], list[Any]] | None = None  # untimed: rows to compare
    # Other named operations timed alongside, e.g. the argon2 verify alone. When
    # extras_in_floor, they are work the API cannot avoid, and a second ratio is reported
    # against SQL floor + extras.
    extras: Mapping[str, SqlCall] = field(default_factory=dict)
    extras_in_floor: bool = False
    prepare: Callable[[Context], Awaitable[None]] | None = None  # untimed, once per run
    expect_status: int = 200
    # Write cases. ``reset`` runs, untimed, before every call of either side (verification,
    # warm-up, timing, profile, round-trip count; extras too), so that each call starts from
    # the same state: the API and the floor write the same rows into the same database.
    reset: Callable[[Context], Awaitable[None]] | None = None
    # Untimed, after the verified call of each side: what that call left in the database
    # (ids and timestamps left out). The API's and the floor's must be equal, like the rows.
    readback: Callable[[Context], Awaitable[list[Any]]] | None = None
    # Untimed, on every API response (not only the verified one): raises if it is wrong, so a
    # regression in what the call does stops the run instead of being timed.
    check: Callable[[Context, httpx.Response], None] | None = None
    cleanup: Callable[[Context], Awaitable[None]] | None = None  # untimed, at the end of a run
    # Timed calls and warm-up per side when --repeat / --warmup are not given (heavy cases).
    repeat: int | None = None
    warmup: int | None = None
    # Statements the floor sends that asyncpg's query logger does not see (COPY), added to
    # its counted round trips.
    floor_unlogged: int = 0
    target_ms: float | None = None  # a target from an issue: reported, never asserted
    # After timing, one more API call, untimed, under tracemalloc: the peak of the Python
    # memory it allocated (app and client, the response body included) is reported.
    peak_memory: bool = False
    unit: str | None = None  # what a row is ("pupils"): reports rows per second


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    if case.key in CASES:
        raise ValueError(f"bench case {case.key!r} registered twice")
    CASES[case.key] = case
    return case


# --- Who the cases act as ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Person:
    email: str
    id: uuid.UUID
    trust_id: uuid.UUID | None = None
    school_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    id: uuid.UUID
    trust_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Subjects:
    """The principals cases act as, found in the generated data: people and the client of the
    first trust, and the leader, a teacher and the client of that trust's school with the
    lowest URN."""

    trust_admin: Person
    trust_analyst: Person
    school_leader: Person
    teacher: Person
    trust_client: Client
    school_client: Client  # the integration client of the leader's school (roster:write)
    trust_school_ids: tuple[uuid.UUID, ...]
    password: str = gen.PASSWORD
    client_secret: str = gen.CLIENT_SECRET


async def load_subjects(pg: asyncpg.Connection) -> Subjects:
    admin = await pg.fetchrow(
        'SELECT u.id, g.trust_id FROM "user" u JOIN role_grant g ON g.user_id = u.id '
        "WHERE u.email = $1",
        gen.trust_admin_email(1),
    )
    if admin is None:
        raise RuntimeError("no trust admin of trust 1: is this a bench database?")
    trust_id = admin["trust_id"]
    school = await pg.fetchrow(
        "SELECT id, urn FROM school WHERE trust_id = $1 ORDER BY urn LIMIT 1", trust_id
    )
    schools = await pg.fetch("SELECT id FROM school WHERE trust_id = $1", trust_id)
    client = await pg.fetchrow(
        "SELECT id, trust_id FROM integration_client WHERE client_id = $1", gen.trust_client_id(1)
    )
    school_client = await pg.fetchval(
        "SELECT id FROM integration_client WHERE client_id = $1",
        gen.school_client_id(school["urn"]),
    )

    async def person(email: str) -> Person:
        user_id = await pg.fetchval('SELECT id FROM "user" WHERE email = $1', email)
        return Person(email, user_id, school_id=school["id"])

    return Subjects(
        trust_admin=Person(gen.trust_admin_email(1), admin["id"], trust_id=trust_id),
        trust_analyst=Person(
            gen.trust_analyst_email(1),
            await pg.fetchval('SELECT id FROM "user" WHERE email = $1', gen.trust_analyst_email(1)),
            trust_id=trust_id,
        ),
        school_leader=await person(gen.leader_email(school["urn"])),
        teacher=await person(gen.teacher_email(school["urn"], 1)),
        trust_client=Client(gen.trust_client_id(1), client["id"], client["trust_id"]),
        school_client=Client(gen.school_client_id(school["urn"]), school_client),
        trust_school_ids=tuple(row["id"] for row in schools),
    )


# --- The context -------------------------------------------------------------------------
@dataclass
class Context:
    """What a case's callables get: an HTTP client on the app (in-process or over loopback),
    a raw asyncpg connection on the same database, the subjects and their bearer tokens."""

    client: httpx.AsyncClient
    pg: asyncpg.Connection
    subjects: Subjects
    issuer: TokenIssuer
    tokens: dict[str, str] = field(default_factory=dict)  # "trust_admin" -> bearer token
    state: dict[str, Any] = field(default_factory=dict)  # for prepare hooks

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def sign_in(ctx: Context) -> None:
    """Get real tokens from the token endpoint for every subject (untimed)."""
    s = ctx.subjects
    for who, person in (
        ("trust_admin", s.trust_admin),
        ("trust_analyst", s.trust_analyst),
        ("school_leader", s.school_leader),
        ("teacher", s.teacher),
    ):
        response = await ctx.client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": person.email, "password": s.password},
        )
        response.raise_for_status()
        ctx.tokens[who] = response.json()["access_token"]
    for who, client in (("trust_client", s.trust_client), ("school_client", s.school_client)):
        response = await ctx.client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": s.client_secret,
            },
        )
        response.raise_for_status()
        ctx.tokens[who] = response.json()["access_token"]
