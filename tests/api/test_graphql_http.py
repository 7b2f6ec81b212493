"""/graphql over HTTP: status codes and media types as the GraphQL-over-HTTP spec has them, a
code (and the field) on every error, the row cap and the time budget failing a query whole, 503
with Retry-After when the database falters (as REST answers), GET refused but for the explorer
page, and the explorer served from the service's own files."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import get_introspection_query
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.api.graphql import explorer
from app.main import create_app
from app.services import batches
from tests.conftest import SERVER_URL, make_client, make_settings
from tests.security.checks import assert_problem

GRAPHQL_RESPONSE = "application/graphql-response+json"
SCHOOL = "query ($s: UUID!) { school(id: $s) { name assessmentPoints { code } } }"
TRUST = """
query ($t: UUID!) {
  trust(id: $t) {
    name
    schools { edges { node { name assessmentPoints { code } } } }
  }
}
"""


async def post(
    client: httpx.AsyncClient,
    world: Any,
    query: str,
    *,
    who: str | None = "trust_admin",
    accept: str | None = None,
    **variables: Any,
) -> httpx.Response:
    headers = world.headers(who)
    if accept is not None:
        headers["Accept"] = accept
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


# --- Status codes and media types --------------------------------------------------------------
REFUSED = [
    ("{ me { name ", {"code": "GRAPHQL_PARSE_FAILED"}),
    ("{ me { shoeSize } }", {"code": "GRAPHQL_VALIDATION_FAILED", "field": "shoeSize"}),
    ("{ school { name } }", {"code": "GRAPHQL_VALIDATION_FAILED", "field": "school"}),
    ('{ school(id: "not-a-uuid") { name } }', {"code": "BAD_INPUT", "field": "id"}),
    ("{ trust(id: 7) { name } }", {"code": "BAD_INPUT", "field": "id"}),
    ("{ me(x: 1) { name } }", {"code": "GRAPHQL_VALIDATION_FAILED", "field": "x"}),
    (
        "query ($s: String) { school(id: $s) { name } }",
        {"code": "GRAPHQL_VALIDATION_FAILED", "field": "id"},
    ),
]


@pytest.mark.parametrize(("query", "extensions"), REFUSED)
async def test_a_query_refused_before_it_runs_is_a_400_for_graphql_response_json(
    client, world, query, extensions
):
    answer = await post(client, world, query, accept=GRAPHQL_RESPONSE)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = answer.json()
    assert "data" not in body  # it never ran
    assert {k: body["errors"][0]["extensions"].get(k) for k in extensions} == extensions


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "text/html"])
@pytest.mark.parametrize(("query", "extensions"), REFUSED[:2])
async def test_the_same_is_a_200_for_plain_json_clients(client, world, query, extensions, accept):
    answer = await post(client, world, query, accept=accept)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == extensions["code"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/*", "application/json"),
    ],
)
async def test_the_media_type_is_negotiated(client, world, accept, expected):
    answer = await post(client, world, "{ me { name } }", accept=accept)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(expected)
    assert answer.json() == {"data": {"me": {"name": "Trust Admin"}}}


async def test_an_error_while_running_is_a_200_with_data_for_both(client, world):
    query = "query ($t: UUID!) { trust(id: $t) { name schools(first: 100000) { totalCount } } }"
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        answer = await post(client, world, query, accept=accept, t=str(world.trusts["A"].id))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["data"] == {"trust": None}
        assert body["errors"][0]["extensions"] == {"code": "BAD_INPUT", "field": "first"}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_bad_id_in_a_variable_is_bad_input_naming_the_argument(client, world, accept):
    answer = await post(client, world, SCHOOL, accept=accept, s="not-a-uuid")
    assert answer.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    (error,) = answer.json()["errors"]
    assert error["extensions"] == {"code": "BAD_INPUT", "field": "id"}
    assert "not-a-uuid" in error["message"]
    # A missing variable is the same mistake.
    missing = await client.post(
        "/graphql", json={"query": SCHOOL}, headers=world.headers("trust_admin")
    )
    assert missing.json()["errors"][0]["extensions"] == {"code": "BAD_INPUT", "field": "id"}


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"query": "{ me { name } ', "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
        (b'{"query": 7}', "application/json", 400),
        (b"query=%7B+me+%7B+name+%7D+%7D", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_a_request_that_is_not_graphql_is_refused_with_a_code(
    client, world, content, content_type, status
):
    headers = {**world.headers("teacher"), "Content-Type": content_type, "Accept": GRAPHQL_RESPONSE}
    answer = await client.post("/graphql", content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = answer.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_no_token_is_rest_s_401_problem(client, accept):
    answer = await client.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Accept": accept}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert assert_problem(answer, 401, "graphql")["type"] == "/problems/unauthorized"


# --- GET and the explorer ----------------------------------------------------------------------
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", GRAPHQL_RESPONSE])
async def test_get_runs_no_query_and_says_so(client, world, accept):
    headers = world.headers("teacher")
    if accept:
        headers["Accept"] = accept
    answer = await client.get("/graphql", params={"query": "{ me { name } }"}, headers=headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    problem = assert_problem(answer, 405, "GET /graphql")
    assert "POST /graphql" in problem["detail"]
    assert "Teacher" not in answer.text


async def test_a_browser_gets_the_explorer_from_the_service_s_own_files(client):
    answer = await client.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    html = answer.text
    assert 'data-endpoint="/graphql"' in html
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls and all(url.startswith(explorer.ASSETS + "/") for url in urls), urls
    assert "//" not in "".join(urls)  # no other host, not even protocol-relative
    types = {".js": "javascript", ".css": "text/css"}
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert types[Path(url).suffix] in asset.headers["content-type"], url
        assert asset.content == (explorer.STATIC_DIR / url.removeprefix("/static/")).read_bytes()


def test_the_vendored_files_are_the_packages_own_small_and_licensed() -> None:
    folder = explorer.STATIC_DIR / "graphiql"
    readme = (folder / "README.md").read_text()
    listed = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    assert set(listed) == {
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    }
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    files = list(folder.iterdir())
    assert not [f for f in files if f.suffix == ".map"]
    assert sum(f.stat().st_size for f in files) < 2_000_000
    for licence in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT License" in (folder / licence).read_text()


async def test_the_explorer_s_schema_query_passes_the_limits(client, world):
    # GraphiQL asks for the schema with every option of the introspection query on.
    introspection = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    answer = await post(client, world, introspection, who="teacher", accept=GRAPHQL_RESPONSE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


# --- The row cap -------------------------------------------------------------------------------
async def test_a_query_past_the_row_cap_fails_whole_naming_the_field(client, world, settings):
    trust = str(world.trusts["A"].id)
    full = (await post(client, world, TRUST, t=trust)).json()["data"]["trust"]
    schools = [edge["node"] for edge in full["schools"]["edges"]]
    rows = len(schools) + sum(len(s["assessmentPoints"]) for s in schools)
    assert len(schools) == 2 and rows > 2
    settings.graphql_max_rows = rows
    within = await post(client, world, TRUST, t=trust)
    assert within.json() == {"data": {"trust": full}}
    settings.graphql_max_rows = rows - 1
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        answer = await post(client, world, TRUST, accept=accept, t=trust)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["data"] is None  # nothing partial
        (error,) = body["errors"]
        assert error["extensions"] == {
            "code": "ROWS_LIMIT",
            "field": "School.assessmentPoints",
            "limit": rows - 1,
        }
        assert error["path"][:2] == ["trust", "schools"]
        assert f"more than {rows - 1} rows" in error["message"]


def test_the_row_cap_and_time_budget_have_defaults() -> None:
    settings = make_settings("sqlite+aiosqlite://", Path("."))
    assert settings.graphql_max_rows == 10_000
    assert settings.graphql_time_budget_seconds == 10.0


# --- The time budget ---------------------------------------------------------------------------
async def test_a_query_past_its_time_budget_stops_with_time_limit(client, world, settings):
    # A budget already spent when the query first waits for the database.
    settings.graphql_time_budget_seconds = 1e-9
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        answer = await post(client, world, TRUST, accept=accept, t=str(world.trusts["A"].id))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "TIME_LIMIT", "seconds": 1e-9}
        assert "time budget" in error["message"]
    # The stopped query's connection was dropped, not reused half way through a statement.
    settings.graphql_time_budget_seconds = 10.0
    again = await post(client, world, TRUST, t=str(world.trusts["A"].id))
    assert again.json()["data"]["trust"]["name"] == "Trust A"


async def test_a_stopped_query_cancels_the_batches_still_running(
    client, world, settings, monkeypatch
):
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def never_answers(*_: Any, **__: Any) -> Any:
        started.set()
        try:
            await asyncio.Event().wait()  # a statement that never ends
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(batches, "points_of_schools", never_answers)
    settings.graphql_time_budget_seconds = 2.0
    answer = await post(client, world, SCHOOL, who="school_leader", s=str(world.schools["A1"].id))
    assert answer.json()["errors"][0]["extensions"]["code"] == "TIME_LIMIT"
    # The DataLoader batch runs in a task of its own: stopping the query cancelled it too.
    assert started.is_set() and cancelled.is_set()


postgres_only = pytest.mark.skipif(not SERVER_URL, reason="statement_timeout is PostgreSQL's")


@postgres_only
async def test_on_postgresql_each_statement_is_cut_off_at_the_budget(
    client, world, settings, monkeypatch
):
    seen: list[str] = []

    async def points(session: Any, **_: Any) -> list[Any]:
        seen.append((await session.execute(sa.text("SHOW statement_timeout"))).scalar_one())
        return [[]]

    monkeypatch.setattr(batches, "points_of_schools", points)
    settings.graphql_time_budget_seconds = 2.5
    answer = await post(client, world, SCHOOL, who="school_leader", s=str(world.schools["A1"].id))
    assert answer.json()["data"]["school"]["assessmentPoints"] == []
    assert seen == ["2500ms"]


@postgres_only
async def test_on_postgresql_a_statement_cut_off_is_time_limit(client, world, monkeypatch):
    async def points(session: Any, **_: Any) -> list[Any]:
        await session.execute(sa.text("SET LOCAL statement_timeout = 1"))
        await session.execute(sa.text("SELECT pg_sleep(30)"))  # cut off after 1 ms
        return [[]]

    monkeypatch.setattr(batches, "points_of_schools", points)
    answer = await post(client, world, SCHOOL, who="school_leader", s=str(world.schools["A1"].id))
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIME_LIMIT"]


# --- The database faltering --------------------------------------------------------------------
def _unreachable_database(database_url: str) -> str:
    if SERVER_URL:
        return make_url(database_url).set(port=1).render_as_string(hide_password=False)
    return "sqlite+aiosqlite:////nonexistent-directory/markbook.db"


async def test_a_database_that_does_not_answer_is_503_with_retry_after_as_in_rest(
    world, database_url, tmp_path
):
    app = create_app(make_settings(_unreachable_database(database_url), tmp_path))
    async with make_client(app) as client:
        rest = await client.get("/v1/me", headers=world.headers("teacher"))
        graphql = await post(
            client, world, "{ me { name } }", who="teacher", accept=GRAPHQL_RESPONSE
        )
    for answer in (rest, graphql):
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        problem = assert_problem(answer, 503, str(answer.request.url))
        assert problem["type"] == "/problems/service-unavailable"
        assert "nonexistent" not in answer.text and "Connect call" not in answer.text


async def test_the_database_faltering_mid_query_is_503_with_no_partial_data(
    client, world, monkeypatch
):
    async def falters(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT secret", {}, Exception("database is locked"))

    monkeypatch.setattr(batches, "points_of_schools", falters)
    answer = await post(client, world, TRUST, accept=GRAPHQL_RESPONSE, t=str(world.trusts["A"].id))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    body = answer.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["request_id"] == answer.headers["x-request-id"]
    assert "secret" not in answer.text and "locked" not in answer.text
