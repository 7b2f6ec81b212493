"""Score imports through the REST API: files from test providers and spreadsheets, read with a
column mapping, checked in a dry run that stores nothing, and committed all-or-nothing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.curriculum import Measure
from app.db.markbook import MeasureValue, MeasureValueHistory
from app.db.roster import Pupil
from tests.support.definitions import add_definitions
from tests.support.roster import add_pupil, add_school_roster
from tests.support.score_files import (
    OLD_XLS,
    PNG,
    mapping,
    plain_zip,
    provider_csv,
    scores_csv,
    scores_xlsx,
    xlsx_bomb,
)
from tests.support.world import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Setup:
    """School A1's measures and pupils: a standardised score (69-141, whole numbers) and a
    stanine (1-9) of the school, the trust's depth scale measure (WT/EXS/GDS); three pupils
    (the first taught by the world's teacher), each with a UPN and an MIS id."""

    school_id: uuid.UUID
    point_id: uuid.UUID
    sas: uuid.UUID
    stanine: uuid.UUID
    reading: uuid.UUID
    other_trust_measure: uuid.UUID
    upns: list[str]
    pupil_ids: list[uuid.UUID]
    external_ids: list[str]


async def arrange(session: AsyncSession, world: World) -> Setup:
    school = world.schools["A1"]
    roster = await add_school_roster(
        session,
        school,
        serial=1,
        teacher_id=world.users["teacher"].id,
        job_creator_id=world.users["school_leader"].id,
    )
    pupils = [
        roster.pupil,
        await add_pupil(session, school, 2),
        await add_pupil(session, school, 3),
    ]
    trust = await add_definitions(session, trust_id=world.trusts["A"].id)
    elsewhere = await add_definitions(session, trust_id=world.trusts["B"].id)
    sas = Measure(
        name="Standardised age score",
        code="NGRT-SAS",
        kind="number",
        minimum=Decimal(69),
        maximum=Decimal(141),
        decimals=0,
        school_id=school.id,
    )
    stanine = Measure(
        name="Stanine",
        code="NGRT-ST",
        kind="number",
        minimum=Decimal(1),
        maximum=Decimal(9),
        decimals=0,
        school_id=school.id,
    )
    reading = Measure(
        name="Reading depth",
        code="READ-D",
        kind="scale",
        scale_id=trust.scale.id,
        trust_id=world.trusts["A"].id,
    )
    session.add_all([sas, stanine, reading])
    await session.commit()
    return Setup(
        school_id=school.id,
        point_id=world.points["A1"].id,
        sas=sas.id,
        stanine=stanine.id,
        reading=reading.id,
        other_trust_measure=elsewhere.measure.id,
        upns=[p.upn or "" for p in pupils],
        pupil_ids=[p.id for p in pupils],
        external_ids=[p.external_id or "" for p in pupils],
    )


async def stored(engine: AsyncEngine) -> dict[tuple[uuid.UUID, uuid.UUID], Any]:
    """The current values, by (pupil, measure), read on a connection of its own."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(
                MeasureValue.pupil_id,
                MeasureValue.measure_id,
                MeasureValue.number,
                MeasureValue.descriptor_id,
            )
        )
        return {
            (pupil, measure): (number if descriptor is None else descriptor)
            for pupil, measure, number, descriptor in rows
        }


async def history_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(MeasureValueHistory)
        return (await connection.execute(query)).scalar_one()


async def post(
    client,
    world: World,
    setup: Setup,
    data: bytes,
    mapping_text: str,
    *,
    dry_run: bool,
    who: str = "school_leader",
    filename: str = "scores.csv",
    content_type: str = "text/csv",
):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/v1/schools/{setup.school_id}/values/imports",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (filename, data, content_type)},
        data={"mapping": mapping_text},
        headers=world.headers(who),
    )


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["reason"] for error in body["errors"]}


# --- Files that import -----------------------------------------------------------------------


async def test_a_test_providers_csv_keyed_by_upn_dry_runs_then_commits(
    client, world, session, engine
):
    setup = await arrange(session, world)
    data = provider_csv(
        [
            (setup.upns[0], "Pupil", "Target1", "04/03/2016", "F", "4T", 104, 6, 61),
            (setup.upns[1].lower(), "Pupil", "Target2", "04/03/2016", "F", "4T", 96, 4, 40),
            (f" {setup.upns[2]} ", "Pupil", "Target3", "04/03/2016", "F", "4T", 121, 9, 92),
        ]
    )
    columns = {"Standard Age Score": setup.sas, "stanine": setup.stanine}
    text = mapping(setup.point_id, columns, header_row=2)

    dry = await post(client, world, setup, data, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] is True and body["sheet"] is None
    assert body["totals"] == {"rows": 3, "with_errors": 0, "values": 6, "set_aside": 0}
    first = body["rows"][0]
    assert first["row"] == 3 and first["pupil_id"] == str(setup.pupil_ids[0])
    assert first["errors"] == []
    assert [(v["column"], v["value"], v["status"]) for v in first["values"]] == [
        ("Standard Age Score", 104, "written"),
        ("Stanine", 6, "written"),
    ]
    assert [row["pupil_id"] for row in body["rows"]] == [str(p) for p in setup.pupil_ids]
    assert await stored(engine) == {}

    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 200, committed.text
    result = committed.json()
    assert (result["written"], result["cleared"], result["unchanged"]) == (6, 0, 0)
    assert result["rows"] is None
    values = await stored(engine)
    assert values[(setup.pupil_ids[0], setup.sas)] == Decimal(104)
    assert values[(setup.pupil_ids[2], setup.stanine)] == Decimal(9)
    assert len(values) == 6

    again = await post(client, world, setup, data, text, dry_run=False)
    assert (again.json()["written"], again.json()["unchanged"]) == (0, 6)
    assert await history_count(engine) == 6


async def test_an_xlsx_workbook_imports_from_a_named_sheet(client, world, session, engine):
    setup = await arrange(session, world)
    data = scores_xlsx(
        ("MIS ID", "Name", "SAS", "Reading"),
        [
            (setup.external_ids[0], "Target1 Pupil", 99, "exs"),
            (None, None, None, None),
            (setup.external_ids[1], "Target2 Pupil", 112.0, "GDS"),
        ],
        sheet="Autumn",
        before=["Read me"],
    )
    text = mapping(
        setup.point_id,
        {"sas": setup.sas, "READING": setup.reading},
        pupil={"by": "external_id", "column": "mis id"},
        sheet="autumn",
    )
    dry = await post(
        client, world, setup, data, text, dry_run=True, filename="scores.xlsx", content_type=XLSX
    )
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["sheet"] == "Autumn"
    assert [row["row"] for row in body["rows"]] == [2, 4]
    assert [v["value"] for v in body["rows"][0]["values"]] == [99, "EXS"]

    committed = await post(
        client, world, setup, data, text, dry_run=False, filename="scores.xlsx", content_type=XLSX
    )
    assert committed.status_code == 200, committed.text
    assert committed.json()["written"] == 4
    values = await stored(engine)
    assert values[(setup.pupil_ids[1], setup.sas)] == Decimal(112)
    assert isinstance(values[(setup.pupil_ids[1], setup.reading)], uuid.UUID)


async def test_pupils_matched_by_name_and_date_of_birth(client, world, session, engine):
    setup = await arrange(session, world)
    school_id = setup.school_id
    born = date(2015, 11, 20)
    chloe = Pupil(
        school_id=school_id,
        external_id="N-1",
        legal_forename="Chloé",
        legal_surname="O'Brien",
        date_of_birth=born,
    )
    alex = Pupil(
        school_id=school_id,
        external_id="N-2",
        legal_forename="Alexander",
        preferred_forename="Sasha",
        legal_surname="Nowak",
        date_of_birth=born,
    )
    # Twins who both go by Sam.
    twins = [
        Pupil(
            school_id=school_id,
            external_id=f"N-{3 + index}",
            legal_forename=forename,
            preferred_forename="Sam",
            legal_surname="Patel",
            date_of_birth=born,
        )
        for index, forename in enumerate(("Samuel", "Samantha"))
    ]
    session.add_all([chloe, alex, *twins])
    await session.commit()
    header = ("Forename", "Surname", "DOB", "SAS")
    rows = [
        ("CHLOE", "o'brien", "20/11/2015", 100),  # 2: accents and case ignored
        ("Sasha", "Nowak", "2015-11-20", 101),  # 3: the preferred forename
        ("Alexander", " Nowak ", born, 101),  # 4: the same pupil again, by legal name
        ("Sam", "Patel", "20/11/2015", 102),  # 5: two pupils answer
        ("Samantha", "Patel", "20/11/2015", 103),  # 6: the legal name tells them apart
        ("Chloe", "O'Brien", "21/11/2015", 104),  # 7: nobody born that day
        ("Chloe", "O'Brien", "31/11/2015", 105),  # 8: no such date
    ]
    text = mapping(
        setup.point_id,
        {"SAS": setup.sas},
        pupil={
            "by": "name_dob",
            "first_name": "forename",
            "last_name": "SURNAME",
            "date_of_birth": "DOB",
        },
    )
    response = await post(
        client,
        world,
        setup,
        scores_xlsx(header, rows, sheet="Sheet1"),
        text,
        dry_run=True,
        filename="names.xlsx",
        content_type=XLSX,
    )
    assert response.status_code == 200, response.text
    body = {row["row"]: row for row in response.json()["rows"]}
    assert body[2]["pupil_id"] == str(chloe.id) and body[2]["errors"] == []
    assert body[3]["pupil_id"] == str(alex.id) and body[3]["errors"] == []
    assert [e["reason"] for e in body[4]["errors"]] == [
        "the same pupil as row 3: give each pupil one row, or say in the mapping's sittings "
        "which to keep"
    ]
    assert body[5]["pupil_id"] is None
    assert body[5]["errors"][0]["field"] == "file.row.5"
    assert "2 pupils are called 'Sam Patel'" in body[5]["errors"][0]["reason"]
    assert body[6]["pupil_id"] == str(twins[1].id)
    assert "no pupil in this school with the name" in body[7]["errors"][0]["reason"]
    assert body[8]["errors"][0]["field"] == "file.row.8.DOB"
    assert "not a real date" in body[8]["errors"][0]["reason"]
    assert response.json()["totals"] == {"rows": 7, "with_errors": 4, "values": 3, "set_aside": 0}
    assert await stored(engine) == {}


# --- Files with bad rows ---------------------------------------------------------------------


async def test_a_file_with_bad_rows_dry_runs_row_by_row_and_commits_nothing(
    client, world, session, engine
):
    setup = await arrange(session, world)
    data = scores_csv(
        ("UPN", "SAS", "Stanine"),
        [
            (setup.upns[0], "104", "6"),
            (setup.upns[1], "150", "5"),  # 3: out of range
            ("A801999925999", "100", "5"),  # 4: nobody has this UPN
            (setup.upns[2], "", "abc"),  # 5: blank is skipped; not a number
            (None, "99", "4"),  # 6: no UPN
        ],
        delimiter=";",
    )
    text = mapping(setup.point_id, {"SAS": setup.sas, "Stanine": setup.stanine})
    dry = await post(client, world, setup, data, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    rows = {row["row"]: row for row in dry.json()["rows"]}
    assert rows[2]["errors"] == [] and len(rows[2]["values"]) == 2
    assert [(e["field"], e["column"]) for e in rows[3]["errors"]] == [("file.row.3.SAS", "SAS")]
    assert "between 69 and 141" in rows[3]["errors"][0]["reason"]
    assert rows[4]["errors"][0]["field"] == "file.row.4.UPN"
    assert "no pupil in this school with UPN 'A801999925999'" in rows[4]["errors"][0]["reason"]
    assert [e["field"] for e in rows[5]["errors"]] == ["file.row.5.Stanine"]
    assert [v["column"] for v in rows[5]["values"]] == ["Stanine"]
    assert rows[6]["errors"][0]["field"] == "file.row.6.UPN"
    assert dry.json()["totals"] == {"rows": 5, "with_errors": 4, "values": 2, "set_aside": 0}

    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 422, committed.text
    problem = committed.json()
    assert problem["type"] == "/problems/validation-error"
    assert set(errors_of(problem)) == {
        "file.row.3.SAS",
        "file.row.4.UPN",
        "file.row.5.Stanine",
        "file.row.6.UPN",
    }
    assert problem["detail"].startswith("4 of 5 rows have errors, nothing was stored")
    assert problem["rows_with_errors"] == [3, 4, 5, 6]
    assert await stored(engine) == {}
    assert await history_count(engine) == 0


async def test_blank_cells_are_skipped_unless_the_mapping_clears(client, world, session, engine):
    setup = await arrange(session, world)
    text = mapping(setup.point_id, {"SAS": setup.sas, "Stanine": setup.stanine})
    full = scores_csv(("UPN", "SAS", "Stanine"), [(setup.upns[0], 100, 5)])
    assert (await post(client, world, setup, full, text, dry_run=False)).status_code == 200
    blank = scores_csv(("UPN", "SAS", "Stanine"), [(setup.upns[0], None, 6)])

    skipped = await post(client, world, setup, blank, text, dry_run=False)
    assert (skipped.json()["written"], skipped.json()["cleared"]) == (1, 0)
    assert (await stored(engine))[(setup.pupil_ids[0], setup.sas)] == Decimal(100)

    clearing = json.loads(text)
    clearing["columns"][0]["blank"] = "clear"
    dry = await post(client, world, setup, blank, json.dumps(clearing), dry_run=True)
    assert [(v["column"], v["value"], v["status"]) for v in dry.json()["rows"][0]["values"]] == [
        ("SAS", None, "cleared"),
        ("Stanine", 6, "unchanged"),
    ]
    cleared = await post(client, world, setup, blank, json.dumps(clearing), dry_run=False)
    assert (cleared.json()["cleared"], cleared.json()["unchanged"]) == (1, 1)
    assert (setup.pupil_ids[0], setup.sas) not in await stored(engine)


# --- Who may import --------------------------------------------------------------------------


async def test_a_teacher_imports_only_for_the_pupils_they_teach(client, world, session, engine):
    setup = await arrange(session, world)
    text = mapping(setup.point_id, {"SAS": setup.sas})
    both = scores_csv(("UPN", "SAS"), [(setup.upns[0], 100), (setup.upns[1], 101)])
    dry = await post(client, world, setup, both, text, dry_run=True, who="teacher")
    rows = dry.json()["rows"]
    assert rows[0]["errors"] == []
    assert "among those you may record for" in rows[1]["errors"][0]["reason"]
    refused = await post(client, world, setup, both, text, dry_run=False, who="teacher")
    assert refused.status_code == 422
    assert list(errors_of(refused.json())) == ["file.row.3.UPN"]
    assert await stored(engine) == {}

    own = scores_csv(("UPN", "SAS"), [(setup.upns[0], 100)])
    done = await post(client, world, setup, own, text, dry_run=False, who="teacher")
    assert done.status_code == 200, done.text
    assert await stored(engine) == {(setup.pupil_ids[0], setup.sas): Decimal(100)}


async def test_who_may_import_and_preview(client, world, session):
    setup = await arrange(session, world)
    data = scores_csv(("UPN", "SAS"), [(setup.upns[0], 100)])
    text = mapping(setup.point_id, {"SAS": setup.sas})
    expected = {
        None: 401,
        "governor": 404,
        "pupil": 404,  # the world's pupil grant names no pupil: it reaches nothing
        "trust_analyst": 403,
        "other_school_leader": 404,
        "other_trust_admin": 404,
        "integration_roster_read": 404,
        "integration": 200,
        "trust_admin": 200,
    }
    for who, status in expected.items():
        response = await client.post(
            f"/v1/schools/{setup.school_id}/values/imports",
            files={"file": ("s.csv", data, "text/csv")},
            data={"mapping": text},
            headers=world.headers(who),
        )
        assert response.status_code == status, (who, response.text)
        preview = await client.post(
            f"/v1/schools/{setup.school_id}/values/imports/columns",
            files={"file": ("s.csv", data, "text/csv")},
            headers=world.headers(who),
        )
        assert preview.status_code == status, (who, preview.text)


# --- Files and mappings that cannot be read ----------------------------------------------------


async def test_unsafe_and_unreadable_files_are_clear_422s(client, world, session, engine):
    setup = await arrange(session, world)
    text = mapping(setup.point_id, {"SAS": setup.sas})
    cases = [
        (xlsx_bomb(), "scores.xlsx", "zip bomb"),
        (plain_zip(), "scores.zip", "not an Excel .xlsx workbook"),
        (OLD_XLS, "scores.xls", "old Excel .xls"),
        (PNG, "photo.png", "binary content"),
        (b"", "empty.csv", "empty"),
        (b"UPN,SAS\r\n", "scores.xlsx", "not a zip"),
    ]
    for data, filename, words in cases:
        for dry_run in (True, False):
            response = await post(
                client, world, setup, data, text, dry_run=dry_run, filename=filename
            )
            assert response.status_code == 422, (filename, response.text)
            problem = response.json()
            assert list(errors_of(problem)) == ["file"], problem
            assert words in problem["detail"] and filename in problem["detail"], problem
        preview = await client.post(
            f"/v1/schools/{setup.school_id}/values/imports/columns",
            files={"file": (filename, data, "application/octet-stream")},
            headers=world.headers("school_leader"),
        )
        assert preview.status_code == 422 and words in preview.json()["detail"]
    assert await stored(engine) == {}


async def test_mapping_mistakes_name_the_mapping_field(client, world, session):
    setup = await arrange(session, world)
    data = scores_xlsx(("UPN", "SAS"), [(setup.upns[0], 100)], sheet="Scores")
    base = json.loads(mapping(setup.point_id, {"SAS": setup.sas}))

    def changed(**parts: Any) -> str:
        return json.dumps({**base, **parts})

    cases = [
        ("{not json", "mapping", "not valid JSON"),
        ("[1, 2]", "mapping", "JSON object"),
        (
            changed(columns=[{"column": "Score", "measure_id": str(setup.sas)}]),
            "mapping.columns.0.column",
            "no column 'Score' in the file; its columns: 'UPN', 'SAS'",
        ),
        (changed(pupil={"by": "upn", "column": "Pupil"}), "mapping.pupil.column", "no column"),
        (
            changed(pupil={"by": "name_dob", "first_name": "UPN"}),
            "mapping.pupil.last_name",
            "Field required",
        ),
        (changed(pupil={"by": "passport", "column": "UPN"}), "mapping.pupil", "does not match"),
        (changed(columns=[]), "mapping.columns", "at least 1"),
        (changed(colums=[]), "mapping.colums", "unknown field"),
        (
            changed(assessment_point_id=str(world.points["A2"].id)),
            "mapping.assessment_point_id",
            "no such assessment point",
        ),
        (
            changed(columns=[{"column": "SAS", "measure_id": str(setup.other_trust_measure)}]),
            "mapping.columns.0.measure_id",
            "no such measure",
        ),
        (
            changed(
                columns=[
                    {"column": "SAS", "measure_id": str(setup.sas)},
                    {"column": "UPN", "measure_id": str(setup.sas)},
                ]
            ),
            "mapping.columns.1.measure_id",
            "already mapped from column 'SAS'",
        ),
        (changed(sheet="Summer"), "mapping.sheet", "no sheet 'Summer': the workbook has 'Scores'"),
        (changed(header_row=3), "mapping.header_row", "no row 3"),
        (changed(blank="delete"), "mapping.blank", "'skip' or 'clear'"),
    ]
    for text, field, words in cases:
        response = await post(
            client, world, setup, data, text, dry_run=True, filename="s.xlsx", content_type=XLSX
        )
        assert response.status_code == 422, (field, response.text)
        reasons = errors_of(response.json())
        assert field in reasons, (field, reasons)
        assert words in reasons[field], (field, reasons)


async def test_a_request_without_its_parts(client, world, session):
    setup = await arrange(session, world)
    url = f"/v1/schools/{setup.school_id}/values/imports"
    headers = world.headers("school_leader")
    no_file = await client.post(url, data={"mapping": "{}"}, headers=headers)
    assert no_file.status_code == 422 and "body.file" in errors_of(no_file.json())
    no_mapping = await client.post(
        url, files={"file": ("s.csv", b"UPN\r\n", "text/csv")}, headers=headers
    )
    assert "body.mapping" in errors_of(no_mapping.json())
    as_json = await client.post(url, json={"mapping": {}}, headers=headers)
    assert as_json.status_code == 422


async def test_a_file_with_no_rows_of_data(client, world, session, engine):
    setup = await arrange(session, world)
    text = mapping(setup.point_id, {"SAS": setup.sas})
    header_only = scores_csv(("UPN", "SAS"), [(None, None)])
    dry = await post(client, world, setup, header_only, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["rows"], dry.json()["totals"]) == (
        [],
        {"rows": 0, "with_errors": 0, "values": 0, "set_aside": 0},
    )
    committed = await post(client, world, setup, header_only, text, dry_run=False)
    assert committed.status_code == 422
    assert errors_of(committed.json()) == {"file": "the file has no rows of data below its header"}


# --- Building a mapping ------------------------------------------------------------------------


async def test_the_columns_of_a_file_for_building_a_mapping(client, world, session):
    setup = await arrange(session, world)
    url = f"/v1/schools/{setup.school_id}/values/imports/columns"
    headers = world.headers("teacher")
    taken = datetime(2025, 11, 3, 9, 30)
    rows = [(f"A{index}", date(2016, 1, index + 1), 90 + index, taken) for index in range(8)]
    workbook = scores_xlsx(("UPN", "DOB", "SAS", "Taken"), rows, sheet="Year 4", before=["Cover"])
    preview = await client.post(
        url,
        files={"file": ("ngrt.xlsx", workbook, XLSX)},
        data={"sheet": "year 4"},
        headers=headers,
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["format"] == "xlsx" and body["filename"] == "ngrt.xlsx"
    assert (body["sheets"], body["sheet"]) == (["Cover", "Year 4"], "Year 4")
    assert body["columns"] == ["UPN", "DOB", "SAS", "Taken"]
    assert body["total_rows"] == 8
    assert body["rows"][0] == {"row": 2, "cells": ["A0", "2016-01-01", 90, "2025-11-03 09:30:00"]}
    assert len(body["rows"]) == 5

    csv_data = provider_csv([("A1", "Pupil", "Ann", "04/03/2016", "F", "4T", 104, 6, 61)])
    preview = await client.post(
        url,
        files={"file": ("C:\\exports\\ngrt.csv", csv_data, "text/csv")},
        data={"header_row": "2"},
        headers=headers,
    )
    body = preview.json()
    assert (body["format"], body["filename"], body["sheets"]) == ("csv", "ngrt.csv", [])
    assert body["columns"][0] == "UPN" and body["rows"][0]["cells"][6] == "104"

    missing = await client.post(
        url, files={"file": ("n.xlsx", workbook, XLSX)}, data={"sheet": "Y5"}, headers=headers
    )
    assert missing.status_code == 422 and "body.sheet" in errors_of(missing.json())
