"""Charts as data: a report's Vega-Lite specifications (``charts=true``) carry exactly the
table's figures, keep suppressed figures suppressed, and render (vl-convert) with a title and a
text alternative."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pypdfium2
import pytest

from app.reports.pictures import render_svg
from tests.support.reports import StarterSchool, school_with_values


@pytest.fixture
async def school(client: httpx.AsyncClient, world: Any) -> StarterSchool:
    return await school_with_values(client, world)


async def _report(client, world, school, code: str, who: str) -> dict[str, Any]:
    url = f"/v1/schools/{school.school_id}/report-templates/{school.templates[code]}/report"
    answer = await client.get(url, params={"charts": "true"}, headers=world.headers(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _table_values(report: dict[str, Any]) -> set[float]:
    return {
        cell["value"]
        for section in report["sections"]
        for row in section["rows"]
        for cell in row["cells"]
        if cell["value"] is not None
    }


async def test_each_template_has_its_natural_pictures_with_the_table_s_figures(
    client, world, school
):
    kinds = {}
    for code in ("DATA-ON-A-PAGE", "BELOW-AT-ABOVE", "PROGRESS-MATRIX"):
        report = await _report(client, world, school, code, "school_leader")
        kinds[code] = {spec["usermeta"]["markbook"]["kind"] for spec in report["charts"]}
        figures = _table_values(report)
        for spec in report["charts"]:
            for datum in spec["data"]["values"]:
                for field in ("percent", "value", "pupils"):
                    if datum.get(field) is not None:
                        assert datum[field] in figures, (code, field, datum)
    assert kinds["DATA-ON-A-PAGE"] == {"comparison", "trend"}
    assert kinds["BELOW-AT-ABOVE"] == {"distribution"}
    assert "matrix" in kinds["PROGRESS-MATRIX"]

    # Without asking, no charts: the JSON stays as it was.
    template = school.templates["BELOW-AT-ABOVE"]
    url = f"/v1/schools/{school.school_id}/report-templates/{template}/report"
    plain = await client.get(url, headers=world.headers("school_leader"))
    assert "charts" not in plain.json() or plain.json()["charts"] is None


async def test_a_governor_s_charts_keep_small_groups_suppressed(client, world, school):
    report = await _report(client, world, school, "BELOW-AT-ABOVE", "governor")
    (chart,) = report["charts"]
    data = chart["data"]["values"]
    hidden = [d for d in data if d["shown"] == "c"]
    assert hidden, "the pupil premium groups (3 and 5 pupils) are suppressed"
    assert all(d["percent"] is None for d in hidden)
    assert all("n" not in d for d in data)  # no counts behind a picture
    assert "suppressed" in chart["description"]


async def test_every_chart_renders_with_a_title_and_a_text_alternative(client, world, school):
    for code in ("DATA-ON-A-PAGE", "BELOW-AT-ABOVE", "PROGRESS-MATRIX"):
        report = await _report(client, world, school, code, "governor")
        for spec in report["charts"]:
            svg = html.unescape(render_svg(spec).decode())
            assert svg.startswith('<svg role="img"') and "<text" in svg
            assert f'<title id="chart-title">{spec["title"]["text"]}</title>' in svg
            assert f'<desc id="chart-desc">{spec["description"]}</desc>' in svg


async def test_a_chart_is_served_as_an_accessible_svg_or_a_png(client, world, school):
    template = school.templates["BELOW-AT-ABOVE"]
    url = f"/v1/schools/{school.school_id}/report-templates/{template}/charts"
    svg = await client.get(f"{url}/0", headers=world.headers("governor"))
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"] == "image/svg+xml"
    text = svg.text
    assert text.startswith('<svg role="img" aria-labelledby="chart-title chart-desc"')
    assert '<title id="chart-title">Below, at and above</title>' in text
    assert '<desc id="chart-desc">' in text and "suppressed" in text
    assert ">c</text>" in text  # the pupil premium groups, suppressed for a governor
    assert "suppressed" in svg.headers["x-chart-description"]

    png = await client.get(f"{url}/0", params={"image": "png"}, headers=world.headers("governor"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")

    missing = await client.get(f"{url}/9", headers=world.headers("governor"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "this report has 1 charts (0 to 0)"


async def test_graphql_gives_the_same_charts_as_rest(client, world, school):
    query = "query ($s: UUID!) { school(id: $s) { reportTemplates { code run { charts } } } }"
    answer = await client.post(
        "/graphql",
        json={"query": query, "variables": {"s": str(school.school_id)}},
        headers=world.headers("governor"),
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    templates = answer.json()["data"]["school"]["reportTemplates"]
    for template in templates:
        rest = await _report(client, world, school, template["code"], "governor")
        assert template["run"]["charts"] == rest["charts"], template["code"]


async def test_a_template_prints_as_a_pdf_pack(client, world, school):
    template = school.templates["DATA-ON-A-PAGE"]
    url = f"/v1/schools/{school.school_id}/report-templates/{template}/report"
    pack = await client.get(url, params={"format": "pdf"}, headers=world.headers("governor"))
    assert pack.status_code == 200, pack.text
    assert pack.headers["content-type"] == "application/pdf"
    assert pack.headers["content-disposition"] == 'attachment; filename="data-on-a-page.pdf"'
    assert pack.content.startswith(b"%PDF-") and pack.content.rstrip().endswith(b"%%EOF")
    assert pack.content.count(b"/Type /Page\n") >= 1
    by_accept = await client.get(
        url, headers={**world.headers("governor"), "Accept": "application/pdf"}
    )
    assert by_accept.headers["content-type"] == "application/pdf"


async def test_below_at_and_above_are_drawn_in_the_scale_s_own_colours(client, world, school):
    """The starter teacher-assessment scale colours WTS, EXS and GDS; the chart uses them
    (they stand apart in greyscale: app.domain.colours), the fixed palette for the rest, and
    white or black figures on each, whichever reads better."""
    report = await _report(client, world, school, "BELOW-AT-ABOVE", "governor")
    (chart,) = report["charts"]
    bars = chart["spec"]["layer"][0]
    scale = bars["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours["Below"] == "#D1495B"
    assert colours["At"] == "#66A182"
    assert colours["Above"] == "#2E4057"
    assert colours["Not assessed"] == "#D9DCE1"
    assert bars["mark"]["stroke"] == "#FFFFFF"  # parts kept apart however they print
    assert bars["encoding"]["color"]["sort"] == ["Below", "At", "Above", *scale["domain"][3:]]
    white_on = chart["spec"]["layer"][1]["encoding"]["color"]["condition"]["test"]
    assert "Above" in white_on and "At'" not in white_on


async def test_a_trust_s_template_prints_the_trust_s_page_then_a_page_per_school(
    client, world, school
):
    created = await client.post(
        "/v1/report-templates",
        json={
            "code": "TRUST-PACK",
            "name": "Trust pack",
            "trust_id": str(world.trusts["A"].id),
            "definition": {
                "title": "Below, at and above",
                "metrics": ["pupils", "attainment"],
                "dimensions": ["subject"],
                "points": ["AUT"],
                "attainment": [{"subject": "MA", "measure": "MATH-TA"}],
            },
        },
        headers=world.headers("trust_admin"),
    )
    assert created.status_code == 201, created.text
    url = f"/v1/trusts/{world.trusts['A'].id}/report-templates/{created.json()['id']}/report"
    pack = await client.get(url, params={"format": "pdf"}, headers=world.headers("trust_analyst"))
    assert pack.status_code == 200, pack.text
    assert pack.headers["content-type"] == "application/pdf"
    assert pack.headers["content-disposition"] == 'attachment; filename="below-at-and-above.pdf"'
    document = pypdfium2.PdfDocument(pack.content)
    texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    # Trust A has schools A1 and A2: the trust's page, then each school's where the report
    # runs (A2 has not taken the starter pack: no MATH-TA there, so no page).
    assert len(texts) == 2
    assert texts[0].startswith("Trust A: Below, at and above")
    assert texts[1].startswith("School A1: Below, at and above")
    # A1's governor gets the trust's report over the schools they see (A1), suppressed, and
    # A1's page; another trust's admin does not find the trust (as for its JSON).
    governor = await client.get(url, params={"format": "pdf"}, headers=world.headers("governor"))
    assert governor.status_code == 200, governor.text
    document = pypdfium2.PdfDocument(governor.content)
    texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    assert len(texts) == 2 and texts[1].startswith("School A1: Below, at and above")
    assert all("pupils are shown as c" in text for text in texts)
    other = await client.get(
        url, params={"format": "pdf"}, headers=world.headers("other_trust_admin")
    )
    assert other.status_code == 404
    # JSON is still the trust's one table.
    table = await client.get(url, headers=world.headers("trust_analyst"))
    assert table.status_code == 200 and table.json()["title"] == "Below, at and above"
