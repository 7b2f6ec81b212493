"""Reports: ad hoc and from templates, for a school or across a trust, as JSON, CSV or XLSX;
the pupils behind a progress-matrix cell; report templates and their versions."""

from __future__ import annotations

import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from app.api.deps import PagingDep, PrincipalDep, ReportSessionDep, SessionDep
from app.api.rest.common import RowsResponse, problems
from app.api.schemas.reports import (
    MatrixPupilsRead,
    MatrixPupilsRequest,
    PupilInCell,
    ReportRead,
    ReportRequest,
    ReportTemplateCreate,
    ReportTemplatePage,
    ReportTemplateRead,
    ReportTemplateUpdate,
    ReportTemplateVersionPage,
    ReportTemplateVersionRead,
)
from app.domain.reports import ReportTable
from app.reports.render import render_csv, render_json, render_xlsx
from app.services import reports as service

router = APIRouter(tags=["reports"])
templates = APIRouter(prefix="/v1/report-templates", tags=["report-templates"])

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


PDF = "application/pdf"
_MEDIA = {Format.JSON: "application/json", Format.CSV: CSV, Format.XLSX: XLSX, Format.PDF: PDF}
_DISPOSITION = {
    "Content-Disposition": {
        "description": 'CSV and XLSX: attachment; filename="<report title>.csv" (or .xlsx).',
        "schema": {"type": "string"},
    }
}
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": ReportRead,
        "description": "The report, as JSON, CSV (RFC 4180, UTF-8), XLSX or a printable PDF "
        "pack (A4: the table on one page, its charts, the key to c and what each figure "
        "means): by `format`, else by `Accept`. Suppressed figures are null in JSON and `c` "
        "in CSV, XLSX and PDF.",
        "content": {
            CSV: {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            PDF: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": _DISPOSITION,
    },
    **problems(403, 404),
}

FormatQuery = Annotated[
    Format | None,
    Query(description="json, csv, xlsx or pdf; without it, chosen by the Accept header."),
]
BomQuery = Annotated[
    bool, Query(description="CSV: start with a byte order mark, so Excel reads it as UTF-8.")
]
ChartsQuery = Annotated[
    bool,
    Query(
        description="JSON: add `charts`, the report's natural pictures as Vega-Lite "
        "specifications (below/at/above, group comparisons, change over points, progress "
        "matrices), suppressed as the table is."
    ),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def _chosen(format: Format | None, accept: str | None) -> Format:
    """``format=`` wins; else the first of CSV or XLSX the Accept header names; else JSON."""
    if format is not None:
        return format
    for part in (accept or "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        for candidate, name in _MEDIA.items():
            if media == name:
                return candidate
    return Format.JSON


def _filename(title: str, format: Format) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "report"
    return f"{stem[:80]}.{format.value}"


async def answer(
    table: ReportTable,
    audience: service.Audience,
    format: Format | None,
    accept: str | None,
    bom: bool,
    charts: bool = False,
) -> Response:
    """The report in the chosen format; CSV and XLSX are streamed as they are written."""
    chosen = _chosen(format, accept)
    if chosen is Format.JSON:
        return RowsResponse(render_json(table, charts=charts))
    headers = {"Content-Disposition": f'attachment; filename="{_filename(table.title, chosen)}"'}
    if chosen is Format.PDF:
        pack = await service.printed_pack(audience, table, today=date.today())
        return Response(pack, media_type=PDF, headers=headers)
    if chosen is Format.CSV:
        return StreamingResponse(
            render_csv(table, bom=bom), media_type=f"{CSV}; charset=utf-8", headers=headers
        )
    return StreamingResponse(render_xlsx(table), media_type=XLSX, headers=headers)


# --- Running reports ------------------------------------------------------------------------
@router.post(
    "/v1/schools/{school_id}/reports",
    response_model=ReportRead,
    responses=REPORT_RESPONSES,
    description="Run a report definition over the school's pupils that you reach. Governors "
    "(and anyone who does not see the school's pupils) get small groups suppressed.",
)
async def run_school_report(
    school_id: uuid.UUID,
    body: ReportRequest,
    session: ReportSessionDep,
    principal: PrincipalDep,
    format: FormatQuery = None,
    bom: BomQuery = False,
    charts: ChartsQuery = False,
    accept: AcceptHeader = None,
) -> Response:
    audience = await service.school_audience(session, principal=principal, school_id=school_id)
    table = await service.run_report(session, audience=audience, definition=body.definition)
    return await answer(table, audience, format, accept, bom, charts)


@router.post(
    "/v1/trusts/{trust_id}/reports",
    response_model=ReportRead,
    responses=REPORT_RESPONSES,
    description="Run a report definition across the trust's schools that you may report on, "
    "computed from the pupils of all of them (never a mean of school means).",
)
async def run_trust_report(
    trust_id: uuid.UUID,
    body: ReportRequest,
    session: ReportSessionDep,
    principal: PrincipalDep,
    format: FormatQuery = None,
    bom: BomQuery = False,
    charts: ChartsQuery = False,
    accept: AcceptHeader = None,
) -> Response:
    audience = await service.trust_audience(session, principal=principal, trust_id=trust_id)
    table = await service.run_report(session, audience=audience, definition=body.definition)
    return await answer(table, audience, format, accept, bom, charts)


VersionQuery = Annotated[
    int | None, Query(ge=1, description="A stored version (default: the current one).")
]


@router.get(
    "/v1/schools/{school_id}/report-templates/{template_id}/report",
    response_model=ReportRead,
    responses=REPORT_RESPONSES,
    description="Run a template of the school (or of its trust) for the school.",
)
async def run_school_template(
    school_id: uuid.UUID,
    template_id: uuid.UUID,
    session: ReportSessionDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    format: FormatQuery = None,
    bom: BomQuery = False,
    charts: ChartsQuery = False,
    accept: AcceptHeader = None,
) -> Response:
    audience = await service.school_audience(session, principal=principal, school_id=school_id)
    _, table = await service.run_template(
        session, principal=principal, audience=audience, template_id=template_id, version=version
    )
    return await answer(table, audience, format, accept, bom, charts)


@router.get(
    "/v1/trusts/{trust_id}/report-templates/{template_id}/report",
    response_model=ReportRead,
    responses=REPORT_RESPONSES,
    description="Run a template of the trust across its schools. As a PDF, the trust's pack: "
    "the trust's page, then a page per school (each school's own report, as you see it there).",
)
async def run_trust_template(
    trust_id: uuid.UUID,
    template_id: uuid.UUID,
    session: ReportSessionDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    format: FormatQuery = None,
    bom: BomQuery = False,
    charts: ChartsQuery = False,
    accept: AcceptHeader = None,
) -> Response:
    audience = await service.trust_audience(session, principal=principal, trust_id=trust_id)
    if _chosen(format, accept) is Format.PDF:
        pack, table = await service.trust_template_pack(
            session,
            principal=principal,
            audience=audience,
            template_id=template_id,
            version=version,
            today=date.today(),
        )
        name = _filename(table.title, Format.PDF)
        return Response(
            pack,
            media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    _, table = await service.run_template(
        session, principal=principal, audience=audience, template_id=template_id, version=version
    )
    return await answer(table, audience, format, accept, bom, charts)


class Picture(StrEnum):
    SVG = "svg"
    PNG = "png"


_PICTURES = {Picture.SVG: "image/svg+xml", Picture.PNG: "image/png"}
PICTURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The chart as SVG (with its title and text alternative inside) or PNG; "
        "`X-Chart-Description` repeats the text alternative.",
        "content": {
            "image/svg+xml": {"schema": {"type": "string"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **problems(403, 404),
}
ChartIndex = Annotated[
    int,
    Path(ge=0, le=99, description="Which of the report's charts (`charts=true` lists them)."),
]
PictureQuery = Annotated[Picture, Query(description="svg (default) or png.")]


async def picture(table: ReportTable, chart: int, image: Picture) -> Response:
    """One chart of the report as an image, named after the report."""
    body, description = await service.chart_picture(table, chart, svg=image is Picture.SVG)
    name = _filename(f"{table.title} {chart}", Format.JSON).removesuffix(".json")
    return Response(
        body,
        media_type=_PICTURES[image],
        headers={
            "Content-Disposition": f'inline; filename="{name}.{image.value}"',
            "X-Chart-Description": quote(description, safe=" ,.;:()%'-"),
        },
    )


@router.get(
    "/v1/schools/{school_id}/report-templates/{template_id}/charts/{chart}",
    response_class=Response,
    responses=PICTURE_RESPONSES,
    description="One of a school template's charts as an image, for the same audience as the "
    "report (governors: suppressed).",
)
async def school_template_chart(
    school_id: uuid.UUID,
    template_id: uuid.UUID,
    chart: ChartIndex,
    session: ReportSessionDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    image: PictureQuery = Picture.SVG,
) -> Response:
    audience = await service.school_audience(session, principal=principal, school_id=school_id)
    _, table = await service.run_template(
        session, principal=principal, audience=audience, template_id=template_id, version=version
    )
    return await picture(table, chart, image)


@router.get(
    "/v1/trusts/{trust_id}/report-templates/{template_id}/charts/{chart}",
    response_class=Response,
    responses=PICTURE_RESPONSES,
    description="One of a trust template's charts as an image, across the trust's schools.",
)
async def trust_template_chart(
    trust_id: uuid.UUID,
    template_id: uuid.UUID,
    chart: ChartIndex,
    session: ReportSessionDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    image: PictureQuery = Picture.SVG,
) -> Response:
    audience = await service.trust_audience(session, principal=principal, trust_id=trust_id)
    _, table = await service.run_template(
        session, principal=principal, audience=audience, template_id=template_id, version=version
    )
    return await picture(table, chart, image)


@router.post(
    "/v1/schools/{school_id}/reports/matrix-pupils",
    response_model=MatrixPupilsRead,
    responses=problems(403, 404),
    description="The pupils behind one cell of a progress matrix: for those who see the "
    "school's pupils (a teacher: the pupils they teach), never for governors.",
)
async def list_matrix_pupils(
    school_id: uuid.UUID,
    body: MatrixPupilsRequest,
    session: ReportSessionDep,
    principal: PrincipalDep,
) -> MatrixPupilsRead:
    pupils = await service.matrix_pupils(
        session, principal=principal, school_id=school_id, request=body
    )
    return MatrixPupilsRead(
        pupils=[
            PupilInCell(
                id=p.id,
                upn=p.upn,
                forename=p.preferred_forename or p.legal_forename,
                surname=p.preferred_surname or p.legal_surname,
            )
            for p in pupils
        ]
    )


# --- Templates ------------------------------------------------------------------------------
@templates.post(
    "", status_code=201, response_model=ReportTemplateRead, responses=problems(403, 409)
)
async def create_template(
    template_in: ReportTemplateCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ReportTemplateRead:
    template = await service.create_template(session, principal=principal, template_in=template_in)
    response.headers["Location"] = f"/v1/report-templates/{template.id}"
    return ReportTemplateRead.model_validate(template)


@templates.get("", response_model=ReportTemplatePage, responses=problems(403, 404))
async def list_templates(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    school_id: Annotated[
        uuid.UUID | None, Query(description="Those the school may run: its own and its trust's.")
    ] = None,
    trust_id: Annotated[uuid.UUID | None, Query(description="Only the trust's own.")] = None,
    include_archived: Annotated[bool, Query(description="Archived ones too.")] = False,
) -> ReportTemplatePage:
    page = await service.list_templates(
        session,
        principal=principal,
        school_id=school_id,
        trust_id=trust_id,
        include_archived=include_archived,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ReportTemplatePage(
        items=[ReportTemplateRead.model_validate(t) for t in page.items],
        next_cursor=page.next_cursor,
    )


@templates.get("/{template_id}", response_model=ReportTemplateRead, responses=problems(404))
async def read_template(
    template_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ReportTemplateRead:
    template = await service.get_template(session, principal=principal, template_id=template_id)
    return ReportTemplateRead.model_validate(template)


@templates.patch(
    "/{template_id}",
    response_model=ReportTemplateRead,
    responses=problems(403, 404),
    description="Change a template. A new name or definition makes a new version; earlier "
    "versions are kept and stay runnable. `archived: true` archives it (never deleted).",
)
async def update_template(
    template_id: uuid.UUID,
    template_in: ReportTemplateUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> ReportTemplateRead:
    template = await service.update_template(
        session, principal=principal, template_id=template_id, template_in=template_in
    )
    return ReportTemplateRead.model_validate(template)


@templates.get(
    "/{template_id}/versions", response_model=ReportTemplateVersionPage, responses=problems(404)
)
async def list_template_versions(
    template_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ReportTemplateVersionPage:
    page = await service.list_versions(
        session,
        principal=principal,
        template_id=template_id,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return ReportTemplateVersionPage(
        items=[
            ReportTemplateVersionRead.model_validate(v, from_attributes=True) for v in page.items
        ],
        next_cursor=page.next_cursor,
    )
