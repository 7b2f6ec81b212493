"""Charts as data: a report's Vega-Lite specifications (``charts=true``) carry exactly the
table's figures, keep suppressed figures suppressed, and render (vl-convert) with a title and a
text alternative."""

from __future__ import annotations

import html
from typing import Any

import httpx
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
