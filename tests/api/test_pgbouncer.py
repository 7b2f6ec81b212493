"""Through PgBouncer in transaction mode (MARKBOOK_DATABASE_PGBOUNCER): writes, reads, reports
and GraphQL answer as they do directly, many at once over a few server connections, so that
one client connection's transactions run on several server connections in turn.

PostgreSQL only, and only where pgbouncer is installed (/usr/sbin/pgbouncer): skipped
otherwise. The test starts its own PgBouncer on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from app.db.engine import create_engine
from app.main import create_app
from tests.conftest import SERVER_URL, make_client
from tests.support.reports import school_with_values

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    not SERVER_URL or PGBOUNCER is None, reason="needs PostgreSQL and pgbouncer installed"
)
SERVER_CONNECTIONS = 2  # fewer than the app's pool: transactions move between them


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pgbouncer(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A PgBouncer in transaction mode in front of the test server; the test database's URL
    through it."""
    server = make_url(SERVER_URL)
    port = _free_port()
    # Readable by the postgres user: PgBouncer will not run as root.
    folder = Path(tempfile.mkdtemp(prefix="markbook-pgbouncer-"))
    folder.chmod(0o755)
    user = server.username or "postgres"
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
        "max_client_conn = 100\nlog_connections = 0\nlog_disconnections = 0\n"
    )
    for file in folder.iterdir():
        file.chmod(0o644)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    log: list[str] = []
    for line in process.stderr:  # ready once it says it listens
        log.append(line)
        if f"listening on 127.0.0.1:{port}" in line:
            break
    else:
        raise RuntimeError("pgbouncer did not start:\n" + "".join(log))
    threading.Thread(target=process.stderr.read, daemon=True).start()
    try:
        yield (
            make_url(settings.database_url)
            .set(host="127.0.0.1", port=port)
            .render_as_string(hide_password=False)
        )
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def bounced(settings, pgbouncer) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    through = settings.model_copy(update={"database_url": pgbouncer, "database_pgbouncer": True})
    engine = create_engine(pgbouncer, pgbouncer=True)
    try:
        async with make_client(create_app(through, engine=engine)) as client:
            yield client
    finally:
        await engine.dispose()


async def test_the_api_through_pgbouncer_in_transaction_mode(bounced, world):
    # Writes: the starter pack, a roster sync, values.
    school = await school_with_values(bounced, world)
    leader = world.headers("school_leader")
    page = school.templates["DATA-ON-A-PAGE"]
    fields = "name subjects { name } measures { code }"
    query = {"query": f'{{ school(id: "{school.school_id}") {{ {fields} }} }}'}
    report = f"/v1/schools/{school.school_id}/report-templates/{page}/report"

    def calls() -> list[Any]:
        return [
            bounced.get("/v1/me", headers=leader),
            bounced.get(f"/v1/schools/{school.school_id}/pupils", headers=leader),
            bounced.get(report, headers=leader),
            bounced.post("/graphql", json=query, headers=leader),
        ]

    answers = await asyncio.gather(*(call for _ in range(6) for call in calls()))
    assert [a.status_code for a in answers] == [200] * len(answers), [
        a.text for a in answers if a.status_code != 200
    ]
    graphql = [a.json() for a in answers[3::4]]
    assert all("errors" not in g for g in graphql), graphql[0]
    # The same answers, call after call, whichever server connection ran them.
    assert len({a.text for a in answers[2::4]}) == 1
