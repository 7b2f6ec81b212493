"""Colours for the below / at / above categories in a report's pictures.

A chart shows a category in the colour the school gave it: the colour of the attainment
scale's descriptors in that band (teacher assessment: "Working towards" for below, "Expected
standard" for at, "Greater depth" for above). Those colours are used only if all three bands
have one and they stay apart in lightness, so that below, at and above can be told apart in
greyscale print and by people who do not see the hues; otherwise a fixed palette that does is
used. The charts also order the categories from low to high and label each bar with its
figure, so nothing rests on colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from itertools import combinations

# Low to high; distinct in lightness (each pair at least MIN_CONTRAST apart).
FIXED_CATEGORY_COLOURS = {
    "below": "#B83A4B",
    "at": "#7DBB8A",
    "above": "#24395A",
    "earlier_curriculum": "#C9A227",
    "not_assessed": "#D9DCE1",
}
MOVEMENT_COLOURS = {
    "down": "#B83A4B",
    "same": "#C9CED6",
    "up": "#24395A",
    "not_comparable": "#EEF0F3",
}
BANDS = ("below", "at", "above")
# WCAG's contrast ratio between the bands' colours: 1.4 keeps neighbouring greys apart in
# print (the three of the starter pack's scale are 1.5 and more apart).
MIN_CONTRAST = 1.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #RRGGBB colour (0 black to 1 white)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def distinct(colours: Iterable[str]) -> bool:
    """Whether every pair of the colours is at least MIN_CONTRAST apart."""
    return all(contrast(a, b) >= MIN_CONTRAST for a, b in combinations(list(colours), 2))


def category_colours(descriptors: Iterable[tuple[str, int | Decimal, str]]) -> dict[str, str]:
    """The categories' colours from a scale's descriptors (band, value, colour): for each band
    the colour of its descriptor nearest "at" (below: the highest, at and above: the lowest),
    if all three bands have one and they are ``distinct``; else {} (the fixed palette)."""
    found: dict[str, tuple[int | Decimal, str]] = {}
    for band, value, colour in descriptors:
        if band not in BANDS or not colour:
            continue
        held = found.get(band)
        nearer = held is None or (value > held[0] if band == "below" else value < held[0])
        if nearer:
            found[band] = (value, colour.upper())
    if set(found) != set(BANDS):
        return {}
    chosen = {band: found[band][1] for band in BANDS}
    return chosen if distinct(chosen.values()) else {}


def category_palette(colours: dict[str, str]) -> dict[str, str]:
    """Every category's colour: the school's for the bands where ``category_colours`` gave
    them, the fixed palette's for the rest."""
    return {**FIXED_CATEGORY_COLOURS, **colours}
