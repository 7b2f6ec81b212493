"""Children's data stays out of logs. A pupil's name and UPN are written in requests that fail
inside the database (a clash with a unique index the service does not know of, a trigger that
errs quoting the row, on PostgreSQL the connection killed mid-insert); every log record of every
logger, at DEBUG, with SQL echo on, is searched for them: they appear nowhere."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from app import logs
from app.domain.pupils import make_upn
from app.main import create_app
from tests.conftest import SERVER_URL, make_client

FORENAME, SURNAME = "Quillonetta", "Zanzibarova"
UPNS = (make_upn("801200097531"), make_upn("801200097532"))
LOGGERS = ("", "markbook", "sqlalchemy", "sqlalchemy.pool", "uvicorn", "uvicorn.error", "asyncio")

# The failure each case provokes inside the database, how to undo it, and the answer expected.
CLASH = (
    ["CREATE UNIQUE INDEX test_privacy_surname ON pupil (legal_surname)"],
    ["DROP INDEX test_privacy_surname"],
)
PG_TRIGGER = (
    "CREATE FUNCTION test_privacy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$",
    "CREATE TRIGGER test_privacy BEFORE INSERT ON pupil FOR EACH ROW "
    "EXECUTE FUNCTION test_privacy()",
)
PG_UNDO = ["DROP TRIGGER test_privacy ON pupil", "DROP FUNCTION test_privacy()"]
ERRS_QUOTING_THE_ROW = (
    [
        PG_TRIGGER[0].format(
            body="RAISE EXCEPTION 'refused % % %', NEW.legal_forename, NEW.legal_surname, NEW.upn;"
        ),
        PG_TRIGGER[1],
    ]
    if SERVER_URL
    # SQLite: a trigger whose statement cannot run ("no such table"): an error, not a fault.
    else ["CREATE TRIGGER test_privacy BEFORE INSERT ON pupil BEGIN SELECT * FROM nowhere; END"],
    PG_UNDO if SERVER_URL else ["DROP TRIGGER test_privacy"],
)
KILLS_ITS_CONNECTION = (
    [
        PG_TRIGGER[0].format(body="PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW;"),
        PG_TRIGGER[1],
    ],
    PG_UNDO,
)


def _pupil(upn: str, serial: int) -> dict[str, Any]:
    return {
        "external_id": f"PRIV{serial}",
        "upn": upn,
        "legal_forename": FORENAME,
        "legal_surname": SURNAME,
        "preferred_forename": FORENAME,
        "date_of_birth": "2016-05-17",
    }


@pytest.fixture
async def echoing_app(settings) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """The service with SQL echo on: every statement is logged (its parameters hidden)."""
    app = create_app(settings.model_copy(update={"sql_echo": True}))
    yield app
    await app.state.engine.dispose()


async def _ddl(session, statements: list[str]) -> None:  # type: ignore[no-untyped-def]
    for statement in statements:
        await session.execute(sa.text(statement))
    await session.commit()


@pytest.mark.parametrize(
    ("failure", "statuses"),
    [
        pytest.param(CLASH, (201, 409), id="unique-clash-409"),
        pytest.param(ERRS_QUOTING_THE_ROW, (500,), id="error-quoting-the-row-500"),
        pytest.param(
            KILLS_ITS_CONNECTION,
            (503,),
            id="connection-killed-mid-insert-503",
            marks=pytest.mark.skipif(not SERVER_URL, reason="PostgreSQL: pg_terminate_backend"),
        ),
    ],
)
async def test_a_pupil_written_in_a_failing_request_appears_in_no_log(
    echoing_app, world, session, caplog, failure, statuses
):
    make, undo = failure
    await _ddl(session, make)
    leader = world.headers("school_leader")
    url = f"/v1/schools/{world.schools['A1'].id}/pupils"
    try:
        caplog.set_level(logging.DEBUG)
        for name in LOGGERS:
            caplog.set_level(logging.DEBUG, logger=name)
        async with make_client(echoing_app) as client:
            answers = [
                await client.post(url, json=_pupil(upn, serial), headers=leader)
                for serial, (upn, _status) in enumerate(zip(UPNS, statuses, strict=False))
            ]
    finally:
        await session.rollback()
        await _ddl(session, undo)

    assert [a.status_code for a in answers] == list(statuses), [a.text for a in answers]
    failed = answers[-1]
    assert failed.headers["content-type"] == "application/problem+json"
    if failed.status_code == 503:
        assert failed.headers["retry-after"].isdigit()
    # The capture works: statements were echoed, the failure was logged.
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert any(r.name == "markbook.errors" for r in caplog.records)
    if failed.status_code == 500:
        logged = next(r.getMessage() for r in caplog.records if r.name == "markbook.errors")
        assert "Traceback" in logged and failed.json()["correlation_id"] in logged
    everything = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (FORENAME, SURNAME, *UPNS):
        assert secret not in everything, secret
        assert secret not in failed.text, secret


async def test_access_log_lines_carry_method_path_and_status_only(caplog):
    logs.install()
    access = logging.getLogger(logs.ACCESS_LOGGER)
    with caplog.at_level(logging.INFO, logger=logs.ACCESS_LOGGER):
        # As uvicorn logs a request: client, method, path with query, HTTP version, status.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.7:5123",
            "POST",
            f"/v1/schools/x/pupils/import?filename={SURNAME}-{UPNS[0]}.csv",
            "1.1",
            202,
        )
    (line,) = [r.getMessage() for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    assert line == '- - "POST /v1/schools/x/pupils/import HTTP/1.1" 202'
    assert SURNAME not in line and UPNS[0] not in line and "10.0.0.7" not in line


async def test_a_graphql_query_quoting_a_pupil_in_its_variables_appears_in_no_log(
    client, world, caplog
):
    caplog.set_level(logging.DEBUG)
    for name in (*LOGGERS, "strawberry", "strawberry.execution"):
        caplog.set_level(logging.DEBUG, logger=name)
    answer = await client.post(
        "/graphql",
        json={
            "query": "query ($id: UUID!) { pupil(id: $id) { id } }",
            "variables": {"id": f"{FORENAME} {SURNAME} {UPNS[0]}"},
        },
        headers=world.headers("school_leader"),
    )
    assert answer.status_code == 200, answer.text
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["BAD_INPUT"]
    everything = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (FORENAME, SURNAME, UPNS[0]):
        assert secret not in everything, secret
