"""The markbook grid (pupils x objectives of a subject) and pupils' working curriculum years."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import ETAG_HEADER, RowsResponse, problems
from app.api.rest.roster import IdempotencyKey
from app.api.schemas.markbook import (
    Grid,
    GridSaved,
    GridWrite,
    WorkingYearsSaved,
    WorkingYearsWrite,
)
from app.services import cells, idempotency, working_years
from app.services import grid as grid_service

router = APIRouter(tags=["markbook"])

ClassQuery = Annotated[uuid.UUID | None, Query(description="The class whose grid this is.")]
PupilsQuery = Annotated[
    list[uuid.UUID],
    Query(
        alias="pupil_id",
        max_length=500,
        description="Or the pupils, repeated: pupil_id=...&pupil_id=...",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=40,
        description='The grid\'s ETag as read, quotes and all (`"42"`; a bare 42 is read '
        "too; `*` or none: no precondition): the write is refused (412) if the grid's cells "
        "changed since.",
    ),
]


@router.get(
    "/v1/schools/{school_id}/markbook",
    response_model=Grid,
    responses={
        **problems(404),
        200: {"headers": {"ETag": ETAG_HEADER}},
        304: {"description": "Not modified (If-None-Match)", "headers": {"ETag": ETAG_HEADER}},
    },
)
async def read_grid(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    class_id: ClassQuery = None,
    pupil_ids: PupilsQuery = [],  # noqa: B006 - FastAPI copies query defaults
    subject_id: Annotated[uuid.UUID | None, Query(description="The subject.")] = None,
    framework_id: Annotated[
        uuid.UUID | None, Query(description="Or one framework of a subject.")
    ] = None,
    curriculum_year: Annotated[
        str | None,
        Query(max_length=7, description="Show this year's objectives to every pupil: R-13."),
    ] = None,
    as_at: Annotated[
        date | None, Query(description="The grid as it stood at the end of this day.")
    ] = None,
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            max_length=40,
            description='The ETag as read before, quoted (`"42"`): 304 if the grid is unchanged.',
        ),
    ] = None,
) -> Response:
    """A class's (or some pupils') grid in a subject: each pupil's working curriculum year, the
    objectives of those years, the scales to judge them on and every judged cell. Its
    `version` is also its ETag; send it as `If-Match` when writing."""
    found = await grid_service.read_grid(
        session,
        principal=principal,
        school_id=school_id,
        class_id=class_id,
        pupil_ids=pupil_ids,
        subject_id=subject_id,
        framework_id=framework_id,
        curriculum_year=curriculum_year,
        as_at=as_at,
    )
    etag = f'"{found["version"]}"'
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        if as_at is None:
            return Response(status_code=304, headers={"ETag": etag})
    return RowsResponse(found, headers={"ETag": etag})


@router.post(
    "/v1/schools/{school_id}/markbook",
    response_model=GridSaved,
    responses={**problems(403, 404, 412), 200: {"headers": {"ETag": ETAG_HEADER}}},
)
async def save_grid(
    school_id: uuid.UUID,
    grid: GridWrite,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    class_id: ClassQuery = None,
    pupil_ids: PupilsQuery = [],  # noqa: B006 - FastAPI copies query defaults
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record up to 5,000 judgements at once, all or nothing: each cell names a pupil, an
    objective and a descriptor code of its framework's depth scale (null clears the cell).
    Every write is kept in the cell's history.

    Send the grid's ETag as `If-Match` (and the grid's `class_id` or `pupil_id`s) so that a
    write over a colleague's newer judgement is refused with 412 and the cells changed since,
    rather than silently overwriting them. Send an `Idempotency-Key` to make retries safe."""
    body = await request.body()
    status, answer, replayed = await cells.save_request(
        session,
        principal=principal,
        school_id=school_id,
        grid=grid,
        if_match=if_match,
        class_id=class_id,
        pupil_ids=pupil_ids,
        idempotency_key=idempotency_key,
        request_fingerprint=idempotency.fingerprint(
            request.method, request.url.path, request.url.query, body
        ),
    )
    headers = {"ETag": f'"{answer["version"]}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer, status, headers=headers)


@router.post(
    "/v1/schools/{school_id}/working-years",
    response_model=WorkingYearsSaved,
    responses=problems(403, 404),
)
async def save_working_years(
    school_id: uuid.UUID,
    working: WorkingYearsWrite,
    session: SessionDep,
    principal: PrincipalDep,
) -> WorkingYearsSaved:
    """Set the curriculum year pupils work within in subjects (out-of-year tracking), for an
    academic year; null sets a pupil back to their year group's. Their grids then show that
    year's objectives, and their figures are counted against it; nobody is marked below for
    working on an earlier year's curriculum."""
    return await working_years.save_working_years(
        session, principal=principal, school_id=school_id, working=working
    )
