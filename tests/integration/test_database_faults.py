"""The database faltering: connections killed under load, the pool exhausted, SQLite's one
writer at a time under a crowd of writers. Every answer is a success, a 412 or a 503 with
Retry-After (never a 500, never a hang); every accepted write is stored whole, every refused
one not at all; and the service answers normally afterwards without being restarted."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.engine import APPLICATION_NAME, database_unavailable
from app.db.markbook import ObjectiveJudgement
from app.main import create_app
from tests.conftest import SERVER_URL, make_client
from tests.support.markbook import Markbook, build_markbook

# Long enough for any of these loads on a busy machine; a hang fails the test, not the run.
BOUND_SECONDS = 180
DESCRIPTORS = ("B", "D", "S", "G")
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _cells(mb: Markbook, writer: int, note: str) -> list[dict[str, Any]]:
    """Every pupil of the class on two objectives; neighbouring writers share one."""
    first = writer % 5
    return [
        mb.cell(pupil, objective, DESCRIPTORS[writer % 4], note=note)
        for pupil in range(len(mb.pupils))
        for objective in (first, first + 1)
    ]


async def _stored_by_note(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    await session.rollback()  # a fresh snapshot of what the writers committed
    rows = await session.execute(
        sa.select(ObjectiveJudgement.note, sa.func.count()).group_by(ObjectiveJudgement.note)
    )
    return {note: count for note, count in rows}


def _assert_all_or_nothing(
    answers: dict[str, httpx.Response], stored: dict[str, int], cells_per_write: int
) -> None:
    """Accepted writes are stored whole; refused ones (412) not at all; a 503's write either
    way but never in part."""
    for note, answer in answers.items():
        if answer.status_code == 200:
            assert stored.get(note) == cells_per_write, (note, stored.get(note))
        elif answer.status_code == 412:
            assert note not in stored, note
        else:
            assert stored.get(note, 0) in (0, cells_per_write), (note, stored.get(note))


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"].isdigit()
    assert int(answer.headers["retry-after"]) > 0


# --- PostgreSQL: the service's connections killed mid-load -----------------------------------
async def _kill_service_connections(database_url: str) -> int:
    """What a failover or a DBA's pg_terminate_backend does: end every connection the service
    has to its database (not this one, whose application_name differs)."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1 "
            "AND pid <> pg_backend_pid()",
            APPLICATION_NAME,
        )
    finally:
        await admin.close()
    return int(killed)


@pytest.mark.skipif(not SERVER_URL, reason="PostgreSQL: pg_terminate_backend")
async def test_connections_killed_under_load_answer_503_lose_nothing_and_recover(
    client, world, session, database_url
):
    mb = await build_markbook(session, client, world)
    headers = world.headers("teacher")
    writers, rounds = 24, 6
    answers: dict[str, httpx.Response] = {}
    done = 0
    # The killer strikes when a quarter, half and three quarters of the writes have answered,
    # so that writes are in flight each time.
    marks = {writers * rounds * k // 4: asyncio.Event() for k in (1, 2, 3)}

    async def writer(w: int) -> None:
        nonlocal done
        for r in range(rounds):
            note = f"writer {w} round {r}"
            answers[note] = await client.post(
                mb.url, json={"cells": _cells(mb, w, note)}, headers=headers
            )
            done += 1
            if done in marks:
                marks[done].set()

    async def killer() -> int:
        killed = 0
        for mark in marks.values():
            await mark.wait()
            killed += await _kill_service_connections(database_url)
        return killed

    *_, killed = await asyncio.wait_for(
        asyncio.gather(*(writer(w) for w in range(writers)), killer()), BOUND_SECONDS
    )
    assert killed > 0, "the load ran on no connection of the service's"
    statuses = Counter(a.status_code for a in answers.values())
    assert set(statuses) <= {200, 503}, statuses
    for answer in answers.values():
        if answer.status_code == 503:
            _assert_unavailable(answer)
            assert answer.json()["type"] == "/problems/service-unavailable"
    _assert_all_or_nothing(answers, await _stored_by_note(session), 2 * len(mb.pupils))

    # Recovered by itself: dead connections were discarded, the next requests work.
    after = await asyncio.wait_for(
        client.post(mb.url, json={"cells": _cells(mb, 0, "after")}, headers=headers),
        BOUND_SECONDS,
    )
    assert after.status_code == 200, after.text
    grid = await client.get(mb.url, params=mb.grid_query(), headers=headers)
    assert grid.status_code == 200, grid.text


@pytest.mark.skipif(not SERVER_URL, reason="PostgreSQL: pg_terminate_backend")
async def test_pooled_connections_killed_while_idle_cost_the_next_requests_nothing(
    client, world, session, database_url
):
    """No ping on checkout: a request given a pooled connection that died while idle (a server
    restart, a proxy's idle cut-off) runs its first statement again on a fresh one."""
    mb = await build_markbook(session, client, world)
    headers = world.headers("teacher")
    # Several idle connections in the pool, for reads and writes alike.
    warm = await asyncio.gather(
        *(client.get(mb.url, params=mb.grid_query(), headers=headers) for _ in range(4)),
        client.post(mb.url, json={"cells": _cells(mb, 0, "before")}, headers=headers),
    )
    assert {answer.status_code for answer in warm} == {200}
    assert await _kill_service_connections(database_url) > 0

    for note in ("first", "second"):
        wrote = await client.post(mb.url, json={"cells": _cells(mb, 1, note)}, headers=headers)
        assert wrote.status_code == 200, wrote.text
    reads = [await client.get("/v1/me", headers=headers) for _ in range(4)]
    assert [answer.status_code for answer in reads] == [200] * 4
    stored = await _stored_by_note(session)
    assert stored["first"] == stored["second"] == 2 * len(mb.pupils)


# --- No connection to be had: 503 on both doors ------------------------------------------------
async def test_an_exhausted_pool_is_503_with_retry_after_then_serves_again(
    settings, world, database_url
):
    # One connection, and a request waits a fifth of a second for it (the pool as the
    # settings size it).
    limited = settings.model_copy(
        update={
            "database_url": database_url,
            "database_wait_seconds": 0.2,
            "database_pool_size": 1,
            "database_max_overflow": 0,
        }
    )
    app = create_app(limited)
    engine = app.state.engine
    teacher = world.headers("teacher")
    graphql = {
        "json": {"query": "{ me { name } }"},
        "headers": {**teacher, "Accept": GRAPHQL_RESPONSE},
    }
    try:
        async with make_client(app) as client:
            async with engine.connect() as held:  # the pool's only connection, taken
                await held.execute(sa.select(1))
                rest = await asyncio.wait_for(client.get("/v1/me", headers=teacher), BOUND_SECONDS)
                graph = await asyncio.wait_for(client.post("/graphql", **graphql), BOUND_SECONDS)
            # GraphQL cannot even begin (its context needs the session): the same problem.
            for answer in (rest, graph):
                _assert_unavailable(answer)
                assert answer.json()["type"] == "/problems/service-unavailable"
            # The connection is back: both answer normally.
            assert (await client.get("/v1/me", headers=teacher)).status_code == 200
            answer = await client.post("/graphql", **graphql)
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["me"]["name"]
    finally:
        await engine.dispose()


# --- A crowd of writers: SQLite serialises them ------------------------------------------------
async def test_a_hundred_concurrent_grid_writers_get_200_412_or_503_and_lose_nothing(
    client, world, session
):
    mb = await build_markbook(session, client, world)
    headers = world.headers("teacher")
    query = {"class_id": str(mb.class_id)}
    etag = (await client.get(mb.url, params=mb.grid_query(), headers=headers)).headers["ETag"]
    writers = 100

    async def write(w: int, r: int) -> tuple[str, httpx.Response]:
        # Every other write is made from the grid all read at the start: one such may be
        # accepted, the rest are stale (412). The others overwrite unconditionally.
        note = f"writer {w} round {r}"
        conditional = {"If-Match": etag} if r == 1 else {}
        answer = await client.post(
            mb.url,
            params=query,
            json={"cells": _cells(mb, w, note)},
            headers={**headers, **conditional},
        )
        return note, answer

    async def writer(w: int) -> list[tuple[str, httpx.Response]]:
        return [await write(w, r) for r in range(2)]

    results = await asyncio.wait_for(
        asyncio.gather(*(writer(w) for w in range(writers))), BOUND_SECONDS
    )
    answers = dict(pair for pairs in results for pair in pairs)
    assert len(answers) == 2 * writers
    statuses = Counter(a.status_code for a in answers.values())
    assert set(statuses) <= {200, 412, 503}, statuses
    for answer in answers.values():
        if answer.status_code == 503:
            _assert_unavailable(answer)
    by_round: dict[int, Counter[int]] = defaultdict(Counter)
    for note, answer in answers.items():
        by_round[int(note.rsplit(" ", 1)[1])][answer.status_code] += 1
    # Writes are serialised, not refused: most unconditional writers get through.
    assert by_round[0][200] > writers // 2, by_round
    assert by_round[1][200] <= 1, by_round
    _assert_all_or_nothing(answers, await _stored_by_note(session), 2 * len(mb.pupils))


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (asyncpg.AdminShutdownError("terminating connection"), True),
        (asyncpg.SerializationError("could not serialize"), True),
        (asyncpg.TooManyConnectionsError("too many clients"), True),
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), True),
        (asyncpg.UniqueViolationError("duplicate key"), False),
        (asyncpg.DivisionByZeroError("division by zero"), False),
    ],
)
def test_driver_errors_raised_unwrapped_are_sorted_by_their_sqlstate(
    error: Exception, unavailable: bool
) -> None:
    """COPY and bulk reads talk to asyncpg directly: its errors reach the API unwrapped, and
    a database faltering is still a 503, a bug still not."""
    assert database_unavailable(error) is unavailable
