"""Trusts, schools, assessment points and the academic calendar."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from app.api.deps import PagingDep, PrincipalDep, SessionDep, UpdatedSince, get_principal
from app.api.rest.common import problems
from app.api.schemas.tenancy import (
    AssessmentPointCreate,
    AssessmentPointPage,
    AssessmentPointRead,
    AssessmentPointUpdate,
    DefaultCalendarRequest,
    SchoolCreate,
    SchoolPage,
    SchoolRead,
    SchoolUpdate,
    TrustCreate,
    TrustPage,
    TrustRead,
    TrustUpdate,
)
from app.domain.calendar import AcademicYear
from app.services import tenancy as service

trusts = APIRouter(prefix="/v1/trusts", tags=["trusts"])
schools = APIRouter(prefix="/v1/schools", tags=["schools"])
points = APIRouter(tags=["assessment-points"])
years = APIRouter(
    prefix="/v1/academic-years", tags=["academic-years"], dependencies=[Depends(get_principal)]
)


# --- Trusts ------------------------------------------------------------------------------
@trusts.post("", status_code=201, response_model=TrustRead, responses=problems(403))
async def create_trust(
    trust_in: TrustCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> TrustRead:
    trust = await service.create_trust(session, principal=principal, trust_in=trust_in)
    response.headers["Location"] = f"/v1/trusts/{trust.id}"
    return TrustRead.model_validate(trust)


@trusts.get("", response_model=TrustPage, responses=problems(403))
async def list_trusts(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
) -> TrustPage:
    page = await service.list_trusts(
        session,
        principal=principal,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return TrustPage(
        items=[TrustRead.model_validate(t) for t in page.items], next_cursor=page.next_cursor
    )


@trusts.get("/{trust_id}", response_model=TrustRead, responses=problems(404))
async def read_trust(
    trust_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> TrustRead:
    return TrustRead.model_validate(
        await service.get_trust(session, principal=principal, trust_id=trust_id)
    )


@trusts.patch("/{trust_id}", response_model=TrustRead, responses=problems(403, 404))
async def update_trust(
    trust_id: uuid.UUID, trust_in: TrustUpdate, session: SessionDep, principal: PrincipalDep
) -> TrustRead:
    trust = await service.update_trust(
        session, principal=principal, trust_id=trust_id, trust_in=trust_in
    )
    return TrustRead.model_validate(trust)


# --- Schools -----------------------------------------------------------------------------
@schools.post("", status_code=201, response_model=SchoolRead, responses=problems(403, 409))
async def create_school(
    school_in: SchoolCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> SchoolRead:
    school = await service.create_school(session, principal=principal, school_in=school_in)
    response.headers["Location"] = f"/v1/schools/{school.id}"
    return SchoolRead.model_validate(school)


@schools.get("", response_model=SchoolPage, responses=problems(403))
async def list_schools(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    trust_id: Annotated[uuid.UUID | None, Query(description="Only this trust's schools.")] = None,
) -> SchoolPage:
    page = await service.list_schools(
        session,
        principal=principal,
        trust_id=trust_id,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return SchoolPage(
        items=[SchoolRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@schools.get("/{school_id}", response_model=SchoolRead, responses=problems(404))
async def read_school(
    school_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> SchoolRead:
    return SchoolRead.model_validate(
        await service.get_school(session, principal=principal, school_id=school_id)
    )


@schools.patch("/{school_id}", response_model=SchoolRead, responses=problems(403, 404, 409))
async def update_school(
    school_id: uuid.UUID, school_in: SchoolUpdate, session: SessionDep, principal: PrincipalDep
) -> SchoolRead:
    school = await service.update_school(
        session, principal=principal, school_id=school_id, school_in=school_in
    )
    return SchoolRead.model_validate(school)


# --- Assessment points -------------------------------------------------------------------
@points.post(
    "/v1/schools/{school_id}/assessment-points",
    status_code=201,
    response_model=AssessmentPointRead,
    responses=problems(403, 404, 409),
)
async def create_assessment_point(
    school_id: uuid.UUID,
    point_in: AssessmentPointCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> AssessmentPointRead:
    point = await service.create_assessment_point(
        session, principal=principal, school_id=school_id, point_in=point_in
    )
    response.headers["Location"] = f"/v1/assessment-points/{point.id}"
    return AssessmentPointRead.of(point)


@points.get(
    "/v1/schools/{school_id}/assessment-points",
    response_model=AssessmentPointPage,
    responses=problems(404),
)
async def list_assessment_points(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    academic_year: Annotated[
        int | None, Query(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
    ] = None,
) -> AssessmentPointPage:
    page = await service.list_assessment_points(
        session,
        principal=principal,
        school_id=school_id,
        academic_year=academic_year,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return AssessmentPointPage(
        items=[AssessmentPointRead.of(p) for p in page.items], next_cursor=page.next_cursor
    )


@points.post(
    "/v1/schools/{school_id}/assessment-points/default-calendar",
    response_model=list[AssessmentPointRead],
    responses=problems(403, 404),
    summary="Give a school the Autumn/Spring/Summer points for a year (idempotent)",
)
async def apply_default_calendar(
    school_id: uuid.UUID,
    calendar: DefaultCalendarRequest,
    session: SessionDep,
    principal: PrincipalDep,
) -> list[AssessmentPointRead]:
    created = await service.apply_default_calendar(
        session, principal=principal, school_id=school_id, academic_year=calendar.academic_year
    )
    return [AssessmentPointRead.of(p) for p in created]


@points.get(
    "/v1/assessment-points/{point_id}", response_model=AssessmentPointRead, responses=problems(404)
)
async def read_assessment_point(
    point_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AssessmentPointRead:
    point = await service.get_assessment_point(session, principal=principal, point_id=point_id)
    return AssessmentPointRead.of(point)


@points.patch(
    "/v1/assessment-points/{point_id}",
    response_model=AssessmentPointRead,
    responses=problems(403, 404, 409),
)
async def update_assessment_point(
    point_id: uuid.UUID,
    point_in: AssessmentPointUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> AssessmentPointRead:
    point = await service.update_assessment_point(
        session, principal=principal, point_id=point_id, point_in=point_in
    )
    return AssessmentPointRead.of(point)


# --- Academic years ----------------------------------------------------------------------
class AcademicYearRead(BaseModel):
    start_year: int
    label: str
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, year: AcademicYear) -> AcademicYearRead:
        return cls(
            start_year=year.start_year,
            label=year.label,
            starts_on=year.starts_on,
            ends_on=year.ends_on,
        )


@years.get("/current", response_model=AcademicYearRead, responses=problems())
async def read_current_academic_year(
    on: Annotated[
        date | None, Query(description="The year containing this date; default today.")
    ] = None,
) -> AcademicYearRead:
    return AcademicYearRead.of(AcademicYear.containing(on or date.today()))


@years.get("/{start_year}", response_model=AcademicYearRead, responses=problems())
async def read_academic_year(
    start_year: Annotated[int, Path(ge=2000, le=2099, description="2025 is 2025/26.")],
) -> AcademicYearRead:
    return AcademicYearRead.of(AcademicYear(start_year))
