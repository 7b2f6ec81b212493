"""Every error is an RFC 9457 problem: routing, methods, validation, size, the unexpected."""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from app.db.tenancy import Trust
from tests.support.definitions import add_definitions, add_template
from tests.support.roster import add_pupil

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_unknown_route_is_a_404_problem(client):
    body = assert_problem(await client.get("/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/v1/no-such-thing"


async def test_wrong_method_is_a_405_problem_with_allow(client):
    response = await client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET"


async def test_malformed_json_names_the_body(client, world):
    response = await client.post(
        "/v1/trusts",
        content=b'{"name": ',
        headers={**world.headers("system_admin"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "body"
    assert body["errors"][0]["reason"].startswith("not valid JSON")


async def test_unknown_fields_and_wrong_types_are_named(client, world, session):
    response = await client.post(
        "/v1/trusts", json={"name": 7, "colour": "red"}, headers=world.headers("system_admin")
    )
    body = assert_problem(response, 422, "validation-error")
    assert {"field": "body.colour", "reason": "unknown field"} in body["errors"]
    assert any(e["field"] == "body.name" for e in body["errors"])
    assert await session.scalar(sa.select(sa.func.count()).select_from(Trust)) == 2


async def test_bodies_over_the_limit_are_refused_with_413(client, world, session):
    big = {"name": "x" * (65 * 1024)}
    body = assert_problem(
        await client.post("/v1/trusts", json=big, headers=world.headers("system_admin")),
        413,
        "payload-too-large",
    )
    assert body["max_bytes"] == 64 * 1024


async def test_chunked_bodies_over_the_limit_are_refused_too(client, world):
    async def chunks():
        for _ in range(70):
            yield b"x" * 1024

    response = await client.post(
        "/v1/trusts",
        content=chunks(),
        headers={**world.headers("system_admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_unexpected_errors_are_500_with_a_correlation_id_and_no_internals(
    app, client, world, caplog
):
    async def explode() -> None:
        password = "".join(("hunter", "2"))  # data, not a literal of the source
        raise RuntimeError(f"secret internals: password={password}")

    app.add_api_route("/v1/explode", explode, methods=["GET"])
    with caplog.at_level(logging.DEBUG):
        response = await client.get("/v1/explode", headers={"X-Request-ID": "trace-123"})
    body = assert_problem(response, 500, "internal-error")
    assert body["correlation_id"] == "trace-123"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    # Logged with the request id, the exception's kind and where it was raised; not its
    # message, which may quote data (here a password).
    (logged,) = [r.getMessage() for r in caplog.records if "trace-123" in r.getMessage()]
    assert "RuntimeError" in logged and "in explode" in logged
    assert "hunter2" not in caplog.text


async def test_a_sane_caller_request_id_is_echoed_and_a_hostile_one_replaced(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(response.headers["X-Request-ID"]) == 32


async def test_readyz_reports_the_migration(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["migration"] == body["expected_migration"]


async def test_a_timestamp_without_an_offset_is_a_422_not_a_guess(client, world):
    for url, name in (("/v1/schools", "updated_since"), ("/v1/audit-events", "since")):
        response = await client.get(
            url, params={name: "2026-11-23T00:00:00"}, headers=world.headers("system_admin")
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == f"query.{name}"


# --- Bad input is a 422 naming what was wrong, never a 500 ---------------------------------
def _nested(depth: int) -> bytes:
    return b'{"pupils": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


async def test_json_nested_past_the_cap_is_a_422_on_any_route_and_stores_nothing(
    client, world, session
):
    school, trust = world.schools["A1"], world.trusts["A"]
    leader = {**world.headers("trust_admin"), "Content-Type": "application/json"}
    deep = _nested(1000)
    for path, body, headers in (
        (f"/v1/schools/{school.id}/roster/sync", deep, leader),
        (f"/v1/trusts/{trust.id}/roster/sync", deep, leader),
        # Read raw whatever the declared type, so refused whatever the declared type.
        (f"/v1/schools/{school.id}/roster/sync", deep, {**leader, "Content-Type": "text/plain"}),
        # As json.loads reads it: UTF-16 hides no bracket.
        (f"/v1/schools/{school.id}/roster/sync", deep.decode().encode("utf-16"), leader),
        ("/v1/trusts", b'{"name": "T", "x": ' + b"[" * 65 + b"]" * 65 + b"}", leader),
        ("/graphql", b'{"query": "{ me { id } }", "variables": ' + deep + b"}", leader),
    ):
        response = await client.post(path, content=body, headers=headers)
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"] == [
            {"field": "body", "reason": "JSON nested deeper than 64 levels"}
        ], path
        assert problem["max_depth"] == 64
    assert await session.scalar(sa.select(sa.func.count()).select_from(Trust)) == 2
    # Brackets inside strings are text, not nesting; 64 levels are within the cap.
    within = await client.post(
        f"/v1/schools/{school.id}/roster/sync",
        json={"pupils": [], "note": "[" * 1000},
        headers=leader,
    )
    assert "nested" not in within.text
    at_cap = await client.post("/v1/trusts", content=_nested(64), headers=leader)
    assert at_cap.status_code == 422 and "nested" not in at_cap.text


def _cursor(positions: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(positions).encode()).decode().rstrip("=")


# The three forgeries (a number for the id, a position past any integer column, an instant UTC
# cannot hold) in the shapes of the lists' keys: (updated_at, id), (position, id), (year,
# position, id), (version), (recorded_at, pupil, measure, point).
_TIME, _ID, _NUMBER = "2026-01-01T00:00:00+00:00", str(uuid.uuid4()), "1"
_SHAPES = ([_ID], [_TIME, _ID], [_NUMBER, _ID], [_NUMBER, _NUMBER, _ID], [_TIME, _ID, _ID, _ID])
_HUGE = "99999999999999999999"
_OUT_OF_UTC = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
FORGED_CURSORS = sorted(
    {_cursor([5]), _cursor([_NUMBER, _HUGE, _ID]), "not base64 at all!", _cursor({"a": 1})}
    | {_cursor([*shape[:-1], 5]) for shape in _SHAPES}
    | {_cursor([*shape[:-1], None]) for shape in _SHAPES}
    | {_cursor([_HUGE, *shape[1:]]) for shape in _SHAPES}
    | {_cursor([instant, *shape[1:]]) for shape in _SHAPES for instant in _OUT_OF_UTC}
)


async def test_every_paged_list_answers_a_forged_cursor_with_422_on_the_cursor(
    app, client, world, session
):
    school = world.schools["A1"]
    ids = {
        "school_id": school.id,
        "pupil_id": (await add_pupil(session, school, 1)).id,
        "framework_id": (await add_definitions(session, school_id=school.id)).framework.id,
        "template_id": (await add_template(session, school_id=school.id)).id,
    }
    await session.commit()
    paged = [
        path.format(**ids)
        for path, operations in app.openapi()["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    ]
    assert len(paged) >= 20
    admin = world.headers("system_admin")
    for path in paged:
        assert (await client.get(path, headers=admin)).status_code == 200, path
        for cursor in FORGED_CURSORS:
            response = await client.get(path, params={"cursor": cursor}, headers=admin)
            assert response.status_code == 422, (path, cursor, response.text)
            assert response.json()["errors"] == [
                {"field": "query.cursor", "reason": "not a cursor this list issued"}
            ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/schools", "updated_since"),
        ("/v1/trusts", "updated_since"),
        ("/v1/audit-events", "since"),
    ],
)
async def test_an_instant_must_be_written_as_one_not_as_a_number(client, world, path, name):
    for number in ("0.5", "0", "1700000000", "2026"):
        response = await client.get(
            path, params={name: number}, headers=world.headers("system_admin")
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == f"query.{name}"
        assert body["errors"][0]["reason"].startswith("not an ISO 8601 instant")


async def test_body_types_are_taken_as_json_gives_them_never_coerced(client, world, session):
    leader = world.headers("school_leader")
    user = world.users["teacher"]
    for is_active in (0, 1, "false", "no", None):
        response = await client.patch(
            f"/v1/users/{user.id}", json={"is_active": is_active}, headers=leader
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == "body.is_active", body
    school = world.schools["A1"]
    point = {"code": "SPR", "name": "Spring", "position": 2, "assessed_on": "2026-03-27"}
    for field, value in (
        ("academic_year", "2025"),
        ("academic_year", 2025.0),
        ("academic_year", True),
        ("position", "2"),
        ("assessed_on", 1774569600),
    ):
        response = await client.post(
            f"/v1/schools/{school.id}/assessment-points",
            json={**point, "academic_year": 2025, field: value},
            headers=leader,
        )
        body = assert_problem(response, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == [f"body.{field}"], body
    await session.refresh(user)
    assert user.is_active is True
    fine = await client.post(
        f"/v1/schools/{school.id}/assessment-points",
        json={**point, "academic_year": 2025},
        headers=leader,
    )
    assert fine.status_code == 201, fine.text


async def test_every_405_names_every_method_the_path_serves_in_allow(app, client):
    served: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            served[f"{route.path}/graphiql.min.js"] = {"GET", "HEAD"}
        else:
            served.setdefault(route.path, set()).update(route.methods)
    assert "/graphql" in served and len(served) > 60
    some_id = str(uuid.uuid4())
    checked = 0
    for path, methods in served.items():
        url = re.sub(r"\{[^}]+\}", some_id, path)
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
            response = await client.request(method, url)
            assert_problem(response, 405, "method-not-allowed")
            assert response.headers["Allow"] == ", ".join(sorted(methods)), (method, path)
            checked += 1
    assert checked > 150


async def test_body_schemas_stay_the_same_however_often_the_app_is_built(app):
    from app.api.schemas.tenancy import AssessmentPointCreate
    from app.main import create_app

    def checks(schema) -> str:
        return json.dumps(schema, default=lambda value: getattr(value, "__name__", "?"))

    before = checks(AssessmentPointCreate.__pydantic_core_schema__)
    for _ in range(3):
        create_app(app.state.settings, engine=app.state.engine).openapi()
    assert checks(AssessmentPointCreate.__pydantic_core_schema__) == before
    assert before.count("_text_not_number") == 1
