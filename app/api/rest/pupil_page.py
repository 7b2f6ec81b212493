"""A pupil's page (strengths, next steps, targets), and the pupils a sign-in may open it for."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.pupil_page import MyPupils, PupilPage
from app.services import pupil_page as service

router = APIRouter(tags=["pupil-page"])


@router.get("/v1/pupils/{pupil_id}/page", response_model=PupilPage, responses=problems(404))
async def read_pupil_page(
    pupil_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    academic_year: Annotated[
        int | None,
        Query(
            ge=2000,
            le=2099,
            description="The year whose working curriculum the page is in; default: this "
            "one. 2025 is 2025/26.",
        ),
    ] = None,
) -> PupilPage:
    """What a pupil and their parents take away, per subject: strengths, next steps, what is
    not yet judged, within the curriculum the pupil works on, with each objective's statement
    in full and the label it was judged at; and the pupil's open targets and those achieved
    this year. Pupils and parents their own, teachers the pupils they teach, leaders their
    school's."""
    return await service.read_page(
        session, principal=principal, pupil_id=pupil_id, academic_year=academic_year
    )


@router.get("/v1/me/pupils", response_model=MyPupils, responses=problems())
async def list_my_pupils(session: SessionDep, principal: PrincipalDep) -> MyPupils:
    """The pupils whose page a pupil's or parent's sign-in opens (a parent: each of their
    children), with links to each page and targets; empty for staff and integrations."""
    return await service.my_pupils(session, principal=principal)
