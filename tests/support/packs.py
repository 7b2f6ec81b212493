"""The demo school's reports as pictures and printed packs, drawn as of a fixed day so that
they come out the same on every run and on both databases (tests/api/test_report_pictures.py,
scripts/pictures.py for docs/images)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.queries import demo as demo_queries
from app.db.queries import people
from app.db.queries.tenancy import get_school_by_urn
from app.domain.reports import ReportTable, Row, RowKey
from app.services import reports
from app.services.auth import user_principal
from app.services.demo import SCHOOLS

# Autumn and spring are assessed, summer not yet: the charts have a line to draw and a point
# to leave empty.
AS_AT = date(2027, 5, 20)
GOVERNOR = "governor@oakhill.example.org"
HEAD = "head@oakhill.example.org"
STARTER_CODES = ("DATA-ON-A-PAGE", "BELOW-AT-ABOVE", "PROGRESS-MATRIX")


@dataclass(frozen=True)
class DemoReport:
    audience: reports.Audience
    table: ReportTable


async def demo_report(session: AsyncSession, code: str, *, email: str = GOVERNOR) -> DemoReport:
    """Oak Hill's starter template ``code`` run for the demo person ``email`` (the governor:
    suppressed) as of ``AS_AT``; the demo must have been seeded as of ``AS_AT`` too."""
    user = await people.get_user_by_email(session, email)
    school = await get_school_by_urn(session, SCHOOLS[0][1])
    assert user is not None and school is not None, "seed the demo first"
    principal = await user_principal(session, user)
    templates = await demo_queries.templates_by_code(session, school.id)
    audience = await reports.school_audience(session, principal=principal, school_id=school.id)
    _, table = await reports.run_template(
        session,
        principal=principal,
        audience=audience,
        template_id=templates[code],
        version=None,
        today=AS_AT,
    )
    return DemoReport(audience, table)


def with_year_groups(table: ReportTable, years: range) -> ReportTable:
    """Data on a page as a school with ``years`` (e.g. a full primary, Years 1 to 6) would get
    it: the demo school's own table (Years 3 to 6, as its governor sees it, suppressed), each
    subject's Year 3 rows standing in for every year group of ``years``, its "All year groups"
    rows kept. The demo is too small to seed a full school's pupils; this is the table's shape
    and figures as printed, which is what a pack lays out. ``table`` is left as it was."""
    main, *rest = table.sections
    rows: list[Row] = []
    for subject in dict.fromkeys(row.labels["subject"] for row in main.rows):
        mine = [row for row in main.rows if row.labels["subject"] == subject]
        year_3 = [row for row in mine if row.keys["year_group"] == "3"]
        assert year_3, f"{subject}: no Year 3 rows to stand in"
        for year in years:
            rows.extend(_in_year(row, year) for row in year_3)
        rows.extend(row for row in mine if row.keys["year_group"] is None)
    return replace(table, sections=[replace(main, rows=rows), *rest])


def _in_year(row: Row, year: int) -> Row:
    subject, _ = row.key.crossed
    return replace(
        row,
        key=RowKey((subject, str(year)), row.key.group, row.key.group_value),
        keys={**row.keys, "year_group": str(year)},
        labels={**row.labels, "year_group": f"Year {year}"},
        pupil_ids=None,
    )
