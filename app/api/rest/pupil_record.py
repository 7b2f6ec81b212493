"""A pupil's record (judgements and values in one read), their judgement history, and the
subject access export of everything held about them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import PagingDep, PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.pupil_record import JudgementHistoryPage, PupilRecord
from app.api.schemas.subject_access import SubjectAccessExport
from app.services import pupil_record as service
from app.services import subject_access

router = APIRouter(prefix="/v1/pupils", tags=["pupil-record"])


@router.get("/{pupil_id}/record", response_model=PupilRecord, responses=problems(404))
async def read_pupil_record(
    pupil_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    as_at: Annotated[
        date | None,
        Query(
            description="Judgements as they stood on this date, and values at points "
            "assessed on or before it. Omit for now."
        ),
    ] = None,
    academic_year: Annotated[
        int | None,
        Query(
            ge=2000,
            le=2099,
            description="For the year group and working years; default: the academic year "
            "containing as_at (or today). 2025 is 2025/26.",
        ),
    ] = None,
) -> PupilRecord:
    """One pupil's record, as far as the caller may see it: pupils and parents their own,
    teachers the pupils they teach, leaders their school's. `judgements` and `working_years`
    are null for a caller who may read values but not judgements (an integration with
    values:read alone), `values` null for one who may read judgements but not values."""
    return await service.read_record(
        session, principal=principal, pupil_id=pupil_id, as_at=as_at, academic_year=academic_year
    )


@router.get("/{pupil_id}/judgements", response_model=JudgementHistoryPage, responses=problems(404))
async def list_pupil_judgements(
    pupil_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    objective_id: Annotated[uuid.UUID | None, Query(description="Only this objective.")] = None,
    subject_id: Annotated[uuid.UUID | None, Query(description="Only this subject.")] = None,
) -> JudgementHistoryPage:
    """Every judgement recorded for the pupil, newest first: who recorded it, when, the date
    assessed, the descriptor (null: the cell was cleared) and the note."""
    return await service.judgement_history(
        session,
        principal=principal,
        pupil_id=pupil_id,
        objective_id=objective_id,
        subject_id=subject_id,
        cursor=paging.cursor,
        limit=paging.limit,
    )


@router.get(
    "/{pupil_id}/subject-access",
    response_model=SubjectAccessExport,
    responses=problems(403, 404),
)
async def export_subject_access(
    pupil_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> SubjectAccessExport:
    """Everything Markbook holds about the pupil, as one JSON document, for a subject access
    request (UK GDPR right of access): their record, enrolments, classes and groups, statutory
    results, every judgement and value recorded (who, when, note), working years, the accounts
    given their record and the audit events about them. For the school's leaders and its
    trust's admins (others who see the pupil: 403). Each export is audited ("export")."""
    return await subject_access.export_pupil(session, principal=principal, pupil_id=pupil_id)
