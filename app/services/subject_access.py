"""Subject access: everything held about one pupil, as one machine-readable document.

Under UK GDPR a pupil (or a parent on their behalf) may ask the school, as data controller, for
a copy of everything it holds about them. A school leader, or an admin of the school's trust,
answers it with this export (``Action.EXPORT`` on pupils in app.auth.policy). Whoever else can
see the pupil (a teacher, a pupil or parent, a roster integration) is forbidden; to anyone
else the pupil is not found. Every export is audited: who exported which pupil, when, and
nothing more.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.audit import AuditEventRead
from app.api.schemas.pupil_record import JudgementHistoryItem
from app.api.schemas.roster import EnrolmentRead, PupilRead
from app.api.schemas.subject_access import (
    ExportClass,
    ExportGrant,
    ExportGroup,
    ExportSchool,
    ExportStageAssessment,
    ExportValueWrite,
    ExportWorkingYear,
    SubjectAccessExport,
)
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.queries import pupil_record as record_queries
from app.db.queries import subject_access as queries
from app.db.queries.roster import enrolments_of
from app.db.queries.tenancy import get_school
from app.domain.curriculum import year_label
from app.errors import Forbidden, NotFound
from app.services.audit import record
from app.services.pupil_record import PUPIL_NOT_FOUND, record_value


async def export_pupil(
    session: AsyncSession, *, principal: Principal, pupil_id: uuid.UUID
) -> SubjectAccessExport:
    """Everything held about the pupil (see ``SubjectAccessExport``), read in one statement
    per kind of thing, and an audit event "export" on the pupil holding only its id."""
    # Seeing the pupil at all: their roster entry, or their record (a pupil's or parent's own).
    found = (
        await record_queries.pupils_reached(
            session,
            [pupil_id],
            [
                reach(principal, Resource.PUPIL, Action.EXPORT),
                reach(principal, Resource.PUPIL, Action.READ),
                reach(principal, Resource.JUDGEMENT, Action.READ),
                reach(principal, Resource.VALUE, Action.READ),
            ],
        )
    ).get(pupil_id)
    if found is None:
        raise NotFound(PUPIL_NOT_FOUND)
    pupil, (may_export, *_) = found
    if not may_export:
        raise Forbidden("you may not export everything held about this pupil")
    school = await get_school(session, pupil.school_id)
    assert school is not None  # the pupil's foreign key
    enrolments = (await enrolments_of(session, [pupil.id]))[pupil.id]
    export = SubjectAccessExport(
        exported_at=utcnow(),
        school=ExportSchool(id=school.id, name=school.name, urn=school.urn),
        pupil=PupilRead.model_validate(
            pupil, update={"enrolments": [EnrolmentRead.model_validate(e) for e in enrolments]}
        ),
        classes=[ExportClass(**row) for row in await queries.classes_of(session, pupil.id)],
        groups=[ExportGroup(**row) for row in await queries.groups_of(session, pupil.id)],
        stage_assessments=[
            ExportStageAssessment.model_validate(row, from_attributes=True)
            for row in await queries.stage_assessments_of(session, pupil.id)
        ],
        judgements=[
            JudgementHistoryItem(**row)
            for row in await record_queries.all_judgements(session, pupil.id)
        ],
        values=[
            record_value(row)
            for row in await record_queries.current_values(session, [pupil.id], None)
        ],
        value_history=[
            ExportValueWrite(**{**row, "curriculum_year": year_label(row["curriculum_year"])})
            for row in await queries.value_history_of(session, pupil.id)
        ],
        working_years=[
            ExportWorkingYear(
                subject_id=row.subject_id,
                academic_year=row.academic_year,
                curriculum_year=year_label(row.curriculum_year),
                set_at=row.set_at,
                set_by=row.set_by,
            )
            for row in await queries.working_year_history_of(session, pupil.id)
        ],
        record_access=[
            ExportGrant(**row) for row in await queries.grants_naming(session, pupil.id)
        ],
        audit_events=[
            AuditEventRead.model_validate(event)
            for event in await queries.audit_about(session, pupil.id, [e.id for e in enrolments])
        ],
    )
    record(
        session,
        principal,
        action="export",
        entity=pupil,
        before=None,
        after={"id": str(pupil.id)},
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()
    return export
