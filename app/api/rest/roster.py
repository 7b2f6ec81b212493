"""The roster: pupils, enrolments, classes, custom groups, bulk sync and file imports."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import PagingDep, PrincipalDep, SessionDep, UpdatedSince
from app.api.rest.common import RowsResponse, problems, raw_body
from app.api.schemas.imports import ImportJobRead
from app.api.schemas.roster import (
    ClassCreate,
    ClassPage,
    ClassRead,
    ClassUpdate,
    EnrolmentPage,
    EnrolmentPut,
    EnrolmentRead,
    GroupCreate,
    GroupPage,
    GroupRead,
    GroupUpdate,
    PupilCreate,
    PupilPage,
    PupilRead,
    PupilUpdate,
    RosterSync,
    SyncMode,
    SyncResult,
)
from app.auth.principal import Principal
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping
from app.domain.pupils import YearGroup
from app.services import idempotency, imports, roster_sync
from app.services import roster as service

pupils = APIRouter(tags=["pupils"])
classes = APIRouter(tags=["classes"])
groups = APIRouter(tags=["groups"])
sync = APIRouter(tags=["roster-sync"])

AcademicYearQuery = Annotated[
    int | None, Query(ge=2000, le=2099, description="Start year: 2025 is 2025/26.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes a retry safe: the same key and body get the first answer again.",
    ),
]


# --- Pupils ------------------------------------------------------------------------------
@pupils.post(
    "/v1/schools/{school_id}/pupils",
    status_code=201,
    response_model=PupilRead,
    responses=problems(403, 404, 409),
)
async def create_pupil(
    school_id: uuid.UUID,
    pupil_in: PupilCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> PupilRead:
    pupil = await service.create_pupil(
        session, principal=principal, school_id=school_id, pupil_in=pupil_in
    )
    response.headers["Location"] = f"/v1/pupils/{pupil.id}"
    return (await service.pupil_reads(session, [pupil]))[0]


@pupils.get("/v1/schools/{school_id}/pupils", response_model=PupilPage, responses=problems(404))
async def list_pupils(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    academic_year: AcademicYearQuery = None,
    year_group: Annotated[YearGroup | None, Query(description="With academic_year.")] = None,
    class_id: Annotated[uuid.UUID | None, Query(description="Only this class.")] = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Only this group.")] = None,
    on_roll: Annotated[bool | None, Query(description="true: not left; false: left.")] = None,
) -> Response:
    page = await service.list_pupils(
        session,
        principal=principal,
        school_id=school_id,
        filters={
            "academic_year": academic_year,
            "year_group": year_group.value if year_group else None,
            "class_id": class_id,
            "group_id": group_id,
            "on_roll": on_roll,
        },
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return RowsResponse({"items": page.items, "next_cursor": page.next_cursor})


@pupils.get("/v1/pupils/{pupil_id}", response_model=PupilRead, responses=problems(404))
async def read_pupil(
    pupil_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> PupilRead:
    pupil = await service.get_pupil(session, principal=principal, pupil_id=pupil_id)
    return (await service.pupil_reads(session, [pupil]))[0]


@pupils.patch("/v1/pupils/{pupil_id}", response_model=PupilRead, responses=problems(403, 404, 409))
async def update_pupil(
    pupil_id: uuid.UUID, pupil_in: PupilUpdate, session: SessionDep, principal: PrincipalDep
) -> PupilRead:
    pupil = await service.update_pupil(
        session, principal=principal, pupil_id=pupil_id, pupil_in=pupil_in
    )
    return (await service.pupil_reads(session, [pupil]))[0]


@pupils.delete("/v1/pupils/{pupil_id}", status_code=204, responses=problems(403, 404))
async def erase_pupil(pupil_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> None:
    """Erase a pupil for good, with their enrolments, memberships and records (a leader's
    decision, audited). Syncs never delete: a full sync marks missing pupils as left."""
    await service.erase_pupil(session, principal=principal, pupil_id=pupil_id)


@pupils.put(
    "/v1/pupils/{pupil_id}/enrolments/{academic_year}",
    response_model=EnrolmentRead,
    responses={201: {"model": EnrolmentRead, "description": "Created"}, **problems(403, 404)},
)
async def put_enrolment(
    pupil_id: uuid.UUID,
    academic_year: Annotated[int, Path(ge=2000, le=2099, description="2025 is 2025/26.")],
    enrolment_in: EnrolmentPut,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> EnrolmentRead:
    enrolment, created = await service.put_enrolment(
        session,
        principal=principal,
        pupil_id=pupil_id,
        academic_year=academic_year,
        enrolment_in=enrolment_in,
    )
    if created:
        response.status_code = 201
    return EnrolmentRead.model_validate(enrolment)


@pupils.get(
    "/v1/schools/{school_id}/enrolments", response_model=EnrolmentPage, responses=problems(404)
)
async def list_enrolments(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    academic_year: AcademicYearQuery = None,
) -> EnrolmentPage:
    page = await service.list_enrolments(
        session,
        principal=principal,
        school_id=school_id,
        academic_year=academic_year,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return EnrolmentPage(
        items=[EnrolmentRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


# --- Classes -----------------------------------------------------------------------------
@classes.post(
    "/v1/schools/{school_id}/classes",
    status_code=201,
    response_model=ClassRead,
    responses=problems(403, 404, 409),
)
async def create_class(
    school_id: uuid.UUID,
    class_in: ClassCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ClassRead:
    group = await service.create_class(
        session, principal=principal, school_id=school_id, class_in=class_in
    )
    response.headers["Location"] = f"/v1/classes/{group.id}"
    return (await service.class_reads(session, principal, [group]))[0]


@classes.get("/v1/schools/{school_id}/classes", response_model=ClassPage, responses=problems(404))
async def list_classes(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
    academic_year: AcademicYearQuery = None,
) -> ClassPage:
    page = await service.list_classes(
        session,
        principal=principal,
        school_id=school_id,
        academic_year=academic_year,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ClassPage(
        items=await service.class_reads(session, principal, page.items),
        next_cursor=page.next_cursor,
    )


@classes.get("/v1/classes/{class_id}", response_model=ClassRead, responses=problems(404))
async def read_class(
    class_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ClassRead:
    group = await service.get_class(session, principal=principal, class_id=class_id)
    return (await service.class_reads(session, principal, [group]))[0]


@classes.patch(
    "/v1/classes/{class_id}", response_model=ClassRead, responses=problems(403, 404, 409)
)
async def update_class(
    class_id: uuid.UUID, class_in: ClassUpdate, session: SessionDep, principal: PrincipalDep
) -> ClassRead:
    group = await service.update_class(
        session, principal=principal, class_id=class_id, class_in=class_in
    )
    return (await service.class_reads(session, principal, [group]))[0]


# --- Custom groups -----------------------------------------------------------------------
@groups.post(
    "/v1/schools/{school_id}/groups",
    status_code=201,
    response_model=GroupRead,
    responses=problems(403, 404, 409),
)
async def create_group(
    school_id: uuid.UUID,
    group_in: GroupCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> GroupRead:
    group = await service.create_group(
        session, principal=principal, school_id=school_id, group_in=group_in
    )
    response.headers["Location"] = f"/v1/groups/{group.id}"
    return (await service.group_reads(session, principal, [group]))[0]


@groups.get("/v1/schools/{school_id}/groups", response_model=GroupPage, responses=problems(404))
async def list_groups(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    updated_since: UpdatedSince = None,
) -> GroupPage:
    page = await service.list_groups(
        session,
        principal=principal,
        school_id=school_id,
        updated_since=updated_since,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return GroupPage(
        items=await service.group_reads(session, principal, page.items),
        next_cursor=page.next_cursor,
    )


@groups.get("/v1/groups/{group_id}", response_model=GroupRead, responses=problems(404))
async def read_group(
    group_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> GroupRead:
    group = await service.get_group(session, principal=principal, group_id=group_id)
    return (await service.group_reads(session, principal, [group]))[0]


@groups.patch("/v1/groups/{group_id}", response_model=GroupRead, responses=problems(403, 404, 409))
async def update_group(
    group_id: uuid.UUID, group_in: GroupUpdate, session: SessionDep, principal: PrincipalDep
) -> GroupRead:
    group = await service.update_group(
        session, principal=principal, group_id=group_id, group_in=group_in
    )
    return (await service.group_reads(session, principal, [group]))[0]


@groups.delete("/v1/groups/{group_id}", status_code=204, responses=problems(403, 404))
async def delete_group(group_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> None:
    await service.delete_group(session, principal=principal, group_id=group_id)


# --- Bulk sync ---------------------------------------------------------------------------
SYNC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RosterSync"}}},
    }
}
SYNC_DOC = """Upsert up to 10,000 pupils with their enrolment, characteristics and class and group
memberships, and the classes they are in, keyed by external_id (else UPN).

Re-sending the same payload changes nothing and writes no audit. `mode=all_or_nothing` (the
default) stores nothing if any row is bad (422, `errors` naming each row's field);
`mode=partial` stores the good rows and reports the bad. `full=true` marks pupils on roll this
year but missing from the payload as left. Send an `Idempotency-Key` to make retries safe."""


async def _sync(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: str | None,
    **target: uuid.UUID,
) -> RowsResponse:
    body = await request.body()
    status, result, replayed = await roster_sync.sync_request(
        session,
        principal=principal,
        body=body,
        idempotency_key=idempotency_key,
        request_fingerprint=idempotency.fingerprint(
            request.method, request.url.path, request.url.query, body
        ),
        **target,
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    # A result a row: written by pydantic-core (the same bytes as json.dumps, in a third of
    # the time for thousands of rows).
    return RowsResponse(result, status_code=status, headers=headers)


@sync.post(
    "/v1/schools/{school_id}/roster/sync",
    response_model=SyncResult,
    responses=problems(403, 404),
    openapi_extra=SYNC_BODY,
    description=SYNC_DOC,
)
async def sync_school_roster(
    school_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> RowsResponse:
    return await _sync(request, session, principal, idempotency_key, school_id=school_id)


@sync.post(
    "/v1/trusts/{trust_id}/roster/sync",
    response_model=SyncResult,
    responses=problems(403, 404),
    openapi_extra=SYNC_BODY,
    description=SYNC_DOC + "\n\nTrust-wide: each class and pupil names its school by `school_urn`.",
)
async def sync_trust_roster(
    trust_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> RowsResponse:
    return await _sync(request, session, principal, idempotency_key, trust_id=trust_id)


# --- File imports ------------------------------------------------------------------------
IMPORT_DOC = """The file is the raw request body. It is read (and a malformed file rejected, naming
the file and line or element) before anything is stored. Up to {inline} pupils are stored at once
(201, the finished job); larger files are stored by a background job (202 and a `Location` to
poll)."""


ImportMode = Annotated[SyncMode, Query(description="all_or_nothing or partial.")]
ImportFull = Annotated[bool, Query(description="Mark pupils missing from the file as left.")]
ImportFilename = Annotated[
    str | None, Query(max_length=255, description="The file's name, for messages and the job.")
]


class ImportOptions:
    def __init__(
        self,
        mode: ImportMode = "all_or_nothing",
        full: ImportFull = False,
        academic_year: AcademicYearQuery = None,
        filename: ImportFilename = None,
    ) -> None:
        self.mode, self.full, self.academic_year, self.filename = (
            mode,
            full,
            academic_year,
            filename,
        )


ImportOptionsDep = Annotated[ImportOptions, Depends()]

GradeMappingQuery = Annotated[
    GradeMapping,
    Query(
        description="How the file's grades name NC year groups. england (default): grade 07 "
        "is Year 7, KG and TK Reception, PK N2, PR and IT N1. us_age: a US grade is the year "
        "of pupils the same age, grade N Year N+1 (KG Year 1, PK and TK Reception, PR N2). "
        "R, N1, N2, Y7 and 'Year 7' mean themselves in both."
    ),
]
YearGroupQuery = Annotated[
    YearGroup | None,
    Query(
        description="The year group of students with no grades whose classes' grades give "
        "none either (N1, N2, R or 1-13)."
    ),
]


class OneRosterOptions:
    def __init__(
        self,
        grade_mapping: GradeMappingQuery = DEFAULT_GRADE_MAPPING,
        year_group: YearGroupQuery = None,
    ) -> None:
        self.grade_mapping, self.year_group = grade_mapping, year_group


OneRosterOptionsDep = Annotated[OneRosterOptions, Depends()]


async def _import(
    kind: str,
    school_id: uuid.UUID,
    request: Request,
    session: AsyncSession,
    principal: Principal,
    background: BackgroundTasks,
    options: ImportOptions,
    oneroster: OneRosterOptions | None = None,
) -> JSONResponse:
    extra = (
        {"grade_mapping": oneroster.grade_mapping, "year_group": oneroster.year_group}
        if oneroster is not None
        else {}
    )
    job, run_later = await imports.start_import(
        session,
        principal=principal,
        school_id=school_id,
        kind=kind,
        data=await request.body(),
        filename=options.filename,
        mode=options.mode,
        full=options.full,
        academic_year=options.academic_year,
        limits=imports.zip_limits(request.app.state.settings),
        **extra,
    )
    body = ImportJobRead.model_validate(job).model_dump(mode="json")
    headers = {"Location": f"/v1/import-jobs/{job.id}"}
    if run_later is None:
        return JSONResponse(body, status_code=201, headers=headers)
    background.add_task(run_later, request.app.state.sessions)
    return JSONResponse(body, status_code=202, headers=headers)


ONEROSTER_DOC = """

demographics.csv, roles.csv and users' grades are optional (pupils then have no birth date;
a user's year group comes from their classes' grades, then `year_group`). A class whose
teacher has no account yet is stored without them, with a warning. Harmless slips (an empty
trailing field, blank trailing header columns, a header with no rows) are read with a warning
naming the file and row; the job's `warnings` say all of it, and `grade_mapping` how grades
were read."""

IMPORT_RESPONSES = {202: {"model": ImportJobRead, "description": "Accepted"}, **problems(403, 404)}


@sync.post(
    "/v1/schools/{school_id}/imports/ctf",
    status_code=201,
    response_model=ImportJobRead,
    responses=IMPORT_RESPONSES,
    openapi_extra=raw_body("application/xml"),
    description="Import a DfE Common Transfer File (CTF 25 XML).\n\n"
    + IMPORT_DOC.format(inline=imports.INLINE_PUPILS),
)
async def import_ctf(
    school_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
    options: ImportOptionsDep,
) -> JSONResponse:
    return await _import("ctf", school_id, request, session, principal, background, options)


@sync.post(
    "/v1/schools/{school_id}/imports/oneroster",
    status_code=201,
    response_model=ImportJobRead,
    responses=IMPORT_RESPONSES,
    openapi_extra=raw_body("application/zip"),
    description="Import a 1EdTech OneRoster 1.1 or 1.2 CSV zip (see docs/oneroster-mapping.md)."
    "\n\n" + IMPORT_DOC.format(inline=imports.INLINE_PUPILS) + ONEROSTER_DOC,
)
async def import_oneroster(
    school_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
    options: ImportOptionsDep,
    oneroster: OneRosterOptionsDep,
) -> JSONResponse:
    return await _import(
        "oneroster", school_id, request, session, principal, background, options, oneroster
    )


@sync.get("/v1/import-jobs/{job_id}", response_model=ImportJobRead, responses=problems(404))
async def read_import_job(
    job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ImportJobRead:
    job = await imports.get_job(session, principal=principal, job_id=job_id)
    return ImportJobRead.model_validate(job)


# Documented for clients: the body of the sync operations (read row by row by the service).
EXTRA_SCHEMAS = (RosterSync,)
