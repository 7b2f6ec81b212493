"""Measure values at assessment points: bulk writes, current values, a pupil's history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from app.api.deps import PagingDep, PrincipalDep, SessionDep, UpdatedSince
from app.api.rest.common import problems
from app.api.schemas.base import PageOf
from app.api.schemas.values import ValueHistoryRead, ValueRead, ValuesWrite, ValuesWritten
from app.services import idempotency
from app.services import values as service

router = APIRouter(tags=["values"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes a retry safe: the same key and body get the first answer again.",
    ),
]


class ValuePage(PageOf[ValueRead]):
    pass


class ValueHistoryPage(PageOf[ValueHistoryRead]):
    pass


WRITE_DOC = """Write up to 10,000 values: each a pupil's value of a measure at an assessment point
(`assessment_point_id` in the row, or the body's for every row that names none).

Each value is checked against its measure: a number in range with no more decimal places than the
measure allows, a descriptor code of the measure's own scale, text, true/false or a date. Curriculum
measures also record the curriculum year the pupil works within (the row's `curriculum_year`, else
their working year in the measure's subject). Teachers write for the pupils they teach.

All or nothing: if any row is bad, nothing is stored (422, `errors` naming each row's field, as
`body.values.17.value`). A value sent as it stands is unchanged and writes nothing; a changed value
is added to its history; `null` clears a value (kept in the history). Send an `Idempotency-Key`
to make retries safe."""


@router.post(
    "/v1/schools/{school_id}/values",
    response_model=ValuesWritten,
    responses=problems(403, 404),
    description=WRITE_DOC,
)
async def write_values(
    school_id: uuid.UUID,
    values_in: ValuesWrite,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = await request.body()
    answer, replayed = await service.write_request(
        session,
        principal=principal,
        school_id=school_id,
        body=values_in,
        idempotency_key=idempotency_key,
        request_fingerprint=idempotency.fingerprint(
            request.method, request.url.path, request.url.query, body
        ),
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, headers=headers)


@router.get("/v1/schools/{school_id}/values", response_model=ValuePage, responses=problems(404))
async def list_values(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    assessment_point_id: Annotated[uuid.UUID | None, Query(description="Only this point.")] = None,
    measure_id: Annotated[uuid.UUID | None, Query(description="Only this measure.")] = None,
    pupil_id: Annotated[uuid.UUID | None, Query(description="Only this pupil.")] = None,
    class_id: Annotated[uuid.UUID | None, Query(description="Only this class's pupils.")] = None,
) -> ValuePage:
    """The school's current values (cleared values have none) of the pupils you may see,
    oldest write first; `updated_since` gives those written since."""
    page = await service.list_values(
        session,
        principal=principal,
        school_id=school_id,
        assessment_point_id=assessment_point_id,
        measure_id=measure_id,
        pupil_id=pupil_id,
        class_id=class_id,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ValuePage(items=page.items, next_cursor=page.next_cursor)


@router.get(
    "/v1/pupils/{pupil_id}/values/history",
    response_model=ValueHistoryPage,
    responses=problems(404),
)
async def list_value_history(
    pupil_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    measure_id: Annotated[uuid.UUID | None, Query(description="Only this measure.")] = None,
    assessment_point_id: Annotated[uuid.UUID | None, Query(description="Only this point.")] = None,
) -> ValueHistoryPage:
    """Every write of a pupil's values, newest first; a cleared value reads as null."""
    page = await service.pupil_history(
        session,
        principal=principal,
        pupil_id=pupil_id,
        measure_id=measure_id,
        assessment_point_id=assessment_point_id,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ValueHistoryPage(items=page.items, next_cursor=page.next_cursor)
