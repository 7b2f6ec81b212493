"""The OAuth2 token endpoint and /v1/me."""

from __future__ import annotations

import base64
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import throttle
from app.db.people import RefreshToken
from app.db.roster import Pupil
from app.domain.pupils import make_upn
from app.main import create_app
from app.services import auth as auth_service
from app.settings import Settings
from tests.conftest import make_client
from tests.support.world import CLIENT_SECRET, PASSWORD


async def test_a_person_signs_in_with_the_password_grant(client, world):
    response = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "Teacher@World.example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"user:{world.users['teacher'].id}"
    assert claims["iss"] == "markbook" and claims["aud"] == "markbook-api"
    assert claims["exp"] - claims["iat"] == 900

    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["roles"] == [
        {
            "role": "teacher",
            "trust_id": None,
            "school_id": str(world.schools["A1"].id),
            "pupil_id": None,
            "pupil_name": None,
        }
    ]


async def test_wrong_password_and_unknown_email_are_the_same_invalid_grant(client, world):
    for username in ("teacher@world.example.org", "nobody@world.example.org"):
        response = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": "wrong password!"},
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == "invalid_grant"
        assert response.json()["detail"] == "email or password is wrong"


async def test_an_integration_signs_in_with_client_credentials_in_the_form_or_basic(client, world):
    form = {
        "grant_type": "client_credentials",
        "client_id": "mbc_integration",
        "client_secret": CLIENT_SECRET,
    }
    response = await client.post("/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    assert "roster:write" in response.json()["scope"].split()

    basic = base64.b64encode(f"mbc_integration:{CLIENT_SECRET}".encode()).decode()
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["kind"] == "client"
    assert me.json()["school_ids"] == [str(world.schools["A1"].id)]


async def test_bad_client_secret_is_invalid_client_401(client, world):
    response = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "mbc_integration",
            "client_secret": "x",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_unsupported_grants_and_missing_fields_are_400(client, world):
    response = await client.post("/v1/auth/token", data={"grant_type": "implicit"})
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")
    response = await client.post("/v1/auth/token", data={"grant_type": "password", "username": "a"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    response = await client.post("/v1/auth/token", data={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.grant_type"


async def test_a_disabled_person_cannot_sign_in(client, world, session):
    user = world.users["teacher"]
    user.is_active = False
    session.add(user)
    await session.commit()
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": user.email, "password": PASSWORD},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "this account is disabled"


async def test_nothing_but_health_token_and_docs_answers_without_a_token(client, app):
    open_paths = {"/healthz", "/readyz", "/openapi.json", "/docs", "/redoc"}
    for path in open_paths:
        assert (await client.get(path)).status_code == 200, path
    response = await client.get("/v1/schools")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_names_the_pupil_of_each_pupil_and_parent_grant(client, world, session):
    school = world.schools["A1"]
    child = Pupil(
        school_id=school.id,
        upn=make_upn("801200025001"),
        legal_forename="Alexandra",
        preferred_forename="Alex",
        legal_surname="Okafor",
        date_of_birth=date(2016, 3, 4),
    )
    session.add(child)
    await session.flush()
    for name in ("pupil", "parent"):
        world.grants[name].pupil_id = child.id
        session.add(world.grants[name])
    await session.commit()
    for name in ("pupil", "parent"):
        me = await client.get("/v1/me", headers=world.headers(name))
        assert me.status_code == 200, me.text
        assert me.json()["roles"] == [
            {
                "role": name,
                "trust_id": None,
                "school_id": str(school.id),
                "pupil_id": str(child.id),
                "pupil_name": "Alex Okafor",
            }
        ]
        record = await client.get(
            f"/v1/pupils/{me.json()['roles'][0]['pupil_id']}/record", headers=world.headers(name)
        )
        assert record.status_code == 200, record.text
        graphql = await client.post(
            "/graphql",
            json={"query": "{ me { roles { role pupilId pupilName } } }"},
            headers=world.headers(name),
        )
        assert graphql.json()["data"]["me"]["roles"] == [
            {"role": name.upper(), "pupilId": str(child.id), "pupilName": "Alex Okafor"}
        ], graphql.text


# --- Throttling: too many sign-ins are refused (429) before any password is hashed ----------
def _throttled_app(settings: Settings, engine: AsyncEngine, **limits: str) -> FastAPI:
    update = {"sign_in_account_limit": "3/15 minutes", "sign_in_address_limit": "8/minute"}
    return create_app(settings.model_copy(update=update | limits), engine=engine)


@pytest.fixture
async def throttled(settings, engine) -> AsyncIterator[httpx.AsyncClient]:
    """A service that allows 3 failed sign-ins per account and 8 attempts per address."""
    async with make_client(_throttled_app(settings, engine)) as client:
        yield client


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the secrets verified (each an argon2 hash), to show refusals cost none."""
    seen: list[str] = []
    real = auth_service.verify_secret_async

    async def counting(stored_hash: str | None, secret: str) -> bool:
        seen.append(secret)
        return await real(stored_hash, secret)

    monkeypatch.setattr(auth_service, "verify_secret_async", counting)
    return seen


def _sign_in(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def _assert_throttled(response: httpx.Response, detail: str) -> dict[str, object]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    retry_after = int(response.headers["retry-after"])
    body = response.json()
    assert body["type"] == "/problems/too-many-requests" and body["detail"] == detail
    return {"retry_after_at_most_15_minutes": 1 <= retry_after <= 900, "detail": body["detail"]}


async def test_wrong_passwords_past_the_limit_are_429_alike_for_real_and_unknown_accounts(
    throttled, world, hashes
):
    answers = []
    for username in ("teacher@world.example.org", "Nobody@World.example.org"):
        for _ in range(3):
            response = await throttled.post("/v1/auth/token", data=_sign_in(username, "wrong!"))
            assert response.status_code == 400, response.text
        hashed = len(hashes)
        response = await throttled.post("/v1/auth/token", data=_sign_in(username, "wrong!"))
        answers.append(_assert_throttled(response, throttle.LOCKED))
        # The account is locked whatever is typed, in any case of the email, and no password
        # is hashed to say so.
        response = await throttled.post("/v1/auth/token", data=_sign_in(username.upper(), PASSWORD))
        answers.append(_assert_throttled(response, throttle.LOCKED))
        assert len(hashes) == hashed
    # The real account and the one that does not exist get the same answers.
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert all(answer["retry_after_at_most_15_minutes"] for answer in answers)


async def test_a_right_password_after_a_few_wrong_ones_still_signs_in(throttled, world):
    for _ in range(2):
        response = await throttled.post(
            "/v1/auth/token", data=_sign_in("teacher@world.example.org", "wrong!")
        )
        assert response.status_code == 400
    response = await throttled.post(
        "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
    )
    assert response.status_code == 200, response.text


async def test_another_account_from_the_same_address_works_until_the_address_limit(
    throttled, world, hashes
):
    for _ in range(3):  # three of the address's eight attempts
        await throttled.post("/v1/auth/token", data=_sign_in("governor@world.example.org", "x"))
    response = await throttled.post(
        "/v1/auth/token", data=_sign_in("governor@world.example.org", PASSWORD)
    )
    _assert_throttled(response, throttle.LOCKED)
    for _ in range(5):  # the other five: right or wrong, each counts
        response = await throttled.post(
            "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
        )
        assert response.status_code == 200, response.text
    hashed = len(hashes)
    response = await throttled.post(
        "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
    )
    _assert_throttled(response, throttle.FLOODED)
    assert len(hashes) == hashed


async def test_an_integration_is_throttled_by_client_id(throttled, world, hashes):
    form = {"grant_type": "client_credentials", "client_id": "mbc_integration"}
    for _ in range(3):
        response = await throttled.post("/v1/auth/token", data=form | {"client_secret": "x"})
        assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    hashed = len(hashes)
    response = await throttled.post("/v1/auth/token", data=form | {"client_secret": CLIENT_SECRET})
    _assert_throttled(response, throttle.LOCKED)
    assert len(hashes) == hashed
    # A person whose email is spelt like the client id is another account.
    response = await throttled.post(
        "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
    )
    assert response.status_code == 200, response.text


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


async def test_workers_sharing_redis_share_the_counts(settings, engine, world):
    """Two workers (two apps) counting in the local Redis: failures on one lock the account
    on the other. Each run counts under its own key prefix, so runs do not collide."""
    if not _redis_reachable():
        pytest.skip("no Redis at 127.0.0.1:6379")
    shared = {
        "rate_limit_storage_url": "async+redis://127.0.0.1:6379/0",
        "rate_limit_key_prefix": f"markbook-test-{uuid.uuid4().hex}",
    }
    first = _throttled_app(settings, engine, **shared)
    second = _throttled_app(settings, engine, **shared)
    async with make_client(first) as one, make_client(second) as other:
        for client in (one, other, one):
            response = await client.post(
                "/v1/auth/token", data=_sign_in("teacher@world.example.org", "wrong!")
            )
            assert response.status_code == 400, response.text
        response = await other.post(
            "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
        )
        _assert_throttled(response, throttle.LOCKED)
        # Another account is not locked by them.
        response = await one.post(
            "/v1/auth/token", data=_sign_in("governor@world.example.org", PASSWORD)
        )
        assert response.status_code == 200, response.text


async def test_a_throttle_store_that_does_not_answer_is_503_not_a_sign_in(settings, engine, world):
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    app = _throttled_app(settings, engine, rate_limit_storage_url=f"async+redis://127.0.0.1:{port}")
    async with make_client(app) as client:
        response = await client.post(
            "/v1/auth/token", data=_sign_in("teacher@world.example.org", PASSWORD)
        )
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/service-unavailable"
    assert int(response.headers["retry-after"]) > 0


# --- Refresh tokens and signing out ------------------------------------------------------------
async def _password_tokens(client: httpx.AsyncClient, name: str = "teacher") -> dict[str, str]:
    response = await client.post(
        "/v1/auth/token", data=_sign_in(f"{name}@world.example.org", PASSWORD)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def _refused_refresh(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["detail"] == "the refresh token is not valid"


async def test_a_refresh_gives_a_new_token_and_a_new_refresh_token_once(client, world, session):
    first = await _password_tokens(client)
    assert first["refresh_token"].startswith("mbr_")
    response = await _refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == 900 and second["token_type"] == "bearer"
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == str(world.users["teacher"].id)
    # Only the hash is stored.
    stored = (await session.execute(sa.select(RefreshToken.token_hash))).scalars().all()
    assert len(stored) == 2 and first["refresh_token"] not in stored
    # The third link of the chain works too.
    third = await _refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_a_used_refresh_token_presented_again_revokes_its_whole_family(client, world):
    """Theft detection (RFC 6819 5.2.2.3): whoever holds the newer token loses it too; other
    sign-ins of the same person are untouched."""
    other_sign_in = await _password_tokens(client)
    first = await _password_tokens(client)
    second = (await _refresh(client, first["refresh_token"])).json()
    _refused_refresh(await _refresh(client, first["refresh_token"]))
    _refused_refresh(await _refresh(client, second["refresh_token"]))
    assert (await _refresh(client, other_sign_in["refresh_token"])).status_code == 200


async def test_signing_out_revokes_the_refresh_token_and_its_family(client, world):
    first = await _password_tokens(client)
    second = (await _refresh(client, first["refresh_token"])).json()
    response = await client.post("/v1/auth/revoke", data={"token": second["refresh_token"]})
    assert response.status_code == 200, response.text
    assert response.content == b""
    _refused_refresh(await _refresh(client, second["refresh_token"]))
    # Unknown tokens, access tokens and tokens already revoked are no error (RFC 7009 2.2).
    for token in ("mbr_never-issued", second["access_token"], second["refresh_token"]):
        response = await client.post(
            "/v1/auth/revoke", data={"token": token, "token_type_hint": "access_token"}
        )
        assert response.status_code == 200, response.text
    response = await client.post("/v1/auth/revoke", data={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.token"


async def test_refresh_tokens_expire_and_are_not_for_integrations(client, world, session):
    tokens = await _password_tokens(client)
    await session.execute(
        sa.update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await session.commit()
    _refused_refresh(await _refresh(client, tokens["refresh_token"]))
    _refused_refresh(await _refresh(client, "mbr_never-issued"))
    response = await client.post("/v1/auth/token", data={"grant_type": "refresh_token"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    response = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "mbc_integration",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200 and "refresh_token" not in response.json()


async def _change(client: httpx.AsyncClient, world, change: str) -> None:
    """As the A1 leader, change the teacher's credentials, roles or status."""
    teacher = world.users["teacher"]
    leader = world.headers("school_leader")
    if change == "password":
        response = await client.patch(
            f"/v1/users/{teacher.id}", json={"password": "another long password"}, headers=leader
        )
    elif change == "disabled":
        response = await client.patch(
            f"/v1/users/{teacher.id}", json={"is_active": False}, headers=leader
        )
    elif change == "grant added":
        response = await client.post(
            f"/v1/users/{teacher.id}/grants",
            json={"role": "governor", "school_id": str(world.schools["A1"].id)},
            headers=leader,
        )
    else:
        response = await client.delete(
            f"/v1/users/{teacher.id}/grants/{world.grants['teacher'].id}", headers=leader
        )
    assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize("change", ["password", "disabled", "grant added", "grant removed"])
async def test_refresh_tokens_die_with_a_change_of_password_roles_or_status(change, client, world):
    tokens = await _password_tokens(client)
    await _change(client, world, change)
    _refused_refresh(await _refresh(client, tokens["refresh_token"]))
    if change in ("grant added", "grant removed"):
        # Signing in again gives a working pair.
        fresh = await _password_tokens(client)
        assert (await _refresh(client, fresh["refresh_token"])).status_code == 200
