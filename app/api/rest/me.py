"""Who am I, and what may I reach?"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.me import Me
from app.services.auth import describe

router = APIRouter(prefix="/v1", tags=["me"])


@router.get("/me", response_model=Me, responses=problems(), summary="The caller and their reach")
async def read_me(principal: PrincipalDep, session: SessionDep) -> Me:
    return await describe(session, principal)
