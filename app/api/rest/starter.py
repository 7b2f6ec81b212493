"""The England primary starter pack."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.services.starter import apply_starter_pack

router = APIRouter(tags=["starter-pack"])


class StarterPackResult(BaseModel):
    created: dict[str, int] = Field(description="What was added, by kind.")
    already_there: dict[str, int] = Field(description="What the school had and was left alone.")


@router.post(
    "/v1/schools/{school_id}/starter-pack",
    response_model=StarterPackResult,
    responses=problems(403, 404),
    description="Give the school an editable England primary setup: English, mathematics and "
    "science with their national curriculum frameworks, a four-step depth scale, a "
    "teacher-assessment scale, teacher-assessment measures for reading, writing and maths, KS2 "
    "scaled scores, standardised scores, the phonics and multiplication tables checks, "
    "the Autumn/Spring/Summer calendar, and three editable report templates (Data on a page; "
    "Below, at and above; Progress matrix). Applying it again creates nothing twice.",
)
async def apply_pack(
    school_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> StarterPackResult:
    result = await apply_starter_pack(session, principal=principal, school_id=school_id)
    return StarterPackResult(created=result.created, already_there=result.already_there)
