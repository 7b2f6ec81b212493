"""Erasing a pupil reaches every table (stored idempotency answers and import jobs too), and
what is kept outside the pupil's record expires: idempotency answers after a day, import jobs'
details after the retention period (app.services.retention)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db.base import utcnow
from app.db.curriculum import Measure
from app.db.idempotency import IdempotencyRecord
from app.db.import_jobs import ImportJob
from app.domain.pupils import make_upn
from app.main import create_app
from app.services import imports, retention
from tests.support.files import ctf_xml, sample_pupils
from tests.support.score_files import mapping, scores_csv

FORENAME, SURNAME, MIS_ID = "Zebedee", "Quillfeather", "MIS-ERASE-77"
UPN = make_upn("801200025977")
RETENTION = timedelta(days=30)


def the_pupil(**changes: Any) -> dict[str, Any]:
    row = {
        "external_id": MIS_ID,
        "upn": UPN,
        "legal_forename": FORENAME,
        "legal_surname": SURNAME,
        "date_of_birth": "2016-03-04",
        "sex": "F",
        "year_group": "4",
    }
    return row | changes


def ctf_pupil(**changes: Any) -> dict[str, Any]:
    """The pupil as a CTF row (keyed by UPN, as CTFs are)."""
    return {k: v for k, v in the_pupil(**changes).items() if k != "external_id"}


async def every_row_as_text(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every row of every table, each cast to text (JSON as JSON), by table."""
    found: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = await connection.execute(sa.select(table))
            found[table.name] = [
                " ".join(
                    json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    # A JSON string value (SQLite may hand some back undecoded): as it reads.
                    else str(value)
                    for value in row
                )
                for row in rows
            ]
    return found


def mentioning(tables: dict[str, list[str]], *marks: str) -> dict[str, list[str]]:
    return {
        name: hits
        for name, rows in tables.items()
        if (hits := [row for row in rows if any(m.lower() in row.lower() for m in marks)])
    }


async def test_erasing_a_pupil_leaves_their_upn_mis_id_and_names_in_no_table(
    client, world, session, engine, monkeypatch
):
    school_id = world.schools["A1"].id
    leader = world.headers("school_leader")
    sync = await client.post(
        f"/v1/schools/{school_id}/roster/sync",
        json={"academic_year": 2025, "pupils": [the_pupil()]},
        headers={**world.headers("integration"), "Idempotency-Key": "erase-me-sync"},
    )
    assert sync.status_code == 200, sync.text
    pupil_id = sync.json()["pupils"][0]["id"]

    # A CTF naming the pupil in its file name, with the pupil's row refused (partial mode),
    # beside another pupil's refused row that must survive the erasure.
    others = sample_pupils(2, start=500)
    others[1]["year_group"] = "14"
    ctf = await client.post(
        f"/v1/schools/{school_id}/imports/ctf",
        params={"mode": "partial", "filename": f"transfer_{FORENAME}_{SURNAME}.xml"},
        content=ctf_xml([ctf_pupil(year_group="14"), *others]),
        headers=world.headers("integration"),
    )
    assert ctf.status_code == 201, ctf.text
    assert {row["key"] for row in ctf.json()["result"]["rejected_rows"]} == {
        UPN,
        others[1]["upn"],
    }
    # A large CTF, run as a job, that failed on the pupil's row: its problem names them.
    monkeypatch.setattr(imports, "INLINE_PUPILS", 1)
    failed = await client.post(
        f"/v1/schools/{school_id}/imports/ctf",
        content=ctf_xml([*sample_pupils(1, start=600), ctf_pupil(year_group="14")]),
        headers=world.headers("integration"),
    )
    assert failed.status_code == 202, failed.text
    polled = await client.get(failed.headers["Location"], headers=leader)
    assert polled.json()["status"] == "failed" and UPN in polled.json()["problem"]["detail"]

    measure = Measure(
        name="Reading age score",
        code="RAS",
        kind="number",
        minimum=Decimal(69),
        maximum=Decimal(141),
        decimals=0,
        school_id=school_id,
    )
    session.add(measure)
    await session.commit()
    scores = await client.post(
        f"/v1/schools/{school_id}/values/imports",
        params={"dry_run": "false"},
        files={
            "file": (
                f"{SURNAME}-scores.csv",
                scores_csv(
                    ["UPN", "Forename", "Surname", "Score"], [(UPN, FORENAME, SURNAME, 104)]
                ),
                "text/csv",
            )
        },
        data={"mapping": mapping(world.points["A1"].id, {"Score": measure.id})},
        headers=leader,
    )
    assert scores.status_code == 200, scores.text
    assert scores.json()["written"] == 1

    before = mentioning(await every_row_as_text(engine), UPN, MIS_ID, FORENAME, SURNAME)
    assert {"pupil", "idempotency_record", "import_job", "audit_event"} <= set(before)

    erased = await client.delete(f"/v1/pupils/{pupil_id}", headers=leader)
    assert erased.status_code == 204, erased.text

    tables = await every_row_as_text(engine)
    assert mentioning(tables, UPN, MIS_ID, FORENAME, SURNAME) == {}
    # The other pupil's refused row is still in the import job's log.
    job = await client.get(ctf.headers["Location"], headers=leader)
    assert [row["key"] for row in job.json()["result"]["rejected_rows"]] == [others[1]["upn"]]
    assert job.json()["filename"] == "[erased]"
    # A retry of the sync after the erasure is not a replay: it runs afresh.
    retry = await client.post(
        f"/v1/schools/{school_id}/roster/sync",
        json={"academic_year": 2025, "pupils": [the_pupil()]},
        headers={**world.headers("integration"), "Idempotency-Key": "erase-me-sync"},
    )
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers
    assert retry.json()["created"] == 1


async def test_the_sweep_forgets_idempotency_answers_after_a_day(client, world, session, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = {**world.headers("integration"), "Idempotency-Key": "sweep-me"}
    body = {"academic_year": 2025, "pupils": [the_pupil()]}
    assert (await client.post(url, json=body, headers=headers)).status_code == 200
    now = utcnow()

    kept = await retention.sweep(session, now=now + timedelta(hours=23), job_retention=RETENTION)
    await session.commit()
    assert kept.answers == 0
    replay = await client.post(url, json=body, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"

    swept = await retention.sweep(session, now=now + timedelta(hours=25), job_retention=RETENTION)
    await session.commit()
    assert swept.answers == 1
    assert await session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)) == 0
    afresh = await client.post(url, json=body, headers=headers)
    assert afresh.status_code == 200 and "Idempotent-Replayed" not in afresh.headers
    assert afresh.json()["unchanged"] == 1


async def test_import_jobs_keep_their_details_only_for_the_retention_period(
    client, world, session, monkeypatch
):
    school_id = world.schools["A1"].id
    headers = world.headers("integration")
    pupils = sample_pupils(3)
    pupils[2]["year_group"] = "14"
    partial = await client.post(
        f"/v1/schools/{school_id}/imports/ctf",
        params={"mode": "partial", "filename": "autumn-transfer.xml"},
        content=ctf_xml(pupils),
        headers=headers,
    )
    assert partial.status_code == 201, partial.text
    monkeypatch.setattr(imports, "INLINE_PUPILS", 1)
    failed = await client.post(
        f"/v1/schools/{school_id}/imports/ctf", content=ctf_xml(pupils), headers=headers
    )
    assert failed.status_code == 202, failed.text
    now = utcnow()

    early = await retention.sweep(session, now=now + timedelta(days=29), job_retention=RETENTION)
    await session.commit()
    assert early.jobs == 0
    kept = (await client.get(partial.headers["Location"], headers=headers)).json()
    assert kept["filename"] == "autumn-transfer.xml" and kept["result"]["rejected_rows"]

    swept = await retention.sweep(session, now=now + timedelta(days=31), job_retention=RETENTION)
    await session.commit()
    assert swept.jobs == 2
    done = (await client.get(partial.headers["Location"], headers=headers)).json()
    assert done["filename"] is None and done["status"] == "succeeded"
    assert (done["result"]["created"], done["result"]["rejected"]) == (2, 1)
    assert done["result"]["rejected_rows"] == [] and done["result"]["warnings"] == []
    assert done["problem"] is None
    gone = (await client.get(failed.headers["Location"], headers=headers)).json()
    assert gone["filename"] is None and gone["status"] == "failed"
    assert gone["problem"]["status"] == 422 and gone["problem"]["errors"] == []
    assert pupils[2]["upn"] not in json.dumps(gone) and gone["result"] is None

    again = await retention.sweep(session, now=now + timedelta(days=32), job_retention=RETENTION)
    assert again.jobs == 0
    assert await session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 2


async def test_the_background_sweep_forgets_expired_answers_in_its_own_transaction(app, session):
    principal_id = uuid.uuid4()
    session.add_all(
        IdempotencyRecord(
            principal_id=principal_id,
            key=key,
            fingerprint="0" * 64,
            status_code=200,
            response={},
            created_at=utcnow() - age,
        )
        for key, age in (("old", timedelta(days=2)), ("new", timedelta(hours=1)))
    )
    await session.commit()
    await retention.sweep_now(app.state.sessions, RETENTION)
    kept = await session.scalars(sa.select(IdempotencyRecord.key))
    assert list(kept) == ["new"]


async def test_the_app_sweeps_in_the_background_while_it_runs(settings, engine):
    app = create_app(settings.model_copy(update={"retention_sweep_seconds": 3600}), engine=engine)
    async with app.router.lifespan_context(app):
        task = app.state.sweeper
        assert not task.done()
    assert task.done()
    quiet = create_app(settings.model_copy(update={"retention_sweep_seconds": 0}), engine=engine)
    async with quiet.router.lifespan_context(quiet):
        assert not hasattr(quiet.state, "sweeper")
