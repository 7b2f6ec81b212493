"""Bearer tokens that must not work: each is refused with a 401 problem and changes nothing.

Every bad token is tried on a write its holder could otherwise make (the A1 leader renaming
school A1; the A1 integration adding an assessment point) and on GET /v1/me.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.tokens import TokenIssuer, TokenSubject
from app.db.people import IntegrationClient, RoleGrant, User
from tests.security.checks import Snapshot, assert_problem, assert_unchanged
from tests.security.conftest import Targets
from tests.support.world import World, expired_issuer

ANOTHER_KEY = "a-signing-key-that-is-not-the-service-key-but-is-long-enough-0123"


def _claims(world: World, subject: str, **changes: Any) -> dict[str, Any]:
    """Claims exactly as the service issues them, with ``changes`` applied (None drops one)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": world.issuer.issuer,
        "aud": world.issuer.audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "test",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _leader(world: World) -> str:
    return str(TokenSubject("user", world.users["school_leader"].id))


def _issuer(world: World, **changes: Any) -> TokenIssuer:
    fields = {
        "key": world.issuer.key,
        "issuer": world.issuer.issuer,
        "audience": world.issuer.audience,
        "ttl": world.issuer.ttl,
    }
    return TokenIssuer(**(fields | changes))


def _hs512_with_service_key(world: World) -> str:
    with warnings.catch_warnings():  # the test key is short for HS512; that is not the point
        warnings.simplefilter("ignore")
        return jwt.encode(_claims(world, _leader(world)), world.issuer.key, algorithm="HS512")


# name -> a bearer token that looks like the A1 school leader's, but must be refused.
BAD_LEADER_TOKENS: dict[str, Callable[[World], str]] = {
    "expired": lambda w: expired_issuer(w.issuer).issue(
        TokenSubject("user", w.users["school_leader"].id)
    )[0],
    "forged signature": lambda w: jwt.encode(
        _claims(w, _leader(w)), ANOTHER_KEY, algorithm="HS256"
    ),
    "alg none": lambda w: jwt.encode(_claims(w, _leader(w)), None, algorithm="none"),
    "alg none, signature kept": lambda w: (
        jwt.encode(_claims(w, _leader(w)), None, algorithm="none")
        + w.token("school_leader").rsplit(".", 1)[1]
    ),
    "HS512 instead of HS256": _hs512_with_service_key,
    "another audience": lambda w: _issuer(w, audience="someone-else").issue(
        TokenSubject("user", w.users["school_leader"].id)
    )[0],
    "another issuer": lambda w: _issuer(w, issuer="someone-else").issue(
        TokenSubject("user", w.users["school_leader"].id)
    )[0],
    "not yet valid": lambda w: jwt.encode(
        _claims(w, _leader(w), nbf=datetime.now(UTC) + timedelta(minutes=2)),
        w.issuer.key,
        algorithm="HS256",
    ),
    "no expiry": lambda w: jwt.encode(
        _claims(w, _leader(w), exp=None), w.issuer.key, algorithm="HS256"
    ),
    "no subject": lambda w: jwt.encode(_claims(w, "", sub=None), w.issuer.key, algorithm="HS256"),
    "subject of an unknown kind": lambda w: jwt.encode(
        _claims(w, _leader(w).replace("user:", "admin:")), w.issuer.key, algorithm="HS256"
    ),
    "subject not a uuid": lambda w: jwt.encode(
        _claims(w, "user:school_leader"), w.issuer.key, algorithm="HS256"
    ),
    "subject nobody has": lambda w: jwt.encode(
        _claims(w, "user:00000000-0000-4000-8000-000000000000"), w.issuer.key, algorithm="HS256"
    ),
    "a user's id as a client": lambda w: jwt.encode(
        _claims(w, _leader(w).replace("user:", "client:")), w.issuer.key, algorithm="HS256"
    ),
    "payload swapped under a valid signature": lambda w: _swap_payload(
        w.token("school_leader"), w.token("system_admin")
    ),
    "garbage": lambda w: "garbage",
    "three dots of nothing": lambda w: "..",
}


def _swap_payload(signed: str, other: str) -> str:
    header, _, signature = signed.split(".")
    return f"{header}.{other.split('.')[1]}.{signature}"


async def _refused(
    client: httpx.AsyncClient,
    request: tuple[str, str, dict[str, Any] | None],
    authorization: str,
    stored: Callable[[], Awaitable[Snapshot]],
    context: str,
) -> None:
    method, url, body = request
    before = await stored()
    response = await client.request(
        method, url, headers={"Authorization": authorization}, json=body
    )
    assert response.status_code == 401, f"{context}: {response.status_code} {response.text[:300]}"
    assert_problem(response, 401, context)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), context
    assert_unchanged(before, await stored(), context)
    me = await client.get("/v1/me", headers={"Authorization": authorization})
    assert me.status_code == 401, f"{context}: GET /v1/me {me.status_code} {me.text[:300]}"
    assert_problem(me, 401, f"{context}: GET /v1/me")


def _rename_a1(targets: Targets) -> tuple[str, str, dict[str, Any]]:
    return "PATCH", f"/v1/schools/{targets.school('A1').id}", {"name": "Renamed"}


def _add_point_a1(targets: Targets) -> tuple[str, str, dict[str, Any]]:
    body = {
        "academic_year": 2025,
        "code": "MID",
        "name": "Midpoint",
        "position": 2,
        "assessed_on": "2026-02-13",
    }
    return "POST", f"/v1/schools/{targets.school('A1').id}/assessment-points", body


async def test_the_leader_token_itself_works(client: httpx.AsyncClient, targets: Targets) -> None:
    """The control: the refusals below are about the token, not the request."""
    method, url, body = _rename_a1(targets)
    headers = targets.world.headers("school_leader")
    response = await client.request(method, url, headers=headers, json=body)
    assert response.status_code == 200, response.text
    method, url, body = _add_point_a1(targets)
    headers = targets.world.headers("integration")
    response = await client.request(method, url, headers=headers, json=body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("name", list(BAD_LEADER_TOKENS))
async def test_a_bad_token_is_401(
    name: str,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = BAD_LEADER_TOKENS[name](targets.world)
    await _refused(client, _rename_a1(targets), f"Bearer {token}", stored, name)


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic c2Nob29sOmxlYWRlcg==", "Token {token}", "{token}"],
    ids=["empty", "bearer alone", "bearer blank", "basic", "other scheme", "no scheme"],
)
async def test_no_bearer_token_is_401(
    authorization: str,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    value = authorization.format(token=targets.world.token("school_leader"))
    await _refused(client, _rename_a1(targets), value, stored, f"Authorization: {value!r}")


async def test_a_token_of_a_user_since_disabled_is_401(
    client: httpx.AsyncClient,
    targets: Targets,
    session: AsyncSession,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = targets.world.token("school_leader")
    user = await session.get(User, targets.world.users["school_leader"].id)
    assert user is not None
    user.is_active = False
    await session.commit()
    await _refused(client, _rename_a1(targets), f"Bearer {token}", stored, "disabled user")


async def test_a_token_of_a_client_since_disabled_is_401(
    client: httpx.AsyncClient,
    targets: Targets,
    session: AsyncSession,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = targets.world.token("integration")
    found = await session.get(IntegrationClient, targets.world.clients["integration"].id)
    assert found is not None
    found.is_active = False
    await session.commit()
    await _refused(client, _add_point_a1(targets), f"Bearer {token}", stored, "disabled client")


async def test_a_token_outlives_no_removed_grant(
    client: httpx.AsyncClient,
    targets: Targets,
    session: AsyncSession,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    """Grants are read afresh on every request, so a token minted before a grant was removed
    carries nothing of it, even when the grant goes behind the service's back (here, straight
    from the database; through the API the token is refused outright, see
    test_a_token_issued_before_a_change_to_its_person_is_401). The token still authenticates
    the account, so this is not a 401: the leader, now with no role, is out of reach of school
    A1 (404), and GET /v1/me shows no roles and no schools.
    """
    token = targets.world.token("school_leader")
    grant = await session.get(RoleGrant, targets.world.grants["school_leader"].id)
    assert grant is not None
    await session.delete(grant)
    await session.commit()

    method, url, body = _rename_a1(targets)
    before = await stored()
    headers = {"Authorization": f"Bearer {token}"}
    response = await client.request(method, url, headers=headers, json=body)
    assert response.status_code == 404, response.text
    assert_problem(response, 404, "removed grant")
    assert_unchanged(before, await stored(), "removed grant")
    me = await client.get("/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert (me.json()["roles"], me.json()["school_ids"], me.json()["trust_ids"]) == ([], [], [])


# --- Tokens follow credentials -----------------------------------------------------------------
# Each change is made through the API by trust A's admin; the token of the person or client
# changed, issued just before (in the same second, as likely as not), is then refused.
def _leader_change(targets: Targets, change: str) -> tuple[str, str, dict[str, Any] | None]:
    leader = targets.world.users["school_leader"]
    school = str(targets.school("A1").id)
    return {
        "password changed": ("PATCH", f"/v1/users/{leader.id}", {"password": "a new passphrase"}),
        "disabled": ("PATCH", f"/v1/users/{leader.id}", {"is_active": False}),
        "grant added": (
            "POST",
            f"/v1/users/{leader.id}/grants",
            {"role": "teacher", "school_id": school},
        ),
        "grant removed": (
            "DELETE",
            f"/v1/users/{leader.id}/grants/{targets.world.grants['school_leader'].id}",
            None,
        ),
    }[change]


def _client_change(targets: Targets, change: str) -> tuple[str, str, dict[str, Any] | None]:
    client = targets.world.clients["integration"]
    return {
        "secret rotated": ("POST", f"/v1/integration-clients/{client.id}/secret", None),
        "scopes changed": (
            "PATCH",
            f"/v1/integration-clients/{client.id}",
            {"scopes": ["roster:read"]},
        ),
        "disabled": ("PATCH", f"/v1/integration-clients/{client.id}", {"is_active": False}),
    }[change]


async def _as_trust_admin(
    client: httpx.AsyncClient, targets: Targets, change: tuple[str, str, dict[str, Any] | None]
) -> None:
    method, url, body = change
    headers = targets.world.headers("trust_admin")
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize("change", ["password changed", "disabled", "grant added", "grant removed"])
async def test_a_token_issued_before_a_change_to_its_person_is_401(
    change: str,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = targets.world.token("school_leader")
    await _as_trust_admin(client, targets, _leader_change(targets, change))
    await _refused(client, _rename_a1(targets), f"Bearer {token}", stored, change)


@pytest.mark.parametrize("change", ["secret rotated", "scopes changed", "disabled"])
async def test_a_token_issued_before_a_change_to_its_client_is_401(
    change: str,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = targets.world.token("integration")
    await _as_trust_admin(client, targets, _client_change(targets, change))
    await _refused(client, _add_point_a1(targets), f"Bearer {token}", stored, change)


async def test_a_token_issued_after_the_change_works(
    client: httpx.AsyncClient, targets: Targets
) -> None:
    """The control: signing in again after a password change (and a grant added) works."""
    await _as_trust_admin(client, targets, _leader_change(targets, "password changed"))
    await _as_trust_admin(client, targets, _leader_change(targets, "grant added"))
    email = targets.world.users["school_leader"].email
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": "a new passphrase"},
    )
    assert response.status_code == 200, response.text
    method, url, body = _rename_a1(targets)
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    response = await client.request(method, url, headers=headers, json=body)
    assert response.status_code == 200, response.text


async def test_a_token_without_a_credentials_version_is_401(
    client: httpx.AsyncClient, targets: Targets, stored: Callable[[], Awaitable[Snapshot]]
) -> None:
    for name, claims in {
        "no version": _claims(targets.world, _leader(targets.world)),
        "a version not a number": _claims(targets.world, _leader(targets.world), ver="0"),
    }.items():
        token = jwt.encode(claims, targets.world.issuer.key, algorithm="HS256")
        await _refused(client, _rename_a1(targets), f"Bearer {token}", stored, name)
