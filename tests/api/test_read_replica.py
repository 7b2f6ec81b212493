"""A read replica (MARKBOOK_READ_DATABASE_URL): reports and GraphQL read their data there;
the caller, writes and the reads of what was just written stay on the primary.

The "replica" is a copy of the test database taken mid-test (PostgreSQL: CREATE DATABASE ...
TEMPLATE; SQLite: a backup of the file), after which the primary is changed through the API:
which answer comes back proves which database was read. A real streaming replica is run by
bench/replica.sh."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from app.db.engine import READ_APPLICATION_NAME, session_factory
from app.db.people import User
from app.main import create_app
from app.settings import Settings
from tests.conftest import SERVER_URL, make_client
from tests.support.pg import admin_execute
from tests.support.reports import AUTUMN_TA, enter_values, school_with_values


async def _copy(databases: Any, engine: Any, primary_url: str) -> str:
    """A copy of the primary as it is now, to stand for a replica that has stopped applying."""
    copy_url = databases.url_for(f"replica_{databases.run_id}")
    primary, copy = make_url(primary_url).database, make_url(copy_url).database
    if databases.is_postgres:
        admin_execute(
            SERVER_URL,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{primary}' AND pid <> pg_backend_pid()",
        )
        await engine.dispose()
        admin_execute(SERVER_URL, f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        admin_execute(SERVER_URL, f'CREATE DATABASE "{copy}" TEMPLATE "{primary}"')
    else:
        await engine.dispose()
        with sqlite3.connect(primary or "") as source, sqlite3.connect(copy or "") as target:
            source.backup(target)
    return copy_url


@pytest.fixture
async def replica_app(databases, settings, engine, client, world) -> AsyncIterator[Any]:
    school = await school_with_values(client, world)
    copy_url = await _copy(databases, engine, settings.database_url)
    with_replica = Settings(**{**settings.model_dump(), "read_database_url": copy_url})
    app = create_app(with_replica, engine=engine)
    try:
        yield app, school
    finally:
        await app.state.read_engine.dispose()
        if databases.is_postgres:
            database = make_url(copy_url).database
            admin_execute(SERVER_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        else:
            _remove(copy_url)


def _remove(sqlite_url: str) -> None:
    Path(make_url(sqlite_url).database or "").unlink(missing_ok=True)


def _maths_autumn(report: dict[str, Any]) -> list[Any]:
    return [[c["value"] for c in row["cells"]] for row in report["sections"][0]["rows"]]


async def test_reports_and_graphql_read_the_replica_and_the_rest_the_primary(
    replica_app, client, world, engine
):
    app, school = replica_app
    leader = world.headers("school_leader")
    page = school.templates["DATA-ON-A-PAGE"]
    report_url = f"/v1/schools/{school.school_id}/report-templates/{page}/report"
    before = await client.get(report_url, headers=leader)
    assert before.status_code == 200, before.text
    csv_before = await client.get(report_url, params={"format": "csv"}, headers=leader)
    async with make_client(app) as replicated:
        # Changes after the copy, made through the replica-configured app: writes go to the
        # primary, and what was just written is read back from it.
        changed = [{"EXS": "WTS"}.get(v, v) for v in AUTUMN_TA]
        await enter_values(replicated, leader, school, "AUT", "MATH-TA", changed)
        renamed = await replicated.patch(
            f"/v1/schools/{school.school_id}", json={"name": "Renamed"}, headers=leader
        )
        assert renamed.status_code == 200, renamed.text
        school_now = await replicated.get(f"/v1/schools/{school.school_id}", headers=leader)
        assert school_now.json()["name"] == "Renamed"
        created = await replicated.post(
            "/v1/report-templates",
            json={
                "school_id": str(school.school_id),
                "code": "NEW",
                "name": "New",
                "definition": (
                    await client.get(f"/v1/report-templates/{page}", headers=leader)
                ).json()["definition"],
            },
            headers=leader,
        )
        assert created.status_code == 201, created.text
        new_id = created.json()["id"]
        assert (
            await replicated.get(f"/v1/report-templates/{new_id}", headers=leader)
        ).status_code == 200

        # The primary has the new figures; the replica's report still the old ones.
        on_primary = await client.get(report_url, headers=leader)
        on_replica = await replicated.get(report_url, headers=leader)
        assert on_replica.status_code == 200, on_replica.text
        assert _maths_autumn(on_replica.json()) == _maths_autumn(before.json())
        assert _maths_autumn(on_primary.json()) != _maths_autumn(before.json())
        # Exports and runs of a definition read the replica too.
        csv_now = await replicated.get(report_url, params={"format": "csv"}, headers=leader)
        assert csv_now.text == csv_before.text
        # A template created a moment ago is not on the replica yet (replication lag).
        new_report = f"/v1/schools/{school.school_id}/report-templates/{new_id}/report"
        assert (await replicated.get(new_report, headers=leader)).status_code == 404
        assert (await client.get(new_report, headers=leader)).status_code == 200

        # GraphQL reads the replica: the school's old name.
        query = {"query": f'{{ school(id: "{school.school_id}") {{ name }} }}'}
        answer = await replicated.post("/graphql", json=query, headers=leader)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["school"]["name"] != "Renamed"
        primary_answer = await client.post("/graphql", json=query, headers=leader)
        assert primary_answer.json()["data"]["school"]["name"] == "Renamed"

        # The caller comes from the primary: an account disabled there is refused at once,
        # though the replica still has it active.
        async with session_factory(engine)() as session:
            await session.execute(
                update(User)
                .where(User.id == world.users["school_leader"].id)
                .values(is_active=False)
            )
            await session.commit()
        assert (await replicated.get(report_url, headers=leader)).status_code == 401
        assert (await replicated.post("/graphql", json=query, headers=leader)).status_code == 401


@pytest.mark.skipif(not SERVER_URL, reason="PostgreSQL: pg_terminate_backend")
async def test_replica_connections_killed_while_idle_cost_the_next_reports_nothing(
    replica_app, world
):
    """The replica restarts (or a proxy cuts its idle connections) while the primary stays up:
    a report's first statement on the replica runs again on a fresh connection, as the
    caller's does on the primary, rather than answering 503."""
    app, school = replica_app
    leader = world.headers("school_leader")
    report_url = f"/v1/schools/{school.school_id}/report-templates/"
    report_url += f"{school.templates['DATA-ON-A-PAGE']}/report"
    query = {"query": "{ me { name } }"}
    async with make_client(app) as replicated:
        for _ in range(2):  # connections in both pools, then idle
            assert (await replicated.get(report_url, headers=leader)).status_code == 200
        replica = make_url(app.state.settings.read_database_url).database
        admin_execute(
            SERVER_URL,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{replica}' AND application_name = '{READ_APPLICATION_NAME}'",
        )
        ran = await replicated.get(report_url, headers=leader)
        assert ran.status_code == 200, ran.text
        asked = await replicated.post("/graphql", json=query, headers=leader)
        assert asked.status_code == 200 and "errors" not in asked.json(), asked.text


def test_a_replica_on_another_engine_is_refused_at_start():
    with pytest.raises(ValueError, match="same engine"):
        Settings(
            database_url="postgresql+asyncpg://db/markbook",
            read_database_url="sqlite+aiosqlite:///replica.db",
        )
