"""Who am I, and what may I reach?"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import PrincipalDep
from app.api.rest.common import problems
from app.api.schemas.me import GrantView, Me
from app.auth.policy import Action, Resource, reach

router = APIRouter(prefix="/v1", tags=["me"])


@router.get("/me", response_model=Me, responses=problems(), summary="The caller and their reach")
async def read_me(principal: PrincipalDep) -> Me:
    schools = reach(principal, Resource.SCHOOL, Action.READ)
    trusts = reach(principal, Resource.TRUST, Action.READ)
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        email=principal.email,
        roles=[
            GrantView(role=g.role, trust_id=g.trust_id, school_id=g.school_id)
            for g in principal.grants
        ],
        scopes=sorted(principal.scopes),
        trust_ids=sorted(trusts.trust_ids, key=str),
        school_ids=sorted(schools.school_ids, key=str),
        everything=schools.everything,
    )
