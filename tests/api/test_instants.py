"""Instants in queries (updated_since, since): any ISO 8601 instant with an offset, and one
that UTC cannot hold is a 422 naming the parameter, never a server error."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/schools", "updated_since"),
        ("/v1/trusts", "updated_since"),
        ("/v1/audit-events", "since"),
    ],
)
async def test_an_instant_before_year_one_in_utc_is_refused(client, world, path, name):
    headers = world.headers("system_admin")
    refused = await client.get(path, params={name: "0001-01-01T00:00:00+00:01"}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == f"query.{name}"
    fine = await client.get(path, params={name: "2026-11-23T09:00:00+01:00"}, headers=headers)
    assert fine.status_code == 200, fine.text
