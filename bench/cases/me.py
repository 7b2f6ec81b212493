"""Who am I: GET /v1/me, and GET /healthz as the reference for the framework's own cost."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bench.core import Case, Context, register

# The caller, their grants, and the schools each grant reaches, in one statement: what the
# principal loader gathers and /v1/me shows.
_ME = """
SELECT u.id, u.display_name, u.email, g.role, g.trust_id, g.school_id,
       s.id AS reach_school_id, s.trust_id AS reach_trust_id
FROM "user" u
JOIN role_grant g ON g.user_id = u.id
LEFT JOIN LATERAL (
    SELECT id, trust_id FROM school WHERE school.trust_id = g.trust_id
    UNION ALL
    SELECT id, trust_id FROM school WHERE school.id = g.school_id
) s ON true
WHERE u.id = $1 AND u.is_active
"""


def _me_schools(_ctx: Context, response: httpx.Response) -> list[Any]:
    return sorted(uuid.UUID(i) for i in response.json()["school_ids"])


def _floor_schools(_ctx: Context, records: Any) -> list[Any]:
    return sorted({r["reach_school_id"] for r in records if r["reach_school_id"] is not None})


def _me_case(key: str, title: str, who: str) -> Case:
    async def api(ctx: Context) -> httpx.Response:
        return await ctx.client.get("/v1/me", headers=ctx.bearer(who))

    async def sql(ctx: Context) -> Any:
        return await ctx.pg.fetch(_ME, getattr(ctx.subjects, who).id)

    return Case(
        key=key,
        title=title,
        floor="one SELECT of user JOIN grants JOIN the schools each grant reaches",
        api=api,
        api_rows=_me_schools,
        sql=sql,
        sql_rows=_floor_schools,
    )


register(_me_case("me-trust-admin", "GET /v1/me (trust admin)", "trust_admin"))
register(_me_case("me-teacher", "GET /v1/me (teacher)", "teacher"))


async def _healthz(ctx: Context) -> httpx.Response:
    return await ctx.client.get("/healthz")


register(
    Case(
        key="healthz",
        title="GET /healthz (no auth, no DB)",
        floor="none: the cost of transport, middleware and routing alone",
        api=_healthz,
        api_rows=lambda _ctx, response: [response.json()["status"]],
    )
)
