"""Score exports as providers write them (issue 16, item 7): dates month first, four sittings of
a test per pupil (keep the latest, the highest, or refuse), and MIS ids zero-padded by one
system and not by another. Each file imports as its mapping says, rows set aside are reported
with the row kept and why, and nothing is stored from a refused file."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.curriculum import Measure
from app.db.roster import Pupil
from app.domain.pupils import make_upn
from tests.api.test_score_imports import XLSX, errors_of, history_count, post, stored
from tests.support.roster import add_school_roster
from tests.support.score_files import mapping, scores_csv, scores_xlsx, us_sittings_csv
from tests.support.world import World

# The people of the US export: padded id -> surname, forename, birthdate (month first).
PEOPLE = {
    "000123": ("Lopez", "Maya", "11/20/2015"),
    "004567": ("Kim", "Noah", "01/15/2016"),
}


@dataclass
class Setup:
    school_id: uuid.UUID
    point_id: uuid.UUID
    scaled: uuid.UUID
    percentile: uuid.UUID
    maya: uuid.UUID  # MIS id "123": the export pads it to "000123"
    noah: uuid.UUID  # MIS id "004567": a spreadsheet drops its zeros
    maya_upn: str
    twins: tuple[uuid.UUID, uuid.UUID]  # MIS ids "789" and "0789"


async def arrange(session: AsyncSession, world: World) -> Setup:
    school = world.schools["A1"]
    await add_school_roster(
        session,
        school,
        serial=1,
        teacher_id=world.users["teacher"].id,
        job_creator_id=world.users["school_leader"].id,
    )

    def pupil(external_id: str, forename: str, surname: str, born: date, serial: int) -> Pupil:
        return Pupil(
            school_id=school.id,
            external_id=external_id,
            upn=make_upn(f"80199992{serial:04d}"),
            legal_forename=forename,
            legal_surname=surname,
            date_of_birth=born,
        )

    maya = pupil("123", "Maya", "Lopez", date(2015, 11, 20), 11)
    noah = pupil("004567", "Noah", "Kim", date(2016, 1, 15), 12)
    twins = [
        pupil(key, "Twin", "Ng", date(2016, 2, 2), 13 + i) for i, key in enumerate(("789", "0789"))
    ]
    scaled = Measure(
        name="Scaled score",
        code="US-SS",
        kind="number",
        minimum=Decimal(69),
        maximum=Decimal(141),
        decimals=0,
        school_id=school.id,
    )
    percentile = Measure(
        name="Percentile rank",
        code="US-PR",
        kind="number",
        minimum=Decimal(1),
        maximum=Decimal(99),
        decimals=0,
        school_id=school.id,
    )
    session.add_all([maya, noah, *twins, scaled, percentile])
    await session.commit()
    return Setup(
        school_id=school.id,
        point_id=world.points["A1"].id,
        scaled=scaled.id,
        percentile=percentile.id,
        maya=maya.id,
        noah=noah.id,
        maya_upn=maya.upn or "",
        twins=(twins[0].id, twins[1].id),
    )


def us_mapping(setup: Setup, **extra: Any) -> str:
    return mapping(
        setup.point_id,
        {"Scaled Score": setup.scaled, "Percentile Rank": setup.percentile},
        pupil={"by": "external_id", "column": "Student ID"},
        date_format="MM/DD/YYYY",
        **extra,
    )


def by_row(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["row"]: row for row in body["rows"]}


# The US export's rows: sitting by sitting, Maya then Noah (row 1 is the header).
MAYA_ROWS, NOAH_ROWS = [2, 4, 6, 8], [3, 5, 7, 9]


async def test_a_us_export_keeps_each_pupils_latest_sitting(client, world, session, engine):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    text = us_mapping(setup, sittings={"keep": "latest", "date_column": "Completed Date"})

    dry = await post(client, world, setup, data, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["totals"] == {"rows": 8, "with_errors": 0, "values": 4, "set_aside": 6}
    rows = by_row(body)
    # Padded "000123" is Maya's "123"; "004567" is Noah's, as stored.
    assert {rows[n]["pupil_id"] for n in MAYA_ROWS} == {str(setup.maya)}
    assert {rows[n]["pupil_id"] for n in NOAH_ROWS} == {str(setup.noah)}
    # Maya's latest is row 6 (20 November, 2:30 PM); Noah's row 7 (1 December).
    assert rows[6]["set_aside"] is None and rows[7]["set_aside"] is None
    assert [(v["value"], v["status"]) for v in rows[6]["values"]] == [
        (101, "written"),
        (53, "written"),
    ]
    assert rows[2]["set_aside"] == {
        "taken_row": 6,
        "reason": "an earlier sitting (2025-09-08): row 6 (2025-11-20 14:30:00) is the latest",
    }
    assert rows[4]["set_aside"]["reason"].startswith("an earlier sitting (2025-10-14 09:05:00)")
    assert rows[3]["set_aside"] == {
        "taken_row": 7,
        "reason": "an earlier sitting (2025-10-13): row 7 (2025-12-01) is the latest",
    }
    # Set-aside rows list their values as read, not to be stored.
    assert [(v["value"], v["status"]) for v in rows[3]["values"]] == [("115", None), ("84", None)]
    assert [(r["row"], r["taken_row"]) for r in body["set_aside"]] == [
        (2, 6),
        (3, 7),
        (4, 6),
        (5, 7),
        (8, 6),
        (9, 7),
    ]
    assert await stored(engine) == {}

    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 200, committed.text
    result = committed.json()
    assert (result["written"], result["totals"]["set_aside"]) == (4, 6)
    assert [r["row"] for r in result["set_aside"]] == [2, 3, 4, 5, 8, 9]
    assert await stored(engine) == {
        (setup.maya, setup.scaled): Decimal(101),
        (setup.maya, setup.percentile): Decimal(53),
        (setup.noah, setup.scaled): Decimal(108),
        (setup.noah, setup.percentile): Decimal(70),
    }
    assert await history_count(engine) == 4


async def test_the_same_export_keeping_the_highest(client, world, session, engine):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    text = us_mapping(setup, sittings={"keep": "highest", "score_column": "scaled score"})
    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 200, committed.text
    reasons = {r["row"]: (r["taken_row"], r["reason"]) for r in committed.json()["set_aside"]}
    assert reasons[6] == (4, "a lower score (101): row 4 (104) is the highest")
    assert reasons[7] == (3, "a lower score (108): row 3 (115) is the highest")
    assert await stored(engine) == {
        (setup.maya, setup.scaled): Decimal(104),
        (setup.maya, setup.percentile): Decimal(61),
        (setup.noah, setup.scaled): Decimal(115),
        (setup.noah, setup.percentile): Decimal(84),
    }


async def test_by_default_several_sittings_are_refused_and_nothing_is_stored(
    client, world, session, engine
):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    text = us_mapping(setup)
    dry = await post(client, world, setup, data, text, dry_run=True)
    rows = by_row(dry.json())
    assert rows[4]["errors"][0]["field"] == "file.row.4"
    assert rows[4]["errors"][0]["reason"].startswith("the same pupil as row 2")
    assert rows[9]["errors"][0]["reason"].startswith("the same pupil as row 3")
    assert all(row["set_aside"] is None for row in rows.values())

    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 422, committed.text
    assert committed.json()["rows_with_errors"] == [4, 5, 6, 7, 8, 9]
    assert await stored(engine) == {}
    assert await history_count(engine) == 0


async def test_a_us_export_read_day_first_is_refused_with_the_way_out(
    client, world, session, engine
):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    text = json.loads(
        us_mapping(setup, sittings={"keep": "latest", "date_column": "Completed Date"})
    )
    del text["date_format"]  # day first, the default
    committed = await post(client, world, setup, data, json.dumps(text), dry_run=False)
    assert committed.status_code == 422, committed.text
    errors = errors_of(committed.json())
    assert "file.row.4.Completed Date" in errors
    assert errors["file.row.4.Completed Date"] == (
        "'10/14/2025 9:05 AM' is not a real date read day first (DD/MM/YYYY); if the file "
        "writes dates month first, set the mapping's date_format to MM/DD/YYYY"
    )
    assert await stored(engine) == {}


async def test_pupils_named_and_born_on_us_dates(client, world, session, engine):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    text = mapping(
        setup.point_id,
        {"Scaled Score": setup.scaled},
        pupil={
            "by": "name_dob",
            "first_name": "Student First Name",
            "last_name": "Student Last Name",
            "date_of_birth": "Birthdate",
        },
        date_format="MM/DD/YYYY",
        sittings={"keep": "highest"},  # the only mapped column decides
    )
    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 200, committed.text
    assert await stored(engine) == {
        (setup.maya, setup.scaled): Decimal(104),
        (setup.noah, setup.scaled): Decimal(115),
    }


async def test_an_xlsx_with_four_sittings_keeps_the_latest_of_the_highest(
    client, world, session, engine
):
    setup = await arrange(session, world)
    header = ("MIS ID", "UPN", "Test date", "SS", "PR")
    rows = [
        # Noah's id as a number cell: the spreadsheet dropped the zeros of "004567".
        (4567, None, datetime(2025, 9, 9, 10, 15), 110, 75),  # 2
        (4567, None, datetime(2025, 10, 13, 9, 0), 115, 84),  # 3: highest, earlier
        (4567, None, datetime(2025, 11, 17, 13, 40), 115, 85),  # 4: highest, latest
        (4567, None, date(2025, 12, 1), 108, 70),  # 5
        # Maya by UPN, as a teacher typed it (lower case, spaces); her id is left blank.
        (None, f" {setup.maya_upn[:4].lower()} {setup.maya_upn[4:]} ", "09/08/2025", 98, 45),
        (None, setup.maya_upn, "10/14/2025 9:05 AM", 104, 61),  # 7: highest, latest
        (None, setup.maya_upn, "2025-09-20", 104, 61),  # 8: highest, earlier
        (None, setup.maya_upn, "11/03/2025", 95, 38),
    ]
    data = scores_xlsx(header, rows, sheet="All tests")
    columns = {"SS": setup.scaled, "PR": setup.percentile}
    sittings = {"keep": "highest", "score_column": "SS", "date_column": "Test date"}
    by_id = mapping(
        setup.point_id,
        columns,
        pupil={"by": "external_id", "column": "MIS ID"},
        date_format="MM/DD/YYYY",
        sittings=sittings,
    )

    def send(text: str, dry_run: bool):  # type: ignore[no-untyped-def]
        return post(
            client,
            world,
            setup,
            data,
            text,
            dry_run=dry_run,
            filename="all-tests.xlsx",
            content_type=XLSX,
        )

    # Keyed by MIS id, Maya's rows (no id) are refused, and the whole file with them.
    refused = await send(by_id, False)
    assert refused.status_code == 422
    assert refused.json()["rows_with_errors"] == [6, 7, 8, 9]
    assert await stored(engine) == {}

    # Named by UPN (Noah's in lower case), every row has its pupil.
    noah_upn = (await upn_of(session, setup.noah)).lower()
    rows_by_upn = [(noah_upn if r[0] == 4567 else None, r[1], *r[2:]) for r in rows]
    named = [(r[0] or r[1], *r[2:]) for r in rows_by_upn]
    data = scores_xlsx(("UPN", *header[2:]), named, sheet="All tests")
    by_upn = mapping(setup.point_id, columns, date_format="MM/DD/YYYY", sittings=sittings)
    dry = await send(by_upn, True)
    assert dry.status_code == 200, dry.text
    body = by_row(dry.json())
    assert body[3]["set_aside"] == {
        "taken_row": 4,
        "reason": "an equal score from an earlier sitting (2025-10-13 09:00:00): row 4 "
        "(2025-11-17 13:40:00) is the latest of the highest",
    }
    assert body[8]["set_aside"]["taken_row"] == 7
    committed = await send(by_upn, False)
    assert committed.status_code == 200, committed.text
    assert await stored(engine) == {
        (setup.maya, setup.scaled): Decimal(104),
        (setup.maya, setup.percentile): Decimal(61),
        (setup.noah, setup.scaled): Decimal(115),
        (setup.noah, setup.percentile): Decimal(85),
    }


async def upn_of(session: AsyncSession, pupil_id: uuid.UUID) -> str:
    pupil = await session.get(Pupil, pupil_id)
    assert pupil is not None and pupil.upn is not None
    return pupil.upn


async def test_zero_padded_ids_match_only_where_unambiguous(client, world, session, engine):
    setup = await arrange(session, world)
    header = ("Student ID", "Scaled Score")
    rows = [
        ("0000123", 100),  # 2: Maya's "123"
        ("4567", 101),  # 3: Noah's "004567"
        ("789", 102),  # 4: "789" or "0789"?
        ("00789", 103),  # 5: the same
        ("T-123", 104),  # 6: not digits: matched as written, no such id
        ("123 ", 105),  # 7: Maya again (spaces around are ignored)
    ]
    data = scores_csv(header, rows)
    text = mapping(
        setup.point_id,
        {"Scaled Score": setup.scaled},
        pupil={"by": "external_id", "column": "Student ID"},
    )
    dry = await post(client, world, setup, data, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    body = by_row(dry.json())
    assert body[2]["pupil_id"] == str(setup.maya) and body[2]["errors"] == []
    assert body[3]["pupil_id"] == str(setup.noah) and body[3]["errors"] == []
    for number in (4, 5):
        assert body[number]["pupil_id"] is None
        assert body[number]["errors"][0]["field"] == f"file.row.{number}.Student ID"
        assert "could be more than one pupil's" in body[number]["errors"][0]["reason"]
    assert "no pupil in this school with MIS id 'T-123'" in body[6]["errors"][0]["reason"]
    assert body[7]["errors"][0]["reason"].startswith("the same pupil as row 2")
    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 422
    assert await stored(engine) == {}

    # A teacher who teaches neither twin is told no more than about any pupil out of reach.
    teacher = await post(
        client,
        world,
        setup,
        scores_csv(header, [("0123", 100)]),
        text,
        dry_run=True,
        who="teacher",
    )
    assert "among those you may record for" in teacher.json()["rows"][0]["errors"][0]["reason"]


async def test_two_latest_sittings_with_different_results_are_refused(
    client, world, session, engine
):
    setup = await arrange(session, world)
    sittings = {
        "000123": [("11/20/2025", 101, 53), ("11/20/2025", 99, 48), ("09/08/2025", 98, 45)],
        "004567": [("12/01/2025", 108, 70), ("12/01/2025", 108, 70)],  # exported twice
    }
    data = us_sittings_csv(PEOPLE, sittings)
    text = us_mapping(setup, sittings={"keep": "latest", "date_column": "Completed Date"})
    dry = await post(client, world, setup, data, text, dry_run=True)
    rows = by_row(dry.json())
    assert rows[2]["errors"][0]["reason"] == (
        "this pupil's sitting in row 4 is as late (2025-11-20) with different results: keep "
        "only the sitting to store"
    )
    assert rows[4]["errors"][0]["field"] == "file.row.4"
    assert rows[5]["set_aside"] == {"taken_row": 3, "reason": "the same results as row 3"}
    committed = await post(client, world, setup, data, text, dry_run=False)
    assert committed.status_code == 422
    assert committed.json()["rows_with_errors"] == [2, 4]
    assert await stored(engine) == {}


async def test_mapping_mistakes_about_dates_and_sittings_name_the_field(client, world, session):
    setup = await arrange(session, world)
    data = us_sittings_csv(PEOPLE)
    base = json.loads(us_mapping(setup))

    def changed(**parts: Any) -> str:
        return json.dumps({**base, **parts})

    cases = [
        (changed(date_format="DD-MMM-YY"), "mapping.date_format", "'DD/MM/YYYY'"),
        (changed(sittings={"keep": "best"}), "mapping.sittings.keep", "'latest'"),
        (changed(sittings={"keep": "latest"}), "mapping.sittings.date_column", "required"),
        (
            changed(sittings={"keep": "latest", "date_column": "Taken"}),
            "mapping.sittings.date_column",
            "no column 'Taken' in the file",
        ),
        (changed(sittings={"keep": "highest"}), "mapping.sittings.score_column", "required"),
        (
            changed(sittings={"keep": "highest", "score_column": "Score"}),
            "mapping.sittings.score_column",
            "no column 'Score'",
        ),
        (changed(sittings={"keep": "latest", "when": "x"}), "mapping.sittings.when", "unknown"),
    ]
    for text, field, words in cases:
        for dry_run in (True, False):
            response = await post(client, world, setup, data, text, dry_run=dry_run)
            assert response.status_code == 422, (field, response.text)
            reasons = errors_of(response.json())
            assert field in reasons, (field, reasons)
            assert words in reasons[field], (field, reasons)
