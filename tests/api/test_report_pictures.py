"""Checked by looking: every starter template's charts and printed pack for the demo school (as
its governor gets them, suppressed) are drawn and compared with the reference images
committed in tests/api/pictures/, within a tolerance; a blank or broken drawing fails.

The demo is seeded, and the reports run and printed, as of a fixed day
(tests.support.packs.AS_AT), so the pictures are the same on every run and on both databases.
A deliberate change of the pictures refreshes the references:

    MARKBOOK_REFRESH_PICTURES=1 uv run pytest -n 0 tests/api/test_report_pictures.py

(then look at the new images before committing them). The README's images in docs/images/ are
written by the same run.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image, ImageChops, ImageStat

from app.db.engine import create_engine, session_factory
from app.domain.reports import ReportTable
from app.reports.charts import chart_specs
from app.reports.pictures import render_png
from app.services import reports
from tests.conftest import TestDatabases as Databases
from tests.support.packs import AS_AT, STARTER_CODES, DemoReport, demo_report, with_year_groups

pytestmark = pytest.mark.xdist_group("demo_pictures")
ROOT = Path(__file__).resolve().parents[2]
REFERENCES = Path(__file__).resolve().parent / "pictures"
DOCS = ROOT / "docs" / "images"
REFRESH = os.environ.get("MARKBOOK_REFRESH_PICTURES") == "1"
WIDTH, TALLEST = 560, 1200  # px: pictures are compared (and kept) at most this size
COLOURS = 48  # and in this many colours (small files; the same quantising on both sides)
# A pixel differs when a channel is more than 48 of 255 apart; at most 1% may differ.
PIXEL_TOLERANCE, SHARE_TOLERANCE = 48, 0.01


@pytest.fixture(scope="module")
async def demo(databases: Databases) -> AsyncIterator[dict[str, DemoReport]]:
    """The demo seeded as of AS_AT, each starter template run for Oak Hill's governor."""
    url = databases.demo(AS_AT)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            yield {code: await demo_report(session, code) for code in STARTER_CODES}
    finally:
        await engine.dispose()
        databases.drop(url)


def _pages(pdf: bytes) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [
            _kept(document[i].render(scale=WIDTH / document[i].get_width()).to_pil())
            for i in range(len(document))
        ]
    finally:
        document.close()


def _shrunk(png: bytes) -> Image.Image:
    return _kept(Image.open(io.BytesIO(png)))


def _kept(image: Image.Image) -> Image.Image:
    """The picture as compared and kept: at most WIDTH by TALLEST, in COLOURS colours."""
    image = image.convert("RGB")
    scale = min(WIDTH / image.width, TALLEST / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    return image.quantize(COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _drawn(image: Image.Image, name: str) -> None:
    """Not blank: something other than the background covers a fair part of it."""
    grey = image.convert("RGB").convert("L")
    ink = sum(grey.histogram()[:200]) / (grey.width * grey.height)
    assert ink > 0.01, f"{name}: nearly blank ({ink:.2%} drawn)"
    assert ImageStat.Stat(grey).stddev[0] > 5, f"{name}: one flat colour"


def _compare(image: Image.Image, name: str) -> None:
    _drawn(image, name)
    reference = REFERENCES / f"{name}.png"
    if REFRESH:
        REFERENCES.mkdir(exist_ok=True)
        image.save(reference, optimize=True)
        return
    assert reference.exists(), f"no reference for {name}: refresh (see this module's docstring)"
    expected = Image.open(reference).convert("RGB")
    assert expected.size == image.size, f"{name}: {image.size}, the reference {expected.size}"
    difference = ImageChops.difference(image.convert("RGB"), expected).convert("L")
    differing = sum(difference.histogram()[PIXEL_TOLERANCE:]) / (image.width * image.height)
    assert differing <= SHARE_TOLERANCE, (
        f"{name}: {differing:.2%} of pixels differ from the reference (at most "
        f"{SHARE_TOLERANCE:.0%}); if the change is meant, refresh (see this module's docstring)"
    )


def _docs_image(image: Image.Image, name: str) -> None:
    """An image for the README, in 64 colours (a small file)."""
    DOCS.mkdir(parents=True, exist_ok=True)
    quantized = image.convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT)
    quantized.save(DOCS / name, optimize=True)


@pytest.mark.parametrize("code", STARTER_CODES)
async def test_each_starter_template_s_charts_look_as_they_did(demo, code):
    specs = chart_specs(demo[code].table)
    assert specs, f"{code} has no charts"
    for index, spec in enumerate(specs):
        image = _shrunk(render_png(spec))
        _compare(image, f"{code.lower()}-chart-{index}")
        if REFRESH and code == "BELOW-AT-ABOVE" and index == 0:
            _docs_image(Image.open(io.BytesIO(render_png(spec))), "chart-below-at-above.png")


@pytest.mark.parametrize("code", STARTER_CODES)
async def test_each_starter_template_s_pack_looks_as_it_did(demo, code):
    report = demo[code]
    pdf = await reports.printed_pack(report.audience, report.table, today=AS_AT)
    pages = _pages(pdf)
    if not REFRESH:
        kept = sorted(REFERENCES.glob(f"{code.lower()}-pack-*.png"))
        assert len(pages) == len(kept), f"{code}: {len(pages)} pages, the references {len(kept)}"
    for index, page in enumerate(pages):
        _compare(page, f"{code.lower()}-pack-{index}")
    if REFRESH and code == "DATA-ON-A-PAGE":
        document = pypdfium2.PdfDocument(pdf)
        _docs_image(document[0].render(scale=1.6).to_pil(), "pack-data-on-a-page.png")
        document.close()


async def test_the_demo_school_s_data_on_a_page_prints_on_one_page(demo):
    """Data on a page: the table (150 rows for the demo school), its charts, the key and the
    notes on one A4 page."""
    report = demo["DATA-ON-A-PAGE"]
    assert len(report.table.sections[0].rows) >= 150
    pdf = await reports.printed_pack(report.audience, report.table, today=AS_AT)
    (page,) = _pages(pdf)
    assert round(page.height / page.width, 2) == round(297 / 210, 2)  # A4 portrait
    document = pypdfium2.PdfDocument(pdf)
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "Oak Hill Primary School: Data on a page" in text
    assert "Printed on 20 May 2027" in text
    assert "What the figures mean" in text and "c: suppressed" in text
    assert "Mathematics - All year groups" in text


def _text_and_images(pdf: bytes) -> tuple[list[str], list[int]]:
    """Each page's text, and how many images (charts) each page holds."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        texts, images = [], []
        for page in document:
            texts.append(page.get_textpage().get_text_range())
            images.append(len(list(page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]))))
        return texts, images
    finally:
        document.close()


def _row_lines(table: ReportTable, text: str) -> int:
    """How many of the table's row lines the text holds: each key group's label counted (no
    label is part of another, and a row's label is never repeated, unlike a band's)."""
    labels = {row.labels["group"] for row in table.sections[0].rows}
    return sum(text.count(label) for label in labels)


async def test_a_full_primary_s_data_on_a_page_prints_on_one_page(demo):
    """A full primary (Years 1 to 6 and all of them; English, mathematics and science; five
    key groups): 210 rows are too many for the table's usual fold with its charts and notes,
    so the subjects go side by side and it all still goes on one A4 page. The table is the
    demo's own, its Year 3 standing in for every year group (tests.support.packs)."""
    report = demo["DATA-ON-A-PAGE"]
    table = with_year_groups(report.table, range(1, 7))
    assert len(table.sections[0].rows) == 210
    pdf = await reports.printed_pack(report.audience, table, today=AS_AT)
    (page,) = _pages(pdf)
    assert round(page.height / page.width, 2) == round(297 / 210, 2)  # A4 portrait
    (text,), (images,) = _text_and_images(pdf)
    assert "Oak Hill Primary School: Data on a page" in text
    assert "Printed on 20 May 2027" in text
    for heading in ("English", "Mathematics", "Science", "Mean standardised", "% at or above"):
        assert heading in text, heading
    for year in [*(f"Year {y}" for y in range(1, 7)), "All year groups"]:
        assert year in text, year
    # A line for each year group's key group, each with all three subjects' figures.
    assert _row_lines(table, text) == 7 * 10
    assert images == 3  # the trends over the year, as printed for the demo school
    assert "What the figures mean" in text and "c: suppressed" in text
    _compare(page, "data-on-a-page-full-primary-pack-0")


async def test_a_table_too_big_even_with_subjects_side_by_side_runs_on_without_losing_rows(demo):
    """Thirteen year groups (an all-through school) do not fit one page either way: the table
    runs on over pages, folded as usual, then the charts and the notes; every row is printed
    once."""
    report = demo["DATA-ON-A-PAGE"]
    table = with_year_groups(report.table, range(1, 14))
    rows = table.sections[0].rows
    pdf = await reports.printed_pack(report.audience, table, today=AS_AT)
    texts, images = _text_and_images(pdf)
    assert len(texts) >= 2
    text = "\n".join(texts)
    assert _row_lines(table, text) == len(rows) == 3 * 14 * 10
    for subject in ("English", "Mathematics", "Science"):
        for year in [*(f"Year {y}" for y in range(1, 14)), "All year groups"]:
            assert f"{subject} - {year}" in text, (subject, year)
    assert sum(images) == 3
    assert "What the figures mean" in texts[-1] and "c: suppressed" in texts[-1]
