"""Frameworks imported from files: a CSV of objectives, or a 1EdTech CASE 1.0 package."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.deps import PrincipalDep, SessionDep
from app.api.rest.common import problems, raw_body, raw_json_body
from app.api.schemas.curriculum import FrameworkImportRead
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping
from app.errors import InvalidInput
from app.services.framework_imports import import_framework

router = APIRouter(tags=["frameworks"])


class FrameworkImportOptions:
    def __init__(
        self,
        subject_id: Annotated[uuid.UUID, Query(description="The framework's subject.")],
        trust_id: Annotated[uuid.UUID | None, Query(description="Owner: a trust.")] = None,
        school_id: Annotated[uuid.UUID | None, Query(description="Owner: a school.")] = None,
        scale_id: Annotated[
            uuid.UUID | None, Query(description="The depth scale its objectives are judged on.")
        ] = None,
        name: Annotated[
            str | None,
            Query(min_length=1, max_length=200, description="Default: the file's title."),
        ] = None,
        curriculum_years: Annotated[
            str | None,
            Query(max_length=16, description="For objectives the file gives no year: e.g. 3-4."),
        ] = None,
        filename: Annotated[
            str | None, Query(max_length=255, description="The file's name, for messages.")
        ] = None,
        grade_mapping: Annotated[
            GradeMapping,
            Query(
                description="CASE: how educationLevel grades name curriculum years. england "
                "(default): grade 03 is Year 3, KG Reception. us_age: grade N is Year N+1, KG "
                "Year 1, PK Reception."
            ),
        ] = DEFAULT_GRADE_MAPPING,
    ) -> None:
        if (trust_id is None) == (school_id is None):
            raise InvalidInput.at("query.school_id", "give exactly one of trust_id or school_id")
        self.owner = {"trust_id": trust_id, "school_id": school_id}
        self.subject_id, self.scale_id, self.name = subject_id, scale_id, name
        self.curriculum_years, self.filename = curriculum_years, filename
        self.grade_mapping = grade_mapping


OptionsDep = Annotated[FrameworkImportOptions, Depends()]
DOC = """The file is the raw request body, read whole before anything is stored: a problem names
the row (or item) of a bad file, and nothing is created. Answers the new framework, with the
import's warnings (what the file held that was not read)."""


async def _import(
    file_format: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    options: FrameworkImportOptions,
    response: Response,
) -> FrameworkImportRead:
    framework, objectives, parsed = await import_framework(
        session,
        principal=principal,
        file_format=file_format,
        data=await request.body(),
        filename=options.filename,
        owner=options.owner,
        subject_id=options.subject_id,
        scale_id=options.scale_id,
        name=options.name,
        curriculum_years=options.curriculum_years,
        grade_mapping=options.grade_mapping,
    )
    response.headers["Location"] = f"/v1/frameworks/{framework.id}"
    count = sum(1 for objective in objectives if not objective.archived)
    return FrameworkImportRead.model_validate(
        framework,
        update={
            "objective_count": count,
            "warnings": parsed.warnings,
            "grade_mapping": options.grade_mapping if file_format == "case" else None,
        },
    )


@router.post(
    "/v1/frameworks/imports/csv",
    status_code=201,
    response_model=FrameworkImportRead,
    responses=problems(403, 409),
    openapi_extra=raw_body("text/csv"),
    description="Import a framework from a CSV of objectives with the columns subject, "
    "curriculum_year, strand, sub_strand, code, statement (and optionally key).\n\n" + DOC,
)
async def import_objectives_csv(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    options: OptionsDep,
    response: Response,
) -> FrameworkImportRead:
    return await _import("csv", request, session, principal, options, response)


@router.post(
    "/v1/frameworks/imports/case",
    status_code=201,
    response_model=FrameworkImportRead,
    responses=problems(403, 409),
    openapi_extra=raw_json_body("A CASE 1.0 package: CFDocument, CFItems, CFAssociations."),
    description="Import a framework from a 1EdTech CASE 1.0 JSON package (CFDocument, CFItems, "
    "CFAssociations; isChildOf gives the hierarchy, humanCodingScheme the codes, educationLevel "
    "(or educationalLevel) the curriculum years, read by grade_mapping).\n\n" + DOC,
)
async def import_case_package(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    options: OptionsDep,
    response: Response,
) -> FrameworkImportRead:
    return await _import("case", request, session, principal, options, response)
