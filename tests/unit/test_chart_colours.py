"""Below / at / above in the school's own colours where they can be told apart in greyscale,
else the fixed palette (app.domain.colours)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.colours import (
    BANDS,
    FIXED_CATEGORY_COLOURS,
    MIN_CONTRAST,
    category_colours,
    category_palette,
    contrast,
    distinct,
)
from app.services.starter import ATTAINMENT_SCALE

colours = st.from_regex(r"#[0-9A-F]{6}", fullmatch=True)
descriptors = st.lists(
    st.tuples(st.sampled_from([*BANDS, "other"]), st.integers(0, 9), colours), max_size=8
)


@given(descriptors)
def test_the_school_s_colours_are_used_only_when_all_three_bands_stand_apart(found):
    chosen = category_colours(found)
    if chosen:
        assert set(chosen) == set(BANDS)
        given_colours = {c.upper() for band, _, c in found if band in BANDS}
        assert set(chosen.values()) <= given_colours
        for band in BANDS:
            assert any(b == band and c.upper() == chosen[band] for b, _, c in found)
        assert distinct(chosen.values())
    else:
        missing = {b for b, _, _ in found if b in BANDS} != set(BANDS)
        assert missing or not distinct(_nearest(found, band) for band in BANDS), (
            "usable colours were dropped"
        )
    palette = category_palette(chosen)
    assert set(FIXED_CATEGORY_COLOURS) <= set(palette)
    assert distinct(palette[b] for b in BANDS)


def _nearest(found, band):
    """The band's descriptor nearest "at" (the first of equals, as the scale lists them)."""
    values = [(v, c.upper()) for b, v, c in found if b == band]
    return (max if band == "below" else min)(values, key=lambda pair: pair[0])[1]


def test_the_fixed_palette_stands_apart_in_greyscale():
    assert distinct(FIXED_CATEGORY_COLOURS[b] for b in BANDS)
    # Not assessed and the earlier curriculum stand apart from below, at and above too.
    for band in BANDS:
        assert contrast(FIXED_CATEGORY_COLOURS[band], FIXED_CATEGORY_COLOURS["not_assessed"]) > 1.3


def test_the_starter_scale_gives_its_own_colours_nearest_at():
    rows = [(d["band"], d["value"], d["colour"]) for d in ATTAINMENT_SCALE["descriptors"]]
    assert category_colours(rows) == {"below": "#D1495B", "at": "#66A182", "above": "#2E4057"}


def test_colours_too_alike_in_lightness_fall_back_to_the_palette():
    # A red and a green of the same lightness read as one grey.
    alike = [("below", 1, "#C0504D"), ("at", 2, "#4F8A3C"), ("above", 3, "#1F3A5F")]
    assert contrast("#C0504D", "#4F8A3C") < MIN_CONTRAST
    assert category_colours(alike) == {}
