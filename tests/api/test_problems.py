"""Every error is an RFC 9457 problem: routing, methods, validation, size, the unexpected."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.db.tenancy import Trust

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
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/v1/explode", explode, methods=["GET"])
    with caplog.at_level(logging.ERROR, logger="markbook.errors"):
        response = await client.get("/v1/explode", headers={"X-Request-ID": "trace-123"})
    body = assert_problem(response, 500, "internal-error")
    assert body["correlation_id"] == "trace-123"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert any("trace-123" in r.getMessage() and r.exc_info for r in caplog.records)


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
