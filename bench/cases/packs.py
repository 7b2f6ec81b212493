"""Printed packs: a trust's "Data on a page" as one PDF, the trust's page and then a page per
school (issue 18, item 5), from the generated trust's markbooks (bench/cases/reports.py).

The case is a reference case (no raw-SQL floor: the work is drawing, not reading). It reports
the time per pack, pages per second (its rows are the PDF's pages) and the peak of the
Python memory one pack takes (tracemalloc): the pack is drawn school by school, a few
schools' reports at a time (app.services.reports.PACK_SCHOOLS_AT_ONCE), so the peak grows with
the PDF being written, not with the trust's rows.

    uv run python -m bench.run --size small --only packs
    uv run python -m bench.run --size trust --reuse --only packs
"""

from __future__ import annotations

from typing import Any

import httpx

from bench.cases.reports import data_on_a_page, ensure
from bench.core import Case, Context, register

CODE = "BENCH-PACK"
PDF = "application/pdf"


async def _prepare(ctx: Context) -> None:
    """The trust's own copy of "Data on a page" (made once, found after)."""
    reports = await ensure(ctx)
    admin = ctx.bearer("trust_admin")
    listed = await ctx.client.get(
        "/v1/report-templates", params={"trust_id": str(reports.trust_id)}, headers=admin
    )
    listed.raise_for_status()
    found = [t for t in listed.json()["items"] if t["code"] == CODE]
    if found:
        ctx.state["pack-template"] = found[0]["id"]
        return
    created = await ctx.client.post(
        "/v1/report-templates",
        json={
            "code": CODE,
            "name": "Data on a page (bench)",
            "trust_id": str(reports.trust_id),
            "definition": data_on_a_page(reports),
        },
        headers=admin,
    )
    created.raise_for_status()
    ctx.state["pack-template"] = created.json()["id"]


async def pack_trust_api(ctx: Context) -> httpx.Response:
    reports = await ensure(ctx)
    return await ctx.client.get(
        f"/v1/trusts/{reports.trust_id}/report-templates/{ctx.state['pack-template']}/report",
        params={"format": "pdf"},
        headers=ctx.bearer("trust_analyst"),
    )


def pages(ctx: Context, response: httpx.Response) -> list[Any]:
    """The PDF's pages (the trust's, then each school's: a page each, the generated schools'
    Years 1-6 and every key group included), as the case's rows."""
    if response.headers["content-type"] != PDF:
        raise RuntimeError(f"not a PDF: {response.headers['content-type']}")
    count = response.content.count(b"/Type /Page\n")
    schools = len(ctx.state["reports"].school_ids)
    if count < schools + 1:
        raise RuntimeError(f"{count} pages for {schools} schools and the trust")
    return list(range(count))


CASES_HERE = (
    Case(
        key="pack-trust-pdf",
        title='"Data on a page" printed for the trust and each school (PDF)',
        floor="none: a reference case (drawing, not reading); pages per second and peak memory",
        api=pack_trust_api,
        api_rows=pages,
        prepare=_prepare,
        repeat=2,
        warmup=0,
        peak_memory=True,
        unit="pages",
    ),
)
for _case in CASES_HERE:
    register(_case)
