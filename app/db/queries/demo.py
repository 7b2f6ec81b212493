"""What the demo's seeding looks up by the codes it gave: pupils by MIS id, subjects and
measures by code, assessment points by year."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.curriculum import Measure, Subject
from app.db.reports import ReportTemplate
from app.db.roster import Pupil
from app.db.tenancy import AssessmentPoint


async def pupils_by_external_id(
    session: AsyncSession, school_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        sa.select(Pupil.external_id, Pupil.id).where(
            col(Pupil.school_id) == school_id, col(Pupil.external_id).is_not(None)
        )
    )
    return {external_id: pupil_id for external_id, pupil_id in rows}


async def subjects_by_code(session: AsyncSession, school_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        sa.select(Subject.code, Subject.id).where(col(Subject.school_id) == school_id)
    )
    return {code: subject_id for code, subject_id in rows}


async def measures_by_code(session: AsyncSession, school_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        sa.select(Measure.code, Measure.id).where(col(Measure.school_id) == school_id)
    )
    return {code: measure_id for code, measure_id in rows}


async def points_of_years(
    session: AsyncSession, school_id: uuid.UUID, academic_years: list[int]
) -> list[Any]:
    """The school's points of the years, in date order: id, academic year, code, date."""
    rows = await session.execute(
        sa.select(
            AssessmentPoint.id,
            AssessmentPoint.academic_year,
            AssessmentPoint.code,
            AssessmentPoint.assessed_on,
        )
        .where(
            col(AssessmentPoint.school_id) == school_id,
            col(AssessmentPoint.academic_year).in_(academic_years),
        )
        .order_by(col(AssessmentPoint.assessed_on))
    )
    return list(rows)


async def templates_by_code(session: AsyncSession, school_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        sa.select(ReportTemplate.code, ReportTemplate.id).where(
            col(ReportTemplate.school_id) == school_id
        )
    )
    return {code: template_id for code, template_id in rows}
