"""The OAuth2 token endpoint and /v1/me."""

from __future__ import annotations

import base64
from datetime import date

import jwt

from app.db.roster import Pupil
from app.domain.pupils import make_upn
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
