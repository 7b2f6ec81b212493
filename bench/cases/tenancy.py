"""Listing schools (a trust admin's page of a 100-school trust, and a school leader's one),
and a school leader's page of 100 pupils."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import httpx

from bench.core import Case, Context, register

PAGE = 100


@cache
def _schools_sql(n_ids: int) -> str:
    """The SELECT GET /v1/schools sends: the reach's school ids as an IN list of n bind
    parameters, keyset order, and one row past the page to know whether there is a next one.

    Deliberately the same shape as the app's statement rather than ``id = ANY($1::uuid[])``:
    as a prepared statement the array form gets a generic plan after five runs that, on the
    large size, walks ix_school_updated_at and filters 999 of 1000 rows for one id; the floor
    must not be slower than the app for a reason the app does not share.
    """
    ids = ", ".join(f"${i}" for i in range(2, n_ids + 2))
    return (
        "SELECT id, name, urn, phase, trust_id, created_at, updated_at FROM school"
        f" WHERE id IN ({ids}) ORDER BY updated_at, id LIMIT $1"
    )


async def _fetch_schools(ctx: Context, ids: list[uuid.UUID]) -> Any:
    return await ctx.pg.fetch(_schools_sql(len(ids)), PAGE + 1, *ids)


def _page_ids(_ctx: Context, response: httpx.Response) -> list[Any]:
    return [uuid.UUID(item["id"]) for item in response.json()["items"]]


def _floor_ids(_ctx: Context, records: Any) -> list[Any]:
    return [record["id"] for record in records[:PAGE]]


async def _trust_admin_api(ctx: Context) -> httpx.Response:
    return await ctx.client.get(
        "/v1/schools", params={"limit": PAGE}, headers=ctx.bearer("trust_admin")
    )


async def _trust_admin_sql(ctx: Context) -> Any:
    return await _fetch_schools(ctx, list(ctx.subjects.trust_school_ids))


register(
    Case(
        key="schools-trust-admin",
        title="list schools (trust admin, 100/page)",
        floor="SELECT school WHERE id IN (<the trust's 100 ids>) ORDER BY updated_at, id LIMIT 101",
        api=_trust_admin_api,
        api_rows=_page_ids,
        sql=_trust_admin_sql,
        sql_rows=_floor_ids,
    )
)


async def _leader_api(ctx: Context) -> httpx.Response:
    return await ctx.client.get(
        "/v1/schools", params={"limit": PAGE}, headers=ctx.bearer("school_leader")
    )


async def _leader_sql(ctx: Context) -> Any:
    return await _fetch_schools(ctx, [ctx.subjects.school_leader.school_id])


register(
    Case(
        key="schools-school-leader",
        title="list schools (school leader)",
        floor="SELECT school WHERE id IN (<their 1 id>) ORDER BY updated_at, id LIMIT 101",
        api=_leader_api,
        api_rows=_page_ids,
        sql=_leader_sql,
        sql_rows=_floor_ids,
    )
)


# --- A page of pupils ----------------------------------------------------------------------
_PUPILS = (
    "SELECT * FROM pupil WHERE school_id = $1 ORDER BY updated_at, id LIMIT $2",
    "SELECT * FROM enrolment WHERE pupil_id = ANY($1::uuid[]) ORDER BY academic_year",
)


async def _pupils_api(ctx: Context) -> httpx.Response:
    school_id = ctx.subjects.school_leader.school_id
    return await ctx.client.get(
        f"/v1/schools/{school_id}/pupils",
        params={"limit": PAGE},
        headers=ctx.bearer("school_leader"),
    )


async def _pupils_sql(ctx: Context) -> Any:
    pupils = await ctx.pg.fetch(_PUPILS[0], ctx.subjects.school_leader.school_id, PAGE + 1)
    page = pupils[:PAGE]
    enrolments = await ctx.pg.fetch(_PUPILS[1], [p["id"] for p in page])
    return page, enrolments


def _pupil_rows(_ctx: Context, response: httpx.Response) -> list[Any]:
    return [(uuid.UUID(p["id"]), len(p["enrolments"]), p["upn"]) for p in response.json()["items"]]


def _floor_pupil_rows(_ctx: Context, records: Any) -> list[Any]:
    page, enrolments = records
    per_pupil: dict[uuid.UUID, int] = {}
    for enrolment in enrolments:
        per_pupil[enrolment["pupil_id"]] = per_pupil.get(enrolment["pupil_id"], 0) + 1
    return [(p["id"], per_pupil.get(p["id"], 0), p["upn"]) for p in page]


register(
    Case(
        key="pupils-school-leader",
        title="list pupils (school leader, 100/page)",
        floor="SELECT pupil WHERE school_id ORDER BY updated_at, id LIMIT 101; SELECT their "
        "enrolments",
        api=_pupils_api,
        api_rows=_pupil_rows,
        sql=_pupils_sql,
        sql_rows=_floor_pupil_rows,
        unit="pupils",
    )
)
