async def test_healthz_answers_without_a_token(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": None,
        "migration": None,
        "expected_migration": None,
    }


async def test_me_for_a_school_leader(client, world):
    response = await client.get("/v1/me", headers=world.headers("school_leader"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["school_ids"] == [str(world.schools["A1"].id)]
