"""The demo school's reports as pictures and printed packs, drawn as of a fixed day so that
they come out the same on every run and on both databases (tests/api/test_report_pictures.py,
scripts/pictures.py for docs/images)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.queries import demo as demo_queries
from app.db.queries import people
from app.db.queries.tenancy import get_school_by_urn
from app.domain.reports import ReportTable
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
