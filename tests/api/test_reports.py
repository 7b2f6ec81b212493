"""Reports through the API: the starter pack's templates run by a head, a governor, a teacher
and a trust analyst, each seeing what they need; CSV and XLSX exports; templates created,
versioned, archived and audited; the pupils behind a progress-matrix cell; and bad input
refused with a 422 naming the field, with nothing stored.

Figures come from measure values at the starter pack's points (teacher assessment and
standardised scores, entered by point), so they do not depend on the date the tests run."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl
import pytest

from app.db.people import RoleGrant
from app.domain.roles import Role
from tests.support.reports import (
    StarterSchool,
    school_with_values,
    starter_school,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def school(client: httpx.AsyncClient, world: Any) -> StarterSchool:
    return await school_with_values(client, world)


def _cells(report: dict[str, Any], section: int = 0) -> dict[tuple[Any, ...], dict[str, Any]]:
    """(subject, year group, group label, column key) -> cell."""
    part = report["sections"][section]
    found = {}
    for row in part["rows"]:
        labels = tuple(row["labels"].values())
        for column, cell in zip(part["columns"], row["cells"], strict=True):
            found[(*labels, column["key"])] = cell
    return found


ALL_MATHS = ("Mathematics", "Year 4", "All pupils")


async def _run(client: httpx.AsyncClient, url: str, headers: Any, **params: Any) -> httpx.Response:
    return await client.get(url, params=params, headers=headers)


# --- Who sees what ------------------------------------------------------------------------------
async def test_data_on_a_page_for_a_head_a_governor_a_teacher_and_a_trust_analyst(
    client, world, school
):
    page = school.templates["DATA-ON-A-PAGE"]
    url = f"/v1/schools/{school.school_id}/report-templates/{page}/report"

    head = await _run(client, url, world.headers("school_leader"))
    assert head.status_code == 200, head.text
    report = head.json()
    assert report["title"] == "Data on a page" and report["suppress_below"] is None
    cells = _cells(report)
    assert cells[(*ALL_MATHS, "0.pupils.0")] == {"value": 8, "n": 8, "suppressed": False}
    # Autumn TA: EXS x4, GDS x2 at or above; WTS x2 below.
    assert cells[(*ALL_MATHS, "2.percent_at_or_above.0")]["value"] == 75.0
    assert cells[(*ALL_MATHS, "3.measure_mean.0")]["value"] == 100.0
    pp = ("Mathematics", "Year 4", "Pupil premium: Pupil premium")
    assert cells[(*pp, "0.pupils.0")]["value"] == 3
    assert cells[(*pp, "2.percent_at_or_above.0")]["value"] == pytest.approx(66.7)

    governor = await _run(client, url, world.headers("governor"))
    assert governor.status_code == 200, governor.text
    hidden = governor.json()
    assert hidden["suppress_below"] == 6
    seen = _cells(hidden)
    assert seen[(*ALL_MATHS, "0.pupils.0")]["value"] == 8
    # Three pupil premium pupils, five others: both counts hidden, and every figure over them.
    assert seen[(*pp, "0.pupils.0")] == {"value": None, "n": None, "suppressed": True}
    assert seen[(*pp, "2.percent_at_or_above.0")]["suppressed"]
    for cell in seen.values():
        assert cell["suppressed"] or cell["n"] in (None, 0) or cell["n"] >= 6
    assert any(note.startswith("c: suppressed") for note in hidden["notes"])

    teacher = await _run(client, url, world.headers("teacher"))
    assert teacher.status_code == 200, teacher.text
    taught = _cells(teacher.json())
    assert teacher.json()["suppress_below"] is None
    assert taught[(*ALL_MATHS, "0.pupils.0")]["value"] == 5  # 4A only

    trust_url = f"/v1/trusts/{world.trusts['A'].id}/reports"
    definition = {**(await _template(client, world, page))["definition"]}
    analyst = await client.post(
        trust_url, json={"definition": definition}, headers=world.headers("trust_analyst")
    )
    assert analyst.status_code == 200, analyst.text
    assert analyst.json()["suppress_below"] is None
    assert _cells(analyst.json())[(*ALL_MATHS, "0.pupils.0")]["value"] == 8

    for outsider in ("pupil", "parent", "other_school_leader"):
        refused = await _run(client, url, world.headers(outsider))
        assert refused.status_code == 404, (outsider, refused.text)


async def _template(client: httpx.AsyncClient, world: Any, template_id: str) -> dict[str, Any]:
    found = await client.get(
        f"/v1/report-templates/{template_id}", headers=world.headers("school_leader")
    )
    assert found.status_code == 200, found.text
    return found.json()


async def test_the_schools_threshold_is_a_setting_never_below_3(client, world, school):
    url = f"/v1/schools/{school.school_id}"
    leader = world.headers("school_leader")
    assert (await client.get(url, headers=leader)).json()["report_threshold"] == 6
    low = await client.patch(url, json={"report_threshold": 2}, headers=leader)
    assert low.status_code == 422
    assert low.json()["errors"][0]["field"] == "body.report_threshold"
    raised = await client.patch(url, json={"report_threshold": 9}, headers=leader)
    assert raised.status_code == 200 and raised.json()["report_threshold"] == 9
    report = await _run(
        client,
        f"{url}/report-templates/{school.templates['BELOW-AT-ABOVE']}/report",
        world.headers("governor"),
    )
    assert report.json()["suppress_below"] == 9
    # Eight pupils in all, under 9: the governor sees no count at all.
    assert all(
        cell["suppressed"] or cell["value"] in (None, 0) for cell in _cells(report.json()).values()
    )


# --- Exports -----------------------------------------------------------------------------------
AT_RISK = {
    "title": "Risk",
    "metrics": ["pupils", "percent_at_or_above"],
    "dimensions": ["subject"],
    "groups": ["group:@risk"],
    "points": ["AUT"],
    "filters": [{"dimension": "subject", "values": ["MA"]}],
    "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
}


async def test_a_csv_export_is_utf8_with_c_for_suppressed_and_no_formulas(client, world, school):
    url = f"/v1/schools/{school.school_id}/reports"
    answer = await client.post(
        url,
        params={"format": "csv", "bom": "true"},
        json={"definition": AT_RISK},
        headers=world.headers("governor"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="risk.csv"'
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["Subject", "Group", "Pupils (Autumn)", "% at or above (Autumn)"]
    # Two pupils in the group: hidden, with whatever would give them away (here every figure
    # over the other six, and so the % of all eight).
    assert rows[1] == ["Mathematics", "All pupils", "8", "c"]
    # "@risk: @risk" would run as a formula in a spreadsheet: written as text.
    risk = next(r for r in rows if r and r[1].startswith("'@risk"))
    assert risk[1] == "'@risk: @risk" and risk[2:] == ["c", "c"]
    assert any(r and r[0].startswith("c: suppressed") for r in rows)

    by_accept = await client.post(
        url,
        json={"definition": AT_RISK},
        headers={**world.headers("governor"), "Accept": "text/csv"},
    )
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.content.decode() == text.removeprefix("\ufeff")


async def test_an_xlsx_export_has_typed_numbers_a_frozen_header_and_the_key(client, world, school):
    url = (
        f"/v1/schools/{school.school_id}/report-templates/"
        f"{school.templates['PROGRESS-MATRIX']}/report"
    )
    answer = await client.get(url, headers={**world.headers("governor"), "Accept": XLSX})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"] == 'attachment; filename="progress-matrix.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert len(book.sheetnames) == 2  # the table, and the matrix
    sheet = book[book.sheetnames[0]]
    assert sheet.freeze_panes == "A2"
    read = list(sheet.iter_rows(values_only=True))
    assert read[0][:3] == ("Subject", "Year group", "Group")
    first = next(r for r in read[1:] if r[:3] == ALL_MATHS)
    assert first[3] == 8 and isinstance(first[3], int)
    assert any("c" in row[3:] for row in read[1:])  # the governor's small groups
    assert any(r[0] and str(r[0]).startswith("c: suppressed") for r in read)

    head = await client.get(url, params={"format": "xlsx"}, headers=world.headers("school_leader"))
    values = list(openpyxl.load_workbook(io.BytesIO(head.content)).worksheets[0].values)
    assert all(cell != "c" for row in values[1:] for cell in row[3:])


# --- Templates ---------------------------------------------------------------------------------
async def test_templates_are_versioned_archived_and_audited(client, world, school):
    leader = world.headers("school_leader")
    owner = {"school_id": str(school.school_id)}
    first = {
        "metrics": ["pupils"],
        "dimensions": ["subject"],
        "points": ["AUT"],
        "filters": [{"dimension": "subject", "values": ["MA"]}],
    }
    created = await client.post(
        "/v1/report-templates",
        json={"code": "MA-AUT", "name": "Maths at autumn", "definition": first, **owner},
        headers=leader,
    )
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["version"] == 1 and created.headers["location"].endswith(template["id"])
    assert template["definition"]["metrics"] == [{"metric": "pupils"}]

    # Adding a measure adds its column; version 1 stays runnable as it was.
    second = {**first, "metrics": ["pupils", {"metric": "measure_mean", "measure": "STD-MATH"}]}
    changed = await client.patch(
        f"/v1/report-templates/{template['id']}", json={"definition": second}, headers=leader
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    url = f"/v1/schools/{school.school_id}/report-templates/{template['id']}/report"
    now = (await _run(client, url, leader)).json()
    then = (await _run(client, url, leader, version=1)).json()
    assert [c["key"] for c in now["sections"][0]["columns"]] == ["0.pupils.0", "1.measure_mean.0"]
    assert [c["key"] for c in then["sections"][0]["columns"]] == ["0.pupils.0"]
    missing = await _run(client, url, leader, version=7)
    assert missing.status_code == 404
    versions = await client.get(f"/v1/report-templates/{template['id']}/versions", headers=leader)
    assert [v["version"] for v in versions.json()["items"]] == [1, 2]

    # Read by the governor and teacher (they run reports here); written only by writers.
    for reader in ("governor", "teacher", "trust_analyst"):
        seen = await client.get(
            f"/v1/report-templates/{template['id']}", headers=world.headers(reader)
        )
        assert seen.status_code == 200, reader
    refused = await client.patch(
        f"/v1/report-templates/{template['id']}",
        json={"name": "Mine"},
        headers=world.headers("governor"),
    )
    assert refused.status_code == 403

    archived = await client.patch(
        f"/v1/report-templates/{template['id']}", json={"archived": True}, headers=leader
    )
    assert archived.json()["archived"] is True and archived.json()["version"] == 2
    listed = await client.get("/v1/report-templates", params=owner, headers=leader)
    assert template["id"] not in {t["id"] for t in listed.json()["items"]}
    with_archived = await client.get(
        "/v1/report-templates", params={**owner, "include_archived": "true"}, headers=leader
    )
    assert template["id"] in {t["id"] for t in with_archived.json()["items"]}

    events = await client.get(
        "/v1/audit-events",
        params={"entity_type": "report_template", "entity_id": template["id"]},
        headers=leader,
    )
    assert [e["action"] for e in events.json()["items"]] == ["create", "update", "update"]


async def test_a_trusts_templates_are_shared_with_its_schools_only(client, world, school):
    admin = world.headers("trust_admin")
    created = await client.post(
        "/v1/report-templates",
        json={
            "code": "TRUST-PAGE",
            "name": "Trust page",
            "trust_id": str(world.trusts["A"].id),
            "definition": {
                "metrics": ["pupils"],
                "dimensions": ["subject", "school"],
                "points": ["AUT"],
            },
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    at_a1 = await _run(
        client,
        f"/v1/schools/{school.school_id}/report-templates/{template_id}/report",
        world.headers("school_leader"),
    )
    assert at_a1.status_code == 200, at_a1.text
    across = await _run(
        client,
        f"/v1/trusts/{world.trusts['A'].id}/report-templates/{template_id}/report",
        world.headers("trust_analyst"),
    )
    assert across.status_code == 200, across.text
    # Trust B's admin: not theirs to see, nor to run at B1.
    other = world.headers("other_trust_admin")
    assert (
        await client.get(f"/v1/report-templates/{template_id}", headers=other)
    ).status_code == 404
    at_b1 = await _run(
        client,
        f"/v1/schools/{world.schools['B1'].id}/report-templates/{template_id}/report",
        other,
    )
    assert at_b1.status_code == 404
    # A school's own template is not the trust's: not found across the trust.
    own = school.templates["DATA-ON-A-PAGE"]
    assert (
        await _run(
            client,
            f"/v1/trusts/{world.trusts['A'].id}/report-templates/{own}/report",
            world.headers("trust_admin"),
        )
    ).status_code == 404


# --- The pupils behind a matrix cell ----------------------------------------------------------
async def test_leaders_and_teachers_list_the_pupils_behind_a_cell_governors_never(
    client, world, school
):
    url = f"/v1/schools/{school.school_id}/reports/matrix-pupils"
    body = {
        "template_id": school.templates["PROGRESS-MATRIX"],
        "metric": 1,
        "keys": {"subject": "MA", "year_group": "4", "group": None, "group_value": None},
        "from_category": "at",
        "to_category": "above",
    }
    head = await client.post(url, json=body, headers=world.headers("school_leader"))
    assert head.status_code == 200, head.text
    # EXS at autumn, GDS at summer: p0 only.
    assert [p["id"] for p in head.json()["pupils"]] == [str(school.pupils[0])]
    stayed = await client.post(
        url,
        json={**body, "from_category": "at", "to_category": "at"},
        headers=world.headers("teacher"),
    )
    # EXS both times: p3, p4 (4A) and p5 (4B, not the teacher's).
    assert {p["id"] for p in stayed.json()["pupils"]} == {str(school.pupils[i]) for i in (3, 4)}
    governor = await client.post(url, json=body, headers=world.headers("governor"))
    assert governor.status_code == 403
    not_a_matrix = await client.post(
        url, json={**body, "metric": 0}, headers=world.headers("school_leader")
    )
    assert not_a_matrix.status_code == 422
    assert not_a_matrix.json()["errors"][0]["field"] == "body.metric"


async def test_a_teacher_who_is_also_a_governor_gets_the_whole_school_as_a_governor(
    client, world, school, session
):
    # A staff governor: their reports cover the whole school (as governor), but they read
    # only the pupils they teach, so they get the governor's view: suppressed, no pupils.
    session.add(
        RoleGrant(user_id=world.users["teacher"].id, role=Role.GOVERNOR, school_id=school.school_id)
    )
    await session.commit()
    headers = world.headers("teacher")
    page = school.templates["DATA-ON-A-PAGE"]
    url = f"/v1/schools/{school.school_id}/report-templates/{page}/report"
    report = await _run(client, url, headers)
    assert report.status_code == 200, report.text
    assert report.json()["suppress_below"] == 6
    cells = _cells(report.json())
    assert cells[(*ALL_MATHS, "0.pupils.0")]["value"] == 8
    pp = ("Mathematics", "Year 4", "Pupil premium: Pupil premium")
    assert cells[(*pp, "0.pupils.0")]["suppressed"]
    listed = await client.post(
        f"/v1/schools/{school.school_id}/reports/matrix-pupils",
        json={
            "template_id": school.templates["PROGRESS-MATRIX"],
            "metric": 1,
            "keys": {"subject": "MA", "year_group": "4", "group": None, "group_value": None},
            "from_category": "at",
            "to_category": "at",
        },
        headers=headers,
    )
    assert listed.status_code == 403, listed.text


# --- Bad input ---------------------------------------------------------------------------------
BASE = {
    "metrics": ["pupils"],
    "dimensions": ["subject"],
    "points": ["AUT"],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": ["pupils", "mode"]}, "body.definition.metrics.1.metric"),
        ({"dimensions": ["subject", "house"]}, "body.definition.dimensions.1"),
        ({"points": ["AUT", "WINTER"]}, "body.definition.points.1"),
        ({"suppress_below": 2}, "body.definition.suppress_below"),
        (
            {
                "metrics": [{"metric": "progress_matrix"}],
                "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
            },
            "body.definition.metrics.0",
        ),
        (
            {
                "dimensions": ["subject", "year_group", "class", "school"],
                "groups": [
                    "ethnicity",
                    "sen_status",
                    "sex",
                    "eal",
                    "fsm",
                    "pupil_premium",
                    "looked_after",
                ],
                "metrics": [
                    "pupils",
                    "attainment",
                    "percent_secured",
                    "depth_score",
                    "objectives_judged",
                    "percent_secured_of_year",
                ],
                "points": ["AUT", "SPR", "SUM"],
                "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
                "filters": [],
            },
            "body.definition.dimensions",
        ),
    ],
    ids=["metric", "dimension", "point", "threshold", "matrix-one-point", "too-large"],
)
async def test_bad_definitions_are_refused_naming_the_field(client, world, school, change, field):
    answer = await client.post(
        f"/v1/schools/{school.school_id}/reports",
        json={"definition": {**BASE, **change}},
        headers=world.headers("school_leader"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field


async def test_refused_templates_store_nothing(client, world, school):
    leader = world.headers("school_leader")
    a2 = await starter_school(client, world, "A2", "other_school_leader", [{}])
    before = await client.get(
        "/v1/report-templates", params={"include_archived": "true", "limit": 1000}, headers=leader
    )
    events = await client.get("/v1/audit-events", params={"limit": 1000}, headers=leader)
    owner = {"school_id": str(school.school_id)}
    a2_measure = a2.measures["STD-MATH"]
    cases = [
        # A measure of another school (A2's, by id) is none of A1's.
        (
            {
                **owner,
                "definition": {
                    **BASE,
                    "metrics": [{"metric": "measure_mean", "measure": a2_measure}],
                },
            },
            "body.definition.metrics.0.measures.0",
            422,
        ),
        (
            {**owner, "definition": {**BASE, "metrics": ["median"]}},
            "body.definition.metrics.0.metric",
            422,
        ),
        (
            {**owner, "definition": {**BASE, "suppress_below": 1}},
            "body.definition.suppress_below",
            422,
        ),
        # A template of another trust: trust B is out of the leader's reach.
        ({"trust_id": str(world.trusts["B"].id), "definition": BASE}, "body.trust_id", 422),
    ]
    for extra, field, status in cases:
        answer = await client.post(
            "/v1/report-templates",
            json={"code": "BAD", "name": "Bad", **extra},
            headers=leader,
        )
        assert answer.status_code == status, (field, answer.text)
        assert answer.json()["errors"][0]["field"] == field
    existing = school.templates["DATA-ON-A-PAGE"]
    bad_patch = await client.patch(
        f"/v1/report-templates/{existing}",
        json={"definition": {**BASE, "points": []}},
        headers=leader,
    )
    assert bad_patch.status_code == 422
    assert bad_patch.json()["errors"][0]["field"] == "body.definition.points"
    after = await client.get(
        "/v1/report-templates", params={"include_archived": "true", "limit": 1000}, headers=leader
    )
    assert after.json() == before.json()
    assert (
        await client.get("/v1/audit-events", params={"limit": 1000}, headers=leader)
    ).json() == (events.json())


async def test_as_at_across_a_trust_is_refused_naming_the_point(client, world, school):
    answer = await client.post(
        f"/v1/trusts/{world.trusts['A'].id}/reports",
        json={
            "definition": {
                **BASE,
                "metrics": ["percent_secured"],
                "points": [{"as_at": "2026-10-01"}],
            }
        },
        headers=world.headers("trust_admin"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "body.definition.points.0"
