"""CTF and OneRoster imports through the REST API: stored through the same sync, refused
whole when the file is unreadable or unsafe, and run as a job when large."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from anyio import to_thread

from app.db.import_jobs import ImportJob
from app.db.people import RoleGrant, User
from app.db.roster import ClassTeacher, Enrolment, Pupil, StageAssessment, TeachingGroup
from app.domain.roles import Role
from app.main import create_app
from app.services import imports
from tests.conftest import make_client
from tests.support.files import (
    ctf_xml,
    oneroster_files,
    oneroster_zip,
    sample_classes,
    sample_pupils,
    xml_bomb,
    xxe_ctf,
    zip_bomb,
    zip_members,
)
from tests.support.real_world import (
    oneroster_11_without_demographics,
    oneroster_12_delta_without_grades,
    oneroster_with_slips,
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
    assert (result["rejected"], result["classes_rejected"]) == (2, 1)
    refused = [(r["key"], r["errors"][0]["field"]) for r in result["rejected_rows"]]
    assert refused == [
        ("stu-00001", "body.pupils.1.classes.0"),
        ("stu-00003", "body.pupils.3.classes.0"),
        (classes[1]["code"], "body.classes.1.name"),
    ]
    # The pupil's refusal says why: their class was refused, and where.
    reason = result["rejected_rows"][0]["errors"][0]["reason"]
    assert f"class {classes[1]['code']} was refused (body.classes.1: " in reason
    assert all(r["id"] is None for r in result["rejected_rows"])
    assert await count(engine, Pupil) == 2


# --- Large files do not stall the service ---------------------------------------------------


async def test_a_zip_that_unpacks_past_the_caps_is_refused_naming_the_file(settings, engine, world):
    # About 20 KB of zip whose users.csv unpacks to 20 MB: under the default caps' ratio rule
    # it is a bomb; with a generous ratio it is still over the per-file cap, and refused from
    # the directory, before anything is unpacked.
    capped = settings.model_copy(
        update={"import_max_file_bytes": 1024 * 1024, "import_max_unpacked_bytes": 2 * 1024 * 1024}
    )
    async with make_client(create_app(capped, engine=engine)) as client:
        response = await client.post(
            url(world, "oneroster") + "?filename=export.zip",
            content=zip_bomb(20),
            headers=world.headers("integration"),
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["detail"].startswith("body: export.zip, users.csv: ")
        assert problem["errors"][0]["field"] == "body"
        # Within the caps, a normal export still goes in.
        fine = await client.post(
            url(world, "oneroster"),
            content=oneroster_zip(5, 1, [TEACHER]),
            headers=world.headers("integration"),
        )
        assert fine.status_code == 201, fine.text
    assert await count(engine, Pupil) == 5


async def test_a_csv_over_the_row_cap_is_refused_naming_the_row(settings, engine, world):
    capped = settings.model_copy(update={"import_max_rows": 30})
    async with make_client(create_app(capped, engine=engine)) as client:
        response = await client.post(
            url(world, "oneroster"), content=oneroster_zip(40), headers=world.headers("integration")
        )
    assert response.status_code == 422, response.text
    assert "oneroster.zip, users.csv row 32: more than 30 rows" in response.json()["detail"]
    assert await count(engine, Pupil) == 0


async def test_healthz_answers_while_a_large_import_is_being_read(
    settings, engine, world, monkeypatch
):
    """The file is read off the event loop: /healthz requests through the same app answer
    while the parser is still busy (it keeps reading the file again until they have, so the
    order is proved, not timed), and the import then finishes as usual."""
    started, answered = threading.Event(), threading.Event()
    rounds: list[int] = []
    parse = imports._parse

    def busy_parse(*args):  # type: ignore[no-untyped-def]
        started.set()
        parsed, round_ = parse(*args), 1
        while not answered.is_set() and round_ < 20:
            parsed, round_ = parse(*args), round_ + 1
        rounds.append(round_)
        return parsed

    monkeypatch.setattr(imports, "_parse", busy_parse)
    big = create_app(settings.model_copy(update={"max_body_bytes": 1024 * 1024}), engine=engine)
    body = oneroster_zip(2_500, 40, [TEACHER])
    async with make_client(big) as client:
        importing = asyncio.create_task(
            client.post(url(world, "oneroster"), content=body, headers=world.headers("integration"))
        )
        await to_thread.run_sync(started.wait)
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200
        answered.set()
        response = await importing
        assert response.status_code == 202, response.text
        job = await client.get(response.headers["Location"], headers=world.headers("integration"))
    assert job.json()["status"] == "succeeded", job.text
    assert rounds and rounds[0] < 20  # the health checks answered before the parser gave up
    assert await count(engine, Pupil) == 2_500


async def test_jobs_cut_off_by_a_restart_are_marked_failed_at_start(app, session, world):
    school = world.schools["A1"]

    def job(status: str) -> ImportJob:
        return ImportJob(
            school_id=school.id,
            trust_id=school.trust_id,
            kind="oneroster",
            filename=f"{status}.zip",
            status=status,
            rows_total=3_000,
            created_by_type="client",
            created_by_id=world.clients["integration"].id,
        )

    jobs = {status: job(status) for status in ("queued", "running", "succeeded", "failed")}
    session.add_all(jobs.values())
    await session.commit()
    async with app.router.lifespan_context(app):
        pass
    await session.commit()
    for item in jobs.values():
        await session.refresh(item)
    assert {status: item.status for status, item in jobs.items()} == {
        "queued": "failed",
        "running": "failed",
        "succeeded": "succeeded",
        "failed": "failed",
    }
    problem = jobs["running"].problem
    assert problem is not None
    assert problem["type"] == "/problems/service-restarted"
    assert "the service restarted at " in problem["detail"]
    assert "while this import was running" in problem["detail"]
    assert problem["restarted_at"]
    assert jobs["succeeded"].problem is None and jobs["failed"].problem is None


async def test_a_job_changed_since_the_start_is_left_to_its_worker(app, session, world):
    school = world.schools["A1"]
    started_at = datetime.now(UTC)
    running = ImportJob(
        school_id=school.id,
        trust_id=school.trust_id,
        kind="ctf",
        status="running",
        created_by_type="client",
        created_by_id=world.clients["integration"].id,
    )
    session.add(running)
    await session.commit()
    assert await imports.fail_interrupted_jobs(app.state.sessions, started_at=started_at) == 0
    await session.commit()  # a new transaction, to see what the app committed
    await session.refresh(running)
    assert running.status == "running"
    later = started_at + timedelta(hours=1)
    assert await imports.fail_interrupted_jobs(app.state.sessions, started_at=later) == 1
    await session.commit()
    await session.refresh(running)
    assert running.status == "failed"


# --- Files as schools receive them (issue 16) -------------------------------------------------


async def year_groups(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(Pupil.external_id, Enrolment.year_group).join(
                Enrolment, Enrolment.pupil_id == Pupil.id
            )
        )
        return dict(rows.all())


async def test_a_oneroster_1_1_set_without_demographics_imports_and_matches_again(
    client, world, engine
):
    body = oneroster_11_without_demographics(TEACHER)
    headers = world.headers("school_leader")
    response = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert (result["created"], result["classes_created"], result["rejected"]) == (3, 1, 0)
    assert result["grade_mapping"] == "england"
    assert any("role is teacher: not imported as a pupil" in w for w in result["warnings"])
    assert any("no demographics.csv" in w for w in result["warnings"])
    async with engine.connect() as connection:
        births = (await connection.execute(sa.select(Pupil.date_of_birth))).scalars().all()
        teachers = await connection.scalar(sa.select(sa.func.count()).select_from(ClassTeacher))
    assert births == [None, None, None]
    assert teachers == 1
    assert await year_groups(engine) == {"s-1": "5", "s-2": "5", "s-3": "5"}
    pupils = await client.get(f"/v1/schools/{world.schools['A1'].id}/pupils", headers=headers)
    assert [p["date_of_birth"] for p in pupils.json()["items"]] == [None, None, None]
    # The pupil with no UPN and no birth date is found again by their sourcedId.
    again = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert again.json()["result"]["unchanged"] == 3, again.text
    assert await count(engine, Pupil) == 3


async def test_a_delta_whose_users_lack_grades_needs_a_year_group_else_stores_nothing(
    client, world, engine
):
    body = oneroster_12_delta_without_grades()
    headers = world.headers("integration")
    refused = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert [e["field"] for e in problem["errors"]] == [
        "body.pupils.1.year_group",
        "body.pupils.2.year_group",
    ]
    assert (problem["rejected"], problem["classes_rejected"]) == (2, 0)
    assert await count(engine, Pupil) == 0
    assert await count(engine, TeachingGroup) == 0

    stated = await client.post(
        url(world, "oneroster"), params={"year_group": "4"}, content=body, headers=headers
    )
    assert stated.status_code == 201, stated.text
    assert stated.json()["result"]["created"] == 3
    assert await year_groups(engine) == {"d-1": "3", "d-2": "4", "d-3": "4"}

    us_age = await client.post(
        url(world, "oneroster"),
        params={"year_group": "5", "grade_mapping": "us_age"},
        content=body,
        headers=headers,
    )
    assert us_age.status_code == 201, us_age.text
    assert us_age.json()["result"]["grade_mapping"] == "us_age"
    assert await year_groups(engine) == {"d-1": "4", "d-2": "5", "d-3": "5"}


async def test_a_set_with_harmless_slips_imports_with_warnings(client, world, engine):
    response = await client.post(
        url(world, "oneroster"),
        content=oneroster_with_slips(),
        headers=world.headers("integration"),
    )
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert (result["created"], result["classes_created"]) == (2, 1)
    assert (
        "users.csv rows 2, 3, 4: an empty field after the last column ignored"
        in (result["warnings"])
    )
    assert "demographics.csv row 1: a header and no rows" in result["warnings"]
    assert await count(engine, Pupil) == 2


async def test_a_first_import_before_teachers_have_accounts(client, world, engine, session):
    newcomer = "new.teacher@school.example.org"
    classes = sample_classes(2, [TEACHER])
    classes[1]["teacher_emails"] = [newcomer, TEACHER]
    classes[0]["teacher_emails"] = [newcomer]
    pupils = sample_pupils(4)
    for index, pupil in enumerate(pupils):
        pupil["classes"] = [classes[index % 2]["code"]]
    body = oneroster_zip(pupils, classes)
    headers = world.headers("school_leader")
    response = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert (result["created"], result["classes_created"], result["rejected"]) == (4, 2, 0)
    missed = [w for w in result["warnings"] if newcomer in w]
    assert len(missed) == 2
    assert missed[0].startswith(f"classes.csv row 2: class {classes[0]['code']} stored without")
    assert await count(engine, ClassTeacher) == 1  # the teacher who has an account

    # Once the newcomer has an account, importing again links them.
    user = User(email=newcomer, display_name="New Teacher", password_hash="x")
    session.add(user)
    await session.flush()
    session.add(RoleGrant(user_id=user.id, role=Role.TEACHER, school_id=world.schools["A1"].id))
    await session.commit()
    again = await client.post(url(world, "oneroster"), content=body, headers=headers)
    assert again.status_code == 201, again.text
    assert not [w for w in again.json()["result"]["warnings"] if newcomer in w]
    assert await count(engine, ClassTeacher) == 3


async def test_an_all_or_nothing_refusal_lists_every_problem_of_every_kind(client, world, engine):
    classes = sample_classes(2, [TEACHER])
    classes[1]["name"] = "x" * 300  # a class refused as it is read
    pupils = sample_pupils(3)
    pupils[0]["classes"] = [classes[0]["code"]]
    pupils[1]["classes"] = [classes[1]["code"]]  # refused because its class is
    pupils[2]["classes"] = [classes[0]["code"]]
    pupils[2]["users_csv"] = {"grades": "UG"}  # refused as it is read
    response = await client.post(
        url(world, "oneroster"),
        content=oneroster_zip(pupils, classes, [TEACHER]),
        headers=world.headers("integration"),
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert sorted(e["field"] for e in problem["errors"]) == [
        "body.classes.1.name",
        "body.pupils.1.classes.0",
        "body.pupils.2.year_group",
    ]
    assert (problem["rejected"], problem["classes_rejected"]) == (2, 1)
    assert await count(engine, Pupil) == 0
    assert await count(engine, TeachingGroup) == 0


async def test_a_file_with_several_broken_rows_is_refused_naming_each(client, world, engine):
    files = oneroster_files(3, 1, [TEACHER])
    files["enrollments.csv"] = files["enrollments.csv"].replace(",cls-0001,", ",cls-0404,")
    response = await client.post(
        url(world, "oneroster"), content=zip_members(files), headers=world.headers("integration")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error_count"] == len(problem["errors"]) == 4  # the teacher's and 3 pupils'
    assert all("is not in classes.csv" in e["reason"] for e in problem["errors"])
    assert await count(engine, Pupil) == 0


async def test_a_ctf_pupil_without_a_birth_date_is_still_refused(client, world, engine):
    # Optional for OneRoster (demographics.csv is), but a CTF always carries one: without it
    # the file is broken.
    pupils = sample_pupils(2)
    del pupils[1]["date_of_birth"]
    response = await client.post(
        url(world, "ctf"), content=ctf_xml(pupils), headers=world.headers("integration")
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.pupils.1.date_of_birth"]
    assert await count(engine, Pupil) == 0
