"""Frameworks from files through the API: the national curriculum CSVs and a real CASE
package import cleanly; bad files are refused whole, naming the row."""

from __future__ import annotations

from pathlib import Path

from app.starter import national_curriculum_files
from tests.support.real_world import case_with_educational_level

CASE_PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "act-holistic-framework-math.json"


async def make_subject(client, world, code: str = "MA") -> str:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/subjects",
        json={"name": "Mathematics", "code": code, "school_id": str(world.schools["A1"].id)},
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_the_national_curriculum_csv_imports_cleanly(client, world):
    subject_id = await make_subject(client, world)
    params = {"school_id": str(world.schools["A1"].id), "subject_id": subject_id}
    path = national_curriculum_files()["mathematics"]
    response = await client.post(
        "/v1/frameworks/imports/csv",
        params={**params, "filename": path.name},
        content=path.read_bytes(),
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    framework = response.json()
    assert framework["objective_count"] > 100
    year_3 = await client.get(
        f"/v1/frameworks/{framework['id']}/objectives",
        params={"curriculum_year": 3, "limit": 1000},
        headers=world.headers("teacher"),
    )
    assert year_3.status_code == 200
    assert {o["curriculum_years"] for o in year_3.json()["items"]} <= {"3", "3-4"}


async def test_a_real_case_package_imports_with_its_hierarchy(client, world):
    subject_id = await make_subject(client, world)
    response = await client.post(
        "/v1/frameworks/imports/case",
        params={
            "school_id": str(world.schools["A1"].id),
            "subject_id": subject_id,
            "curriculum_years": "5-6",
        },
        content=CASE_PACKAGE.read_bytes(),
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["objective_count"] == 28
    assert response.json()["name"] == "ACT Holistic Framework, Math"


async def test_bad_files_are_refused_and_store_nothing(client, world):
    subject_id = await make_subject(client, world)
    params = {"school_id": str(world.schools["A1"].id), "subject_id": subject_id}
    headers = world.headers("school_leader")
    header = "subject,curriculum_year,strand,sub_strand,code,statement\n"
    cases = [
        ("csv", b"subject,code,statement\nMaths,M1,Count\n", "curriculum_year"),
        ("csv", (header + "Maths,14,Number,,M1,Count\n").encode(), "row 2"),
        ("csv", (header + "Maths,1,N,,M1,Count\nMaths,1,N,,M1,Again\n").encode(), "row 3"),
        ("case", b"{not json", "line 1"),
        ("case", CASE_PACKAGE.read_bytes(), "curriculum year"),  # no years and no default
    ]
    for file_format, body, words in cases:
        response = await client.post(
            f"/v1/frameworks/imports/{file_format}", params=params, content=body, headers=headers
        )
        assert response.status_code == 422, (file_format, response.text)
        assert words in response.json()["detail"], response.json()["detail"]
    listed = await client.get(
        "/v1/frameworks", params=params | {"subject_id": subject_id}, headers=headers
    )
    assert listed.json()["items"] == []
    no_owner = await client.post(
        "/v1/frameworks/imports/csv",
        params={"subject_id": subject_id},
        content=b"",
        headers=headers,
    )
    assert no_owner.status_code == 422


async def test_nul_characters_in_files_and_names_are_refused_cleanly(client, world):
    subject_id = await make_subject(client, world)
    params = {"school_id": str(world.schools["A1"].id), "subject_id": subject_id}
    headers = world.headers("school_leader")
    header = "subject,curriculum_year,strand,sub_strand,code,statement\n"
    in_cell = await client.post(
        "/v1/frameworks/imports/csv",
        params=params,
        content=(header + "Maths,1,Number,,M1,Count\x00 to ten\n").encode(),
        headers=headers,
    )
    assert in_cell.status_code == 422, in_cell.text
    assert in_cell.json()["errors"][0]["field"] == "body.objectives.0.statement"
    in_name = await client.post(
        "/v1/frameworks/imports/csv",
        params={**params, "name": "Maths\x00"},
        content=(header + "Maths,1,Number,,M1,Count to ten\n").encode(),
        headers=headers,
    )
    assert in_name.status_code == 422, in_name.text
    assert in_name.json()["errors"][0]["field"] == "query.name"


async def test_a_case_package_with_educational_level_needs_no_curriculum_years(client, world):
    subject_id = await make_subject(client, world)
    params = {"school_id": str(world.schools["A1"].id), "subject_id": subject_id}
    headers = world.headers("school_leader")
    response = await client.post(
        "/v1/frameworks/imports/case",
        params=params,
        content=case_with_educational_level(),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    framework = response.json()
    assert framework["objective_count"] == 3
    assert framework["grade_mapping"] == "england"
    assert any("1 exactMatchOf" in warning for warning in framework["warnings"])
    objectives = await client.get(
        f"/v1/frameworks/{framework['id']}/objectives", headers=world.headers("teacher")
    )
    years = {o["code"]: o["curriculum_years"] for o in objectives.json()["items"]}
    assert years == {"RD": "R-1", "RD.1": "1", "RD.2": "R-1"}

    us_age = await client.post(
        "/v1/frameworks/imports/case",
        params={**params, "grade_mapping": "us_age", "name": "Reading (US grades)"},
        content=case_with_educational_level(),
        headers=headers,
    )
    assert us_age.status_code == 201, us_age.text
    assert us_age.json()["grade_mapping"] == "us_age"
    objectives = await client.get(
        f"/v1/frameworks/{us_age.json()['id']}/objectives", headers=world.headers("teacher")
    )
    assert {o["code"]: o["curriculum_years"] for o in objectives.json()["items"]}["RD.1"] == "2"


async def test_a_csv_import_answers_its_warnings(client, world):
    subject_id = await make_subject(client, world)
    body = (
        b"subject,curriculum_year,strand,sub_strand,code,statement,notes\nMaths,1,N,,M1,Count,x\n"
    )
    response = await client.post(
        "/v1/frameworks/imports/csv",
        params={"school_id": str(world.schools["A1"].id), "subject_id": subject_id},
        content=body,
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == ["columns not read: notes"]
    assert response.json()["grade_mapping"] is None
