"""Definitions: subjects, frameworks and objectives, scales and measures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import PagingDep, PrincipalDep, SessionDep, UpdatedSince
from app.api.rest.common import problems
from app.api.schemas.curriculum import (
    DescriptorRead,
    FrameworkCreate,
    FrameworkPage,
    FrameworkRead,
    FrameworkUpdate,
    MeasureCreate,
    MeasurePage,
    MeasureRead,
    MeasureUpdate,
    ObjectivePage,
    ObjectiveRead,
    ObjectivesReplace,
    ObjectiveUpdate,
    ScaleCreate,
    ScalePage,
    ScaleRead,
    ScaleUpdate,
    SubjectCreate,
    SubjectPage,
    SubjectRead,
    SubjectUpdate,
)
from app.auth.principal import Principal
from app.db.curriculum import Descriptor, Framework, Measure, Scale, Subject
from app.domain.scales import MeasureKind, ScaleKind
from app.services import curriculum as service

subjects = APIRouter(prefix="/v1/subjects", tags=["subjects"])
scales = APIRouter(prefix="/v1/scales", tags=["scales"])
measures = APIRouter(prefix="/v1/measures", tags=["measures"])
frameworks = APIRouter(tags=["frameworks"])

SchoolFilter = Annotated[
    uuid.UUID | None,
    Query(description="Only what this school uses: its own and its trust's."),
]


# --- Subjects ----------------------------------------------------------------------------
@subjects.post("", status_code=201, response_model=SubjectRead, responses=problems(403, 409))
async def create_subject(
    subject_in: SubjectCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> SubjectRead:
    subject = await service.create_subject(session, principal=principal, subject_in=subject_in)
    response.headers["Location"] = f"/v1/subjects/{subject.id}"
    return SubjectRead.model_validate(subject)


@subjects.get("", response_model=SubjectPage, responses=problems(403, 404))
async def list_subjects(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    school_id: SchoolFilter = None,
) -> SubjectPage:
    page = await service.list_owned(
        session,
        principal=principal,
        model=Subject,
        school_id=school_id,
        filters={},
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return SubjectPage(
        items=[SubjectRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@subjects.get("/{subject_id}", response_model=SubjectRead, responses=problems(404))
async def read_subject(
    subject_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> SubjectRead:
    subject = await service.get_subject(session, principal=principal, subject_id=subject_id)
    return SubjectRead.model_validate(subject)


@subjects.patch("/{subject_id}", response_model=SubjectRead, responses=problems(403, 404, 409))
async def update_subject(
    subject_id: uuid.UUID, subject_in: SubjectUpdate, session: SessionDep, principal: PrincipalDep
) -> SubjectRead:
    subject = await service.update_subject(
        session, principal=principal, subject_id=subject_id, subject_in=subject_in
    )
    return SubjectRead.model_validate(subject)


# --- Scales ------------------------------------------------------------------------------
def _scale_read(scale: Scale, descriptors: list[Descriptor]) -> ScaleRead:
    return ScaleRead.model_validate(
        scale, update={"descriptors": [DescriptorRead.model_validate(d) for d in descriptors]}
    )


@scales.post("", status_code=201, response_model=ScaleRead, responses=problems(403, 409))
async def create_scale(
    scale_in: ScaleCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> ScaleRead:
    scale, descriptors = await service.create_scale(session, principal=principal, scale_in=scale_in)
    response.headers["Location"] = f"/v1/scales/{scale.id}"
    return _scale_read(scale, descriptors)


@scales.get("", response_model=ScalePage, responses=problems(403, 404))
async def list_scales(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    school_id: SchoolFilter = None,
    kind: Annotated[ScaleKind | None, Query(description="Only scales of this kind.")] = None,
) -> ScalePage:
    page = await service.list_owned(
        session,
        principal=principal,
        model=Scale,
        school_id=school_id,
        filters={"kind": kind.value if kind else None},
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    descriptors = await service.descriptors_of(session, page.items)
    return ScalePage(
        items=[_scale_read(s, descriptors[s.id]) for s in page.items],
        next_cursor=page.next_cursor,
    )


@scales.get("/{scale_id}", response_model=ScaleRead, responses=problems(404))
async def read_scale(
    scale_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ScaleRead:
    return _scale_read(*await service.get_scale(session, principal=principal, scale_id=scale_id))


@scales.patch("/{scale_id}", response_model=ScaleRead, responses=problems(403, 404, 409))
async def update_scale(
    scale_id: uuid.UUID, scale_in: ScaleUpdate, session: SessionDep, principal: PrincipalDep
) -> ScaleRead:
    return _scale_read(
        *await service.update_scale(
            session, principal=principal, scale_id=scale_id, scale_in=scale_in
        )
    )


# --- Measures ----------------------------------------------------------------------------
@measures.post("", status_code=201, response_model=MeasureRead, responses=problems(403, 409))
async def create_measure(
    measure_in: MeasureCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> MeasureRead:
    measure = await service.create_measure(session, principal=principal, measure_in=measure_in)
    response.headers["Location"] = f"/v1/measures/{measure.id}"
    return MeasureRead.model_validate(measure)


@measures.get("", response_model=MeasurePage, responses=problems(403, 404))
async def list_measures(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    school_id: SchoolFilter = None,
    subject_id: Annotated[uuid.UUID | None, Query(description="Only this subject's.")] = None,
    kind: Annotated[MeasureKind | None, Query(description="Only this kind.")] = None,
) -> MeasurePage:
    page = await service.list_owned(
        session,
        principal=principal,
        model=Measure,
        school_id=school_id,
        filters={"subject_id": subject_id, "kind": kind.value if kind else None},
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return MeasurePage(
        items=[MeasureRead.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


@measures.get("/{measure_id}", response_model=MeasureRead, responses=problems(404))
async def read_measure(
    measure_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> MeasureRead:
    measure = await service.get_measure(session, principal=principal, measure_id=measure_id)
    return MeasureRead.model_validate(measure)


@measures.patch("/{measure_id}", response_model=MeasureRead, responses=problems(403, 404))
async def update_measure(
    measure_id: uuid.UUID, measure_in: MeasureUpdate, session: SessionDep, principal: PrincipalDep
) -> MeasureRead:
    measure = await service.update_measure(
        session, principal=principal, measure_id=measure_id, measure_in=measure_in
    )
    return MeasureRead.model_validate(measure)


# --- Frameworks and objectives -----------------------------------------------------------
async def _framework_reads(session: AsyncSession, items: list[Framework]) -> list[FrameworkRead]:
    counts = await service.objective_counts(session, items)
    return [
        FrameworkRead.model_validate(f, update={"objective_count": counts.get(f.id, 0)})
        for f in items
    ]


@frameworks.post(
    "/v1/frameworks", status_code=201, response_model=FrameworkRead, responses=problems(403, 409)
)
async def create_framework(
    framework_in: FrameworkCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> FrameworkRead:
    framework = await service.create_framework(
        session, principal=principal, framework_in=framework_in
    )
    response.headers["Location"] = f"/v1/frameworks/{framework.id}"
    return (await _framework_reads(session, [framework]))[0]


@frameworks.get("/v1/frameworks", response_model=FrameworkPage, responses=problems(403, 404))
async def list_frameworks(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    school_id: SchoolFilter = None,
    subject_id: Annotated[uuid.UUID | None, Query(description="Only this subject's.")] = None,
) -> FrameworkPage:
    page = await service.list_owned(
        session,
        principal=principal,
        model=Framework,
        school_id=school_id,
        filters={"subject_id": subject_id},
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return FrameworkPage(
        items=await _framework_reads(session, page.items), next_cursor=page.next_cursor
    )


@frameworks.get(
    "/v1/frameworks/{framework_id}", response_model=FrameworkRead, responses=problems(404)
)
async def read_framework(
    framework_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> FrameworkRead:
    framework = await service.get_framework(session, principal=principal, framework_id=framework_id)
    return (await _framework_reads(session, [framework]))[0]


@frameworks.patch(
    "/v1/frameworks/{framework_id}",
    response_model=FrameworkRead,
    responses=problems(403, 404, 409),
)
async def update_framework(
    framework_id: uuid.UUID,
    framework_in: FrameworkUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> FrameworkRead:
    framework = await service.update_framework(
        session, principal=principal, framework_id=framework_id, framework_in=framework_in
    )
    return (await _framework_reads(session, [framework]))[0]


@frameworks.get(
    "/v1/frameworks/{framework_id}/objectives",
    response_model=ObjectivePage,
    responses=problems(404),
)
async def list_objectives(
    framework_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    include_archived: Annotated[bool, Query(description="Archived ones too.")] = False,
    curriculum_year: Annotated[
        int | None, Query(ge=0, le=13, description="Only those of this year (R is 0).")
    ] = None,
) -> ObjectivePage:
    page = await service.list_objectives(
        session,
        principal=principal,
        framework_id=framework_id,
        include_archived=include_archived,
        curriculum_year=curriculum_year,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ObjectivePage(
        items=[ObjectiveRead.model_validate(o) for o in page.items], next_cursor=page.next_cursor
    )


async def _put_objectives(
    session: AsyncSession,
    principal: Principal,
    framework_id: uuid.UUID,
    body: ObjectivesReplace,
    *,
    replace: bool,
) -> list[ObjectiveRead]:
    objectives = await service.put_objectives(
        session,
        principal=principal,
        framework_id=framework_id,
        objectives=body.objectives,
        replace=replace,
    )
    return [ObjectiveRead.model_validate(o) for o in objectives]


@frameworks.post(
    "/v1/frameworks/{framework_id}/objectives",
    response_model=list[ObjectiveRead],
    responses=problems(403, 404),
    description="Add objectives in bulk: new codes go at the end; a code the framework has "
    "already updates that objective in place.",
)
async def add_objectives(
    framework_id: uuid.UUID, body: ObjectivesReplace, session: SessionDep, principal: PrincipalDep
) -> list[ObjectiveRead]:
    return await _put_objectives(session, principal, framework_id, body, replace=False)


@frameworks.put(
    "/v1/frameworks/{framework_id}/objectives",
    response_model=list[ObjectiveRead],
    responses=problems(403, 404),
    description="Replace (and reorder) the framework's objectives: the list's order is the "
    "new order; objectives left out are archived, never deleted, and keep their judgements.",
)
async def replace_objectives(
    framework_id: uuid.UUID, body: ObjectivesReplace, session: SessionDep, principal: PrincipalDep
) -> list[ObjectiveRead]:
    return await _put_objectives(session, principal, framework_id, body, replace=True)


@frameworks.get(
    "/v1/objectives/{objective_id}", response_model=ObjectiveRead, responses=problems(404)
)
async def read_objective(
    objective_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ObjectiveRead:
    objective, _ = await service.get_objective(
        session, principal=principal, objective_id=objective_id
    )
    return ObjectiveRead.model_validate(objective)


@frameworks.patch(
    "/v1/objectives/{objective_id}", response_model=ObjectiveRead, responses=problems(403, 404)
)
async def update_objective(
    objective_id: uuid.UUID,
    objective_in: ObjectiveUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> ObjectiveRead:
    objective = await service.update_objective(
        session, principal=principal, objective_id=objective_id, objective_in=objective_in
    )
    return ObjectiveRead.model_validate(objective)
