"""Signing in: the OAuth2 token endpoint, for people and for integration clients.

argon2 verification dominates both by design (it is meant to be slow), so each case also times
one argon2 verify alone; the API's fair floor is the SQL floor plus that verify.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.auth.secrets import verify_secret
from bench.core import Case, Context, register

_USER = (
    'SELECT id, email, display_name, password_hash, is_active, created_at, updated_at FROM "user"'
    " WHERE email = $1"
)
_CLIENT = (
    "SELECT id, name, client_id, secret_hash, scopes, trust_id, school_id, is_active, created_at,"
    " updated_at FROM integration_client WHERE client_id = $1"
)


def _token_subject(ctx: Context, response: httpx.Response) -> list[Any]:
    return [ctx.issuer.verify(response.json()["access_token"]).id]


def _ids(_ctx: Context, records: Any) -> list[Any]:
    return [record["id"] for record in records]


# --- password grant ----------------------------------------------------------------------
async def _password_api(ctx: Context) -> httpx.Response:
    return await ctx.client.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": ctx.subjects.teacher.email,
            "password": ctx.subjects.password,
        },
    )


async def _password_sql(ctx: Context) -> Any:
    return await ctx.pg.fetch(_USER, ctx.subjects.teacher.email)


async def _password_prepare(ctx: Context) -> None:
    ctx.state["password_hash"] = await ctx.pg.fetchval(
        'SELECT password_hash FROM "user" WHERE email = $1', ctx.subjects.teacher.email
    )


async def _password_argon2(ctx: Context) -> bool:
    return verify_secret(ctx.state["password_hash"], ctx.subjects.password)


register(
    Case(
        key="token-password",
        title="token (password grant)",
        floor="SELECT the user by email (the grant reads nothing else); + one argon2 verify",
        api=_password_api,
        api_rows=_token_subject,
        sql=_password_sql,
        sql_rows=_ids,
        extras={"argon2 verify": _password_argon2},
        extras_in_floor=True,
        prepare=_password_prepare,
    )
)


# --- client credentials ------------------------------------------------------------------
async def _client_api(ctx: Context) -> httpx.Response:
    return await ctx.client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ctx.subjects.trust_client.client_id,
            "client_secret": ctx.subjects.client_secret,
        },
    )


async def _client_sql(ctx: Context) -> Any:
    return await ctx.pg.fetch(_CLIENT, ctx.subjects.trust_client.client_id)


async def _client_prepare(ctx: Context) -> None:
    ctx.state["secret_hash"] = await ctx.pg.fetchval(
        "SELECT secret_hash FROM integration_client WHERE client_id = $1",
        ctx.subjects.trust_client.client_id,
    )


async def _client_argon2(ctx: Context) -> bool:
    return verify_secret(ctx.state["secret_hash"], ctx.subjects.client_secret)


register(
    Case(
        key="token-client",
        title="token (client_credentials)",
        floor="SELECT the client by client_id; + one argon2 verify",
        api=_client_api,
        api_rows=_token_subject,
        sql=_client_sql,
        sql_rows=_ids,
        extras={"argon2 verify": _client_argon2},
        extras_in_floor=True,
        prepare=_client_prepare,
    )
)
