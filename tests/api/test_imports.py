"""CTF and OneRoster imports through the REST API: stored through the same sync, refused
whole when the file is unreadable or unsafe, and run as a job when large."""

from __future__ import annotations

import sqlalchemy as sa

from app.db.import_jobs import ImportJob
from app.db.roster import Pupil, StageAssessment
from app.services import imports
from tests.support.files import (
    ctf_xml,
    oneroster_zip,
    sample_classes,
    sample_pupils,
    xml_bomb,
    xxe_ctf,
    zip_bomb,
    zip_members,
)

TEACHER = "teacher@world.example.org"


async def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    """Rows now, read on a connection of its own (so it sees what the app committed)."""
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(model)
        return (await connection.execute(query)).scalar_one()


def url(world, kind: str) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/schools/{world.schools['A1'].id}/imports/{kind}"


async def test_a_ctf_is_stored_and_a_second_import_changes_nothing(client, world, engine):
    body = ctf_xml(12)
    headers = {**world.headers("integration"), "Content-Type": "application/xml"}
    first = await client.post(url(world, "ctf"), content=body, headers=headers)
    assert first.status_code == 201, first.text
    job = first.json()
    assert (job["status"], job["rows_total"], job["result"]["created"]) == ("succeeded", 12, 12)
    assert first.headers["Location"] == f"/v1/import-jobs/{job['id']}"
    assert await count(engine, Pupil) == 12
    assert await count(engine, StageAssessment) > 0
    again = await client.post(url(world, "ctf"), content=body, headers=headers)
    assert again.json()["result"]["unchanged"] == 12
    polled = await client.get(first.headers["Location"], headers=headers)
    assert polled.json()["status"] == "succeeded"


async def test_a_oneroster_zip_is_stored_with_its_classes(client, world, engine):
    body = oneroster_zip(sample_pupils(8), 2, [TEACHER])
    headers = {**world.headers("school_leader"), "Content-Type": "application/zip"}
    response = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert (result["created"], result["classes_created"]) == (8, 2)
    classes = await client.get(
        f"/v1/schools/{world.schools['A1'].id}/classes", headers=world.headers("teacher")
    )
    assert len(classes.json()["items"]) == 2


async def test_unreadable_and_unsafe_files_are_refused_and_store_nothing(client, world, engine):
    headers = world.headers("integration")
    cases = [
        ("ctf", b"<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData>", "line"),
        ("ctf", b"<CTfile><CTFpupilData/></CTfile>", "Header"),
        ("ctf", xml_bomb(), "not allowed"),
        ("ctf", xxe_ctf(), "not allowed"),
        ("oneroster", zip_members({"users.csv": "sourcedId\n"}), "manifest"),
        ("oneroster", b"not a zip at all", "zip"),
    ]
    for kind, body, words in cases:
        response = await client.post(url(world, kind), content=body, headers=headers)
        assert response.status_code == 422, (kind, words, response.text)
        assert words in response.json()["detail"], response.json()["detail"]
    bomb = await client.post(url(world, "oneroster"), content=zip_bomb(20), headers=headers)
    assert bomb.status_code == 422, bomb.text
    assert await count(engine, Pupil) == 0
    assert await count(engine, ImportJob) == 0


async def test_a_bad_row_rejects_the_file_unless_partial(client, world, engine):
    pupils = sample_pupils(3)
    pupils[1]["upn"] = (
        "A" + pupils[1]["upn"][1:] if pupils[1]["upn"][0] != "A" else "B" + pupils[1]["upn"][1:]
    )
    body = ctf_xml(pupils)
    headers = world.headers("integration")
    refused = await client.post(url(world, "ctf"), content=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.pupils.1.upn"
    assert await count(engine, Pupil) == 0
    partial = await client.post(
        url(world, "ctf"), params={"mode": "partial"}, content=body, headers=headers
    )
    assert partial.status_code == 201
    assert partial.json()["result"]["rejected_rows"][0]["index"] == 1
    assert await count(engine, Pupil) == 2


async def test_a_ctf_cannot_mark_leavers(client, world):
    response = await client.post(
        url(world, "ctf"),
        params={"full": "true"},
        content=ctf_xml(2),
        headers=world.headers("integration"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.full"


async def test_a_large_file_runs_as_a_job_to_poll(client, world, engine, monkeypatch):
    monkeypatch.setattr(imports, "INLINE_PUPILS", 5)
    response = await client.post(
        url(world, "ctf"), content=ctf_xml(7), headers=world.headers("integration")
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    # The background task has run by the time the in-process client returns.
    polled = await client.get(response.headers["Location"], headers=world.headers("integration"))
    assert polled.json()["status"] == "succeeded", polled.text
    assert polled.json()["rows_done"] == 7
    assert await count(engine, Pupil) == 7
    # Jobs name pupils by key: only those who may import see them; to others they do not exist.
    analyst = await client.get(response.headers["Location"], headers=world.headers("trust_analyst"))
    assert analyst.status_code == 404


async def test_a_large_file_with_a_bad_row_fails_its_job_and_stores_nothing(
    client, world, engine, monkeypatch
):
    monkeypatch.setattr(imports, "INLINE_PUPILS", 2)
    pupils = sample_pupils(4)
    pupils[3]["year_group"] = "14"
    response = await client.post(
        url(world, "ctf"), content=ctf_xml(pupils), headers=world.headers("integration")
    )
    assert response.status_code == 202
    polled = await client.get(response.headers["Location"], headers=world.headers("integration"))
    job = polled.json()
    assert job["status"] == "failed"
    assert job["problem"]["errors"][0]["field"] == "body.pupils.3.year_group"
    assert await count(engine, Pupil) == 0


async def test_a_refused_ctf_names_the_upn_it_refused(client, world, engine):
    pupils = sample_pupils(3)
    pupils[2]["year_group"] = "14"
    response = await client.post(
        url(world, "ctf"), content=ctf_xml(pupils), headers=world.headers("integration")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "body.pupils.2.year_group"
    assert problem["errors"][0]["key"] == pupils[2]["upn"]
    assert pupils[2]["upn"] in problem["detail"]
    assert await count(engine, Pupil) == 0


async def test_ctf_names_are_stored_nfc_and_bidi_overrides_refused(client, world, session):
    pupils = sample_pupils(2)
    pupils[0]["legal_surname"] = "Le\u0301a"
    pupils[1]["legal_forename"] = "Amy\u202eecila"
    response = await client.post(
        url(world, "ctf"),
        params={"mode": "partial"},
        content=ctf_xml(pupils),
        headers=world.headers("integration"),
    )
    assert response.status_code == 201, response.text
    rejected = response.json()["result"]["rejected_rows"]
    assert [(r["key"], r["errors"][0]["field"]) for r in rejected] == [
        (pupils[1]["upn"], "body.pupils.1.legal_forename")
    ]
    stored = await session.scalar(sa.select(Pupil).where(Pupil.upn == pupils[0]["upn"]))
    assert stored is not None and stored.legal_surname == "L\u00e9a"


async def test_oneroster_pupils_refused_for_a_refused_class_carry_no_id(client, world, engine):
    classes = sample_classes(2, [TEACHER])
    classes[1]["name"] = (
        "x" * 300
    )  # too long: the class is refused, so its pupils' class is unknown
    pupils = sample_pupils(4)
    for index, pupil in enumerate(pupils):
        pupil["classes"] = [classes[index % 2]["code"]]
    response = await client.post(
        url(world, "oneroster"),
        params={"mode": "partial"},
        content=oneroster_zip(pupils, classes, [TEACHER]),
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert result["created"] == 2
    refused = [(r["key"], r["errors"][0]["field"]) for r in result["rejected_rows"]]
    assert refused == [
        ("stu-00001", "body.pupils.1.classes.0"),
        ("stu-00003", "body.pupils.3.classes.0"),
        (classes[1]["code"], "body.classes.1.name"),
    ]
    assert all(r["id"] is None for r in result["rejected_rows"])
    assert await count(engine, Pupil) == 2
