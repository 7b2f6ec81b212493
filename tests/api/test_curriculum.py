"""Definitions through the API: subjects, scales with descriptors, measures, frameworks and
their objectives (bulk add, replace and reorder, archive), who reads and writes a trust's, and
bad input named by its field."""

from __future__ import annotations

from typing import Any

import pytest

DEPTH = [
    {"code": "WT", "label": "Working towards", "value": 1, "band": "below"},
    {"code": "EXS", "label": "Expected", "value": 2, "band": "at"},
    {"code": "GDS", "label": "Greater depth", "value": 3, "band": "above"},
]


def objective(code: str, years: str, **changes: Any) -> dict[str, Any]:
    return {"code": code, "statement": f"Statement {code}.", "curriculum_years": years, **changes}


async def post(client, world, url: str, body: dict[str, Any], who: str = "school_leader"):  # type: ignore[no-untyped-def]
    response = await client.post(url, json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{url}/{response.json()['id']}"
    return response.json()


def a1(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"school_id": str(world.schools["A1"].id)}


async def make_framework(client, world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    subject = await post(client, world, "/v1/subjects", {"name": "Maths", "code": "MA"} | a1(world))
    body = {"name": "Maths (school)", "subject_id": subject["id"]} | a1(world)
    return await post(client, world, "/v1/frameworks", body)


def field_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["errors"][0]["field"]


async def test_a_leader_sets_up_a_subject_scale_measure_and_framework(client, world):
    subject = await post(
        client, world, "/v1/subjects", {"name": "Mathematics", "code": "MA"} | a1(world)
    )
    assert (subject["school_id"], subject["trust_id"]) == (str(world.schools["A1"].id), None)

    scale = await post(
        client,
        world,
        "/v1/scales",
        {"name": "Depth", "kind": "depth", "secure_from": "EXS", "descriptors": DEPTH} | a1(world),
    )
    assert scale["secure_from"] == "EXS"
    assert [(d["code"], d["position"]) for d in scale["descriptors"]] == [
        ("WT", 1),
        ("EXS", 2),
        ("GDS", 3),
    ]
    assert [float(d["value"]) for d in scale["descriptors"]] == [1, 2, 3]

    measure = await post(
        client,
        world,
        "/v1/measures",
        {
            "name": "KS2 maths scaled score",
            "code": "KS2-MA",
            "kind": "number",
            "subject_id": subject["id"],
            "minimum": 80,
            "maximum": 120,
            "expected_from": 100,
            "above_from": 110,
        }
        | a1(world),
    )
    assert [float(measure[k]) for k in ("minimum", "maximum", "expected_from", "above_from")] == [
        80,
        120,
        100,
        110,
    ]
    assert (measure["decimals"], measure["scale_id"], measure["archived"]) == (0, None, False)

    depth_measure = await post(
        client,
        world,
        "/v1/measures",
        {"name": "Maths depth", "code": "MA-D", "kind": "scale", "scale_id": scale["id"]}
        | a1(world),
    )
    assert depth_measure["scale_id"] == scale["id"]

    framework = await post(
        client,
        world,
        "/v1/frameworks",
        {"name": "Maths (NC 2014)", "subject_id": subject["id"]} | a1(world),
    )
    assert (framework["source"], framework["objective_count"]) == ("school", 0)

    again = await client.post(
        "/v1/subjects",
        json={"name": "Maths again", "code": "MA"} | a1(world),
        headers=world.headers("school_leader"),
    )
    assert again.status_code == 409, again.text


async def test_objectives_are_added_in_bulk_replaced_and_reordered(client, world):
    framework = await make_framework(client, world)
    url = f"/v1/frameworks/{framework['id']}/objectives"
    headers = world.headers("school_leader")

    added = await client.post(
        url,
        json={
            "objectives": [objective("N1", "3-4"), objective("N2", "3 - 4"), objective("F1", "5")]
        },
        headers=headers,
    )
    assert added.status_code == 200, added.text
    first = {o["code"]: o for o in added.json()}
    assert [(o["code"], o["curriculum_years"], o["position"]) for o in added.json()] == [
        ("N1", "3-4", 1),
        ("N2", "3-4", 2),
        ("F1", "5", 3),
    ]
    # Adding again: a new code goes at the end, a known one is updated where it is.
    more = await client.post(
        url,
        json={"objectives": [objective("N1", "3-4", is_key=True), objective("G1", "R")]},
        headers=headers,
    )
    assert more.status_code == 200, more.text
    assert [(o["code"], o["position"], o["is_key"]) for o in more.json()] == [
        ("N1", 1, True),
        ("N2", 2, False),
        ("F1", 3, False),
        ("G1", 4, False),
    ]
    year_4 = await client.get(url, params={"curriculum_year": 4}, headers=headers)
    assert [o["code"] for o in year_4.json()["items"]] == ["N1", "N2"]

    # Replacing: the list's order is the new order; N2 and G1, left out, are archived.
    replaced = await client.put(
        url, json={"objectives": [objective("F1", "5"), objective("N1", "3-4")]}, headers=headers
    )
    assert replaced.status_code == 200, replaced.text
    by_code = {o["code"]: o for o in replaced.json()}
    assert [(o["code"], o["archived"]) for o in replaced.json()] == [
        ("F1", False),
        ("N1", False),
        ("N2", True),
        ("G1", True),
    ]
    assert by_code["F1"]["id"] == first["F1"]["id"]
    assert by_code["N1"]["id"] == first["N1"]["id"]
    listed = await client.get(url, headers=headers)
    assert [o["code"] for o in listed.json()["items"]] == ["F1", "N1"]
    everything = await client.get(url, params={"include_archived": "true"}, headers=headers)
    assert [o["code"] for o in everything.json()["items"]] == ["F1", "N1", "N2", "G1"]
    shown = await client.get(f"/v1/frameworks/{framework['id']}", headers=headers)
    assert shown.json()["objective_count"] == 2

    # Sent again, an archived objective comes back with the id it had.
    back = await client.put(
        url, json={"objectives": [objective("N2", "3-4"), objective("F1", "5")]}, headers=headers
    )
    assert [(o["code"], o["archived"]) for o in back.json()][:2] == [("N2", False), ("F1", False)]
    assert back.json()[0]["id"] == first["N2"]["id"]


async def test_editing_a_statement_keeps_the_objective(client, world):
    framework = await make_framework(client, world)
    headers = world.headers("school_leader")
    added = await client.post(
        f"/v1/frameworks/{framework['id']}/objectives",
        json={"objectives": [objective("N1", "4")]},
        headers=headers,
    )
    original = added.json()[0]
    edited = await client.patch(
        f"/v1/objectives/{original['id']}",
        json={"statement": "Count in multiples of 6, 7, 9, 25 and 1000.", "curriculum_years": "4"},
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["id"] == original["id"]
    assert edited.json()["statement"] == "Count in multiples of 6, 7, 9, 25 and 1000."
    read = await client.get(f"/v1/objectives/{original['id']}", headers=world.headers("teacher"))
    assert read.json()["statement"] == edited.json()["statement"]
    bad_year = await client.patch(
        f"/v1/objectives/{original['id']}", json={"curriculum_years": "14"}, headers=headers
    )
    assert field_of(bad_year) == "body.curriculum_years"


async def test_a_scale_edit_archives_the_descriptor_left_out(client, world):
    body = {"name": "Depth", "kind": "depth", "secure_from": "EXS", "descriptors": DEPTH}
    scale = await post(client, world, "/v1/scales", body | a1(world))
    ids = {d["code"]: d["id"] for d in scale["descriptors"]}
    changed = await client.patch(
        f"/v1/scales/{scale['id']}",
        json={"descriptors": [DEPTH[0], DEPTH[1] | {"label": "Secure"}]},
        headers=world.headers("school_leader"),
    )
    assert changed.status_code == 200, changed.text
    descriptors = changed.json()["descriptors"]
    assert [(d["code"], d["label"], d["archived"]) for d in descriptors] == [
        ("WT", "Working towards", False),
        ("EXS", "Secure", False),
        ("GDS", "Greater depth", True),
    ]
    assert {d["code"]: d["id"] for d in descriptors} == ids
    # The secure point must stay on the scale.
    gone = await client.patch(
        f"/v1/scales/{scale['id']}",
        json={"descriptors": [DEPTH[0], DEPTH[2]]},
        headers=world.headers("school_leader"),
    )
    assert field_of(gone) == "body.secure_from"


@pytest.mark.parametrize(
    ("descriptors", "field"),
    [
        ([DEPTH[0], DEPTH[1] | {"code": "WT"}], "body.descriptors.1.code"),
        ([DEPTH[0], DEPTH[1] | {"value": 1}], "body.descriptors.1.value"),
        ([DEPTH[1], DEPTH[0]], "body.descriptors.1.value"),
        ([DEPTH[1]], "body.descriptors"),
    ],
    ids=["duplicate code", "same value", "values going down", "one descriptor"],
)
async def test_bad_descriptors_name_the_field(client, world, descriptors, field):
    body = {"name": "Bad", "kind": "attainment", "descriptors": descriptors} | a1(world)
    response = await client.post("/v1/scales", json=body, headers=world.headers("school_leader"))
    assert field_of(response) == field


async def test_bad_objectives_name_the_field_and_change_nothing(client, world):
    framework = await make_framework(client, world)
    url = f"/v1/frameworks/{framework['id']}/objectives"
    headers = world.headers("school_leader")
    duplicate = await client.post(
        url,
        json={"objectives": [objective("N1", "3"), objective("N2", "3"), objective("N1", "4")]},
        headers=headers,
    )
    assert field_of(duplicate) == "body.objectives.2.code"
    for years in ("0", "14", "5-3", "N1"):
        for method in ("POST", "PUT"):
            response = await client.request(
                method,
                url,
                json={"objectives": [objective("N1", "3"), objective("N2", years)]},
                headers=headers,
            )
            assert field_of(response) == "body.objectives.1.curriculum_years", years
    listed = await client.get(url, params={"include_archived": "true"}, headers=headers)
    assert listed.json()["items"] == []


async def test_bad_measures_name_the_field(client, world):
    headers = world.headers("school_leader")
    base = {"name": "Score", "code": "SC"} | a1(world)
    cases = {
        "body.minimum": base | {"kind": "number"},
        "body.maximum": base | {"kind": "number", "minimum": 0},
        "body.expected_from": base
        | {"kind": "number", "minimum": 80, "maximum": 120}
        | {"expected_from": 130},
        "body.scale_id": base | {"kind": "scale"},
    }
    for field, body in cases.items():
        response = await client.post("/v1/measures", json=body, headers=headers)
        assert field_of(response) == field, body
    text_with_range = await client.post(
        "/v1/measures", json=base | {"kind": "text", "maximum": 10}, headers=headers
    )
    assert field_of(text_with_range) == "body.maximum"


async def test_a_school_reads_its_trusts_definitions_but_does_not_change_them(client, world):
    trust = {"trust_id": str(world.trusts["A"].id)}
    body = {"name": "Trust depth", "kind": "depth", "secure_from": "EXS", "descriptors": DEPTH}
    scale = await post(client, world, "/v1/scales", body | trust, who="trust_admin")
    url = f"/v1/scales/{scale['id']}"

    read = await client.get(url, headers=world.headers("teacher"))
    assert read.status_code == 200, read.text
    assert read.json()["trust_id"] == str(world.trusts["A"].id)
    for who in ("teacher", "school_leader"):
        refused = await client.patch(url, json={"name": "Ours now"}, headers=world.headers(who))
        assert refused.status_code == 403, refused.text
    elsewhere = await client.get(url, headers=world.headers("other_trust_admin"))
    assert elsewhere.status_code == 404

    # A school's measure may use its trust's scale; the trust's own may not use a school's.
    measure = await post(
        client,
        world,
        "/v1/measures",
        {"name": "Depth", "code": "D", "kind": "scale", "scale_id": scale["id"]} | a1(world),
    )
    assert measure["scale_id"] == scale["id"]
    leader_on_trust = await client.post(
        "/v1/subjects",
        json={"name": "Maths", "code": "MA"} | trust,
        headers=world.headers("school_leader"),
    )
    assert leader_on_trust.status_code == 403, leader_on_trust.text


async def test_the_school_filter_shows_the_schools_and_its_trusts(client, world):
    owners = {
        "A1": ("school_leader", a1(world)),
        "A": ("trust_admin", {"trust_id": str(world.trusts["A"].id)}),
        "A2": ("other_school_leader", {"school_id": str(world.schools["A2"].id)}),
        "B1": ("other_trust_admin", {"school_id": str(world.schools["B1"].id)}),
    }
    for key, (who, owner) in owners.items():
        await post(
            client, world, "/v1/subjects", {"name": f"Maths {key}", "code": "MA"} | owner, who
        )

    async def names(who: str, **params: str) -> set[str]:
        response = await client.get("/v1/subjects", params=params, headers=world.headers(who))
        assert response.status_code == 200, response.text
        return {s["name"] for s in response.json()["items"]}

    assert await names("trust_admin", **a1(world)) == {"Maths A1", "Maths A"}
    assert await names("trust_admin") == {"Maths A1", "Maths A", "Maths A2"}
    assert await names("teacher", **a1(world)) == {"Maths A1", "Maths A"}
    assert await names("teacher") == {"Maths A1", "Maths A"}
    assert await names("pupil") == {"Maths A1", "Maths A"}
    assert await names("system_admin", school_id=str(world.schools["B1"].id)) == {"Maths B1"}
    out_of_reach = await client.get(
        "/v1/subjects",
        params={"school_id": str(world.schools["B1"].id)},
        headers=world.headers("teacher"),
    )
    assert out_of_reach.status_code == 404
