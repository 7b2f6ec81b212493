"""Reads for a subject access export: everything held about one pupil, one statement per
kind of thing (however many judgements, values or events there are)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.audit import AuditEvent
from app.db.curriculum import Descriptor, Measure
from app.db.markbook import MeasureValueHistory, WorkingYearHistory
from app.db.people import RoleGrant
from app.db.roster import (
    ClassPupil,
    PupilGroup,
    PupilGroupMember,
    StageAssessment,
    TeachingGroup,
)
from app.db.tenancy import AssessmentPoint


async def _rows(session: AsyncSession, statement: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def classes_of(session: AsyncSession, pupil_id: uuid.UUID) -> list[dict[str, Any]]:
    """The classes the pupil is in, by year and code."""
    return await _rows(
        session,
        sa.select(
            col(TeachingGroup.id),
            col(TeachingGroup.academic_year),
            col(TeachingGroup.code),
            col(TeachingGroup.name),
            col(TeachingGroup.subject),
        )
        .join(ClassPupil, col(ClassPupil.class_id) == col(TeachingGroup.id))
        .where(col(ClassPupil.pupil_id) == pupil_id)
        .order_by(col(TeachingGroup.academic_year), col(TeachingGroup.code)),
    )


async def groups_of(session: AsyncSession, pupil_id: uuid.UUID) -> list[dict[str, Any]]:
    """The school's custom groups the pupil is in, by name."""
    return await _rows(
        session,
        sa.select(col(PupilGroup.id), col(PupilGroup.name), col(PupilGroup.description))
        .join(PupilGroupMember, col(PupilGroupMember.group_id) == col(PupilGroup.id))
        .where(col(PupilGroupMember.pupil_id) == pupil_id)
        .order_by(col(PupilGroup.name)),
    )


async def stage_assessments_of(session: AsyncSession, pupil_id: uuid.UUID) -> list[StageAssessment]:
    rows = await session.scalars(
        sa.select(StageAssessment)
        .where(col(StageAssessment.pupil_id) == pupil_id)
        .order_by(col(StageAssessment.stage), col(StageAssessment.subject))
    )
    return list(rows)


async def value_history_of(session: AsyncSession, pupil_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every value written for the pupil (clearings too: all value columns null), oldest
    first, with its measure's and point's codes and its descriptor's code."""
    history = MeasureValueHistory
    return await _rows(
        session,
        sa.select(
            col(history.measure_id),
            col(Measure.code).label("measure_code"),
            col(history.assessment_point_id),
            col(AssessmentPoint.code).label("assessment_point_code"),
            col(AssessmentPoint.academic_year),
            col(history.number),
            col(history.descriptor_id),
            col(Descriptor.code).label("descriptor_code"),
            col(history.text),
            col(history.flag),
            col(history.value_on),
            col(history.curriculum_year),
            col(history.recorded_at),
            col(history.recorded_by),
        )
        .join(Measure, col(Measure.id) == col(history.measure_id))
        .join(AssessmentPoint, col(AssessmentPoint.id) == col(history.assessment_point_id))
        .outerjoin(Descriptor, col(Descriptor.id) == col(history.descriptor_id))
        .where(col(history.pupil_id) == pupil_id)
        .order_by(col(history.recorded_at), col(history.id)),
    )


async def working_year_history_of(
    session: AsyncSession, pupil_id: uuid.UUID
) -> list[WorkingYearHistory]:
    """Every working year set for the pupil, oldest first."""
    rows = await session.scalars(
        sa.select(WorkingYearHistory)
        .where(col(WorkingYearHistory.pupil_id) == pupil_id)
        .order_by(col(WorkingYearHistory.set_at), col(WorkingYearHistory.id))
    )
    return list(rows)


async def grants_naming(session: AsyncSession, pupil_id: uuid.UUID) -> list[dict[str, Any]]:
    """The accounts (pupil, parent) granted the pupil's own record."""
    return await _rows(
        session,
        sa.select(col(RoleGrant.user_id), col(RoleGrant.role))
        .where(col(RoleGrant.pupil_id) == pupil_id)
        .order_by(col(RoleGrant.role), col(RoleGrant.user_id)),
    )


async def audit_about(
    session: AsyncSession, pupil_id: uuid.UUID, enrolment_ids: Collection[uuid.UUID]
) -> list[AuditEvent]:
    """The audit events about the pupil and their enrolments, oldest first."""
    about = sa.and_(col(AuditEvent.entity_type) == "pupil", col(AuditEvent.entity_id) == pupil_id)
    if enrolment_ids:
        about = sa.or_(
            about,
            sa.and_(
                col(AuditEvent.entity_type) == "enrolment",
                col(AuditEvent.entity_id).in_(list(enrolment_ids)),
            ),
        )
    rows = await session.scalars(
        sa.select(AuditEvent).where(about).order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
    )
    return list(rows)
