"""A report's charts as images: its Vega-Lite specifications (app.reports.charts) rendered by
vl-convert (Vega's own renderer, packaged with no system libraries) to SVG or PNG.

The text alternative travels with the picture: the SVG is given a ``<title>`` and a
``<desc>`` and labelled by them (role ``img``), as accessible SVG asks; a PNG carries neither,
so the API says where to find it (the spec's ``description``)."""

from __future__ import annotations

from html import escape
from typing import Any

import vl_convert

VEGA_LITE = "5.20"
PNG_SCALE = 2  # sharp on high-density screens and in print


def render_svg(spec: dict[str, Any]) -> bytes:
    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE)
    title = spec.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    labelled = (
        f'<svg role="img" aria-labelledby="chart-title chart-desc"'
        f"{svg[len('<svg') : svg.index('>') + 1]}"
        f'<title id="chart-title">{escape(text)}</title>'
        f'<desc id="chart-desc">{escape(spec.get("description", ""))}</desc>'
    )
    return (labelled + svg[svg.index(">") + 1 :]).encode()


def render_png(spec: dict[str, Any]) -> bytes:
    return bytes(vl_convert.vegalite_to_png(spec, vl_version=VEGA_LITE, scale=PNG_SCALE))
