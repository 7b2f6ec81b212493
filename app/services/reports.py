"""Reports: running a definition (sent ad hoc, or a stored template) for one school or across a
trust, the pupils behind a progress-matrix cell, and the templates themselves.

Who sees what (DESIGN, need to know), all asked of the one policy:

- a report runs over the pupils the caller reaches for reports (Resource.REPORT): a school's
  leaders, governors and integration clients with reports:read the whole school, a teacher the
  pupils they teach, a trust's admins and analysts every school of the trust; pupils and
  parents run no reports (the school is not found for them);
- a caller who does not see pupils in every school of the report (``sees_pupils``: a governor,
  a reports:read client without roster rights, a teacher who is also the school's governor)
  gets it with small groups suppressed: any cell
  counting fewer pupils than the school's ``report_threshold`` (the highest of the schools', in
  a trust report), or than the definition's own ``suppress_below`` if that is higher, and
  whatever would let such a count be worked out;
- only those who see the school's pupils may list the pupils behind a matrix cell.

Templates belong to a school or to a trust (shared with its schools). Whoever may read
definitions or run reports there may read them; whoever may write definitions there may
create and change them. Each change of name or definition is a new version; every version is
kept and stays runnable. Templates are archived, never deleted. Every change is audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.reports import (
    MatrixPupilsRequest,
    ReportTemplateCreate,
    ReportTemplateUpdate,
)
from app.auth import guards
from app.auth.policy import Action, Reach, Resource, reach, sees_pupils, template_readers
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.queries import curriculum as definition_queries
from app.db.queries import reports as queries
from app.db.queries.paging import Page
from app.db.queries.tenancy import get_school
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import Pupil
from app.db.tenancy import School
from app.domain.reports import DefinitionError, ReportDefinition, ReportTable, parse_definition
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.reports import engine
from app.reports.charts import chart_specs
from app.reports.pack import Pack, render_pdf
from app.reports.pictures import render_png, render_svg
from app.services.audit import record, snapshot
from app.services.curriculum import check_new_owner

TEMPLATE = "report template"


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a report is run for: the pupils they reach, the schools it covers, and the
    threshold below which counts are hidden from them (None: nothing hidden)."""

    reach: Reach
    schools: tuple[School, ...]
    suppress_below: int | None
    trust_id: uuid.UUID | None
    name: str = ""  # the school's or the trust's, for a printed pack

    @property
    def school_ids(self) -> list[uuid.UUID]:
        return [s.id for s in self.schools]


def _audience(
    principal: Principal, schools: Sequence[School], trust_id: uuid.UUID | None, name: str
) -> Audience:
    hidden = [s for s in schools if not sees_pupils(principal, school_id=s.id)]
    return Audience(
        reach=reach(principal, Resource.REPORT, Action.READ),
        schools=tuple(schools),
        suppress_below=max((s.report_threshold for s in hidden), default=None),
        trust_id=trust_id,
        name=name,
    )


async def school_audience(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID
) -> Audience:
    """A school's reports, as the caller may see them (the school is not found for those who
    may run no reports there)."""
    school = await guards.school_for(session, principal, Resource.REPORT, school_id)
    return _audience(principal, [school], school.trust_id, school.name)


async def trust_audience(
    session: AsyncSession, *, principal: Principal, trust_id: uuid.UUID
) -> Audience:
    """A trust's reports cover the trust's schools the caller may run reports in: every one
    for the trust's admins and analysts, figures computed from the pupils of all of them."""
    trust = await guards.trust_for(session, principal, Resource.REPORT, trust_id)
    found = reach(principal, Resource.REPORT, Action.READ)
    schools = [
        s
        for s in await queries.schools_of_trust(session, trust.id)
        if found.touches(school_id=s.id)
    ]
    if not schools:
        raise InvalidInput.at("path.trust_id", "the trust has no schools to report on")
    return _audience(principal, schools, trust.id, trust.name)


def _invalid(exc: DefinitionError, prefix: str) -> InvalidInput:
    return InvalidInput.at(f"{prefix}.{exc.field}" if exc.field else prefix, exc.message)


def read_definition(raw: Any, where: str) -> ReportDefinition:
    """A definition read and checked (app.domain.reports.parse_definition), or refused naming
    its field under ``where``."""
    try:
        return parse_definition(raw)
    except DefinitionError as exc:
        raise _invalid(exc, where) from exc


async def run_report(
    session: AsyncSession,
    *,
    audience: Audience,
    definition: Mapping[str, Any] | ReportDefinition,
    where: str = "body.definition",
    today: date | None = None,
) -> ReportTable:
    """Run a definition for an audience (``school_audience`` or ``trust_audience``). A
    definition that cannot run here is refused naming its field under ``where``."""
    parsed = (
        definition
        if isinstance(definition, ReportDefinition)
        else read_definition(definition, where)
    )
    try:
        return await engine.run_report(
            session,
            definition=parsed,
            reach=audience.reach,
            school_ids=audience.school_ids,
            suppress_below=audience.suppress_below,
            today=today,
        )
    except DefinitionError as exc:
        raise _invalid(exc, where) from exc


async def trust_batch(
    session: AsyncSession,
    *,
    principal: Principal,
    trust_id: uuid.UUID,
    definition: ReportDefinition,
    today: date | None = None,
) -> engine.Batch:
    """A trust's report (``Batch.total``: what ``trust_audience`` and ``run_report`` give)
    aggregated in the same statements as each of its schools' own, which ``school_reports``
    then takes from it: a trust's dashboard asks for both, at the cost of one report. Not
    found for those who may run no reports there."""
    audience = await trust_audience(session, principal=principal, trust_id=trust_id)
    return await engine.run_batch(
        session,
        definition=definition,
        reach=audience.reach,
        school_ids=audience.school_ids,
        total=engine.Total(audience.suppress_below),
        today=today,
    )


def trust_table(batch: engine.Batch, where: str = "definition") -> ReportTable:
    """The trust's table of a ``trust_batch``, or the refusal naming its field."""
    if isinstance(batch.total, DefinitionError):
        raise _invalid(batch.total, where)
    assert batch.total is not None
    return batch.total


async def school_reports(
    session: AsyncSession,
    *,
    principal: Principal,
    keys: Sequence[tuple[uuid.UUID, ReportDefinition]],
    batches: Sequence[engine.Batch] = (),
    where: str = "definition",
    today: date | None = None,
) -> list[ReportTable | InvalidInput | None]:
    """Reports for many schools at once (a trust's dashboard), for each (school, definition)
    exactly what ``school_audience`` and ``run_report`` give for that school alone: None
    where the caller may run no reports (the school is not found for them), the refusal
    where the definition cannot run there. A school already aggregated in one of ``batches``
    (the caller's, e.g. its trust's ``trust_batch``) is taken from it; each definition runs
    once over all the other schools (``engine.run_batch``), so the statements do not grow
    with the schools."""
    schools = await guards.schools_to_read(
        session, principal, Resource.REPORT, {school_id for school_id, _ in keys}
    )
    wanted: dict[ReportDefinition, dict[uuid.UUID, Audience]] = defaultdict(dict)
    for school_id, definition in keys:
        if school_id in schools:
            school = schools[school_id]
            wanted[definition][school_id] = _audience(
                principal, [school], school.trust_id, school.name
            )
    found: dict[tuple[uuid.UUID, ReportDefinition], ReportTable | InvalidInput] = {}
    for definition, audiences in wanted.items():
        ran = {
            school_id: batch
            for batch in batches
            if batch.definition == definition
            for school_id in batch.found
        }
        rest = [school_id for school_id in audiences if school_id not in ran]
        if rest:
            # One principal: one reach over pupils; the thresholds are each school's.
            (reach_,) = {audiences[school_id].reach for school_id in rest}
            batch = await engine.run_batch(
                session, definition=definition, reach=reach_, school_ids=rest, today=today
            )
            ran.update(dict.fromkeys(rest, batch))
        for school_id, audience in audiences.items():
            table = ran[school_id].school(school_id, audience.suppress_below)
            refused = isinstance(table, DefinitionError)
            found[school_id, definition] = _invalid(table, where) if refused else table
    return [found.get(key) for key in keys]


async def run_template(
    session: AsyncSession,
    *,
    principal: Principal,
    audience: Audience,
    template_id: uuid.UUID,
    version: int | None,
    today: date | None = None,
) -> tuple[ReportTemplate, ReportTable]:
    """Run a template (its current version, or any stored one) for an audience. The template
    must be the school's own or its trust's (a trust report: the trust's); any other is not
    found here."""
    template, definition = await _runnable(session, principal, audience, template_id, version)
    table = await run_report(
        session, audience=audience, definition=definition, where="definition", today=today
    )
    return template, table


async def _runnable(
    session: AsyncSession,
    principal: Principal,
    audience: Audience,
    template_id: uuid.UUID,
    version: int | None,
) -> tuple[ReportTemplate, dict[str, Any]]:
    template = await get_template(session, principal=principal, template_id=template_id)
    if audience.trust_id is not None and template.trust_id == audience.trust_id:
        shared = True
    else:
        shared = len(audience.schools) == 1 and template.school_id == audience.schools[0].id
    if not shared:
        raise NotFound(f"{TEMPLATE} not found")
    if version is None or version == template.version:
        return template, template.definition
    stored = await queries.template_version(session, template.id, version)
    if stored is None:
        raise NotFound(f"version {version} of this {TEMPLATE} not found")
    return template, stored.definition


async def matrix_pupils(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    request: MatrixPupilsRequest,
    today: date | None = None,
) -> list[Pupil]:
    """The pupils behind one cell of a progress matrix, for those who see the school's pupils
    (a leader: all of them; a teacher: those they teach). A governor sees the matrix's counts
    only."""
    audience = await school_audience(session, principal=principal, school_id=school_id)
    if not sees_pupils(principal, school_id=school_id):
        raise Forbidden("you see this school's reports as figures only, not pupils")
    if (request.definition is None) == (request.template_id is None):
        raise InvalidInput.at("body.definition", "give a definition or a template_id (one)")
    where = "body.definition"
    if request.template_id is not None:
        try:
            _, raw = await _runnable(
                session, principal, audience, request.template_id, request.version
            )
        except NotFound:
            raise InvalidInput.at("body.template_id", f"no such {TEMPLATE} here") from None
        where = "definition"
    else:
        raw = request.definition or {}
    definition = read_definition(raw, where)
    fields = {"metric": "body.metric", "from": "body.from_category", "to": "body.to_category"}
    try:
        ids = await engine.matrix_cell_pupils(
            session,
            definition=definition,
            reach=audience.reach,
            school_ids=audience.school_ids,
            metric=request.metric,
            keys=request.keys,
            from_category=request.from_category.value,
            to_category=request.to_category.value,
            today=today,
        )
    except DefinitionError as exc:
        if exc.field in fields:
            raise InvalidInput.at(fields[exc.field], exc.message) from exc
        raise _invalid(exc, where) from exc
    except (ValueError, KeyError) as exc:  # a row key that is no row of this report
        raise InvalidInput.at("body.keys", "not a row of this report") from exc
    return await queries.pupils_by_id(session, ids)


# --- Templates -------------------------------------------------------------------------------
def _visible(principal: Principal, template: ReportTemplate | None) -> ReportTemplate:
    if template is None or not template_readers(principal).covers(
        trust_id=template.trust_id, school_id=template.school_id
    ):
        raise NotFound(f"{TEMPLATE} not found")
    return template


async def _owner_schools(session: AsyncSession, owner: Any) -> list[uuid.UUID]:
    if owner.school_id is not None:
        return [owner.school_id]
    return [s.id for s in await queries.schools_of_trust(session, owner.trust_id)]


async def _checked(session: AsyncSession, owner: Any, raw: Any) -> dict[str, Any]:
    """A template's definition as it will be stored: parsed, and its subjects and measures
    found among those its owner uses (a measure of another school is refused)."""
    definition = read_definition(raw, "body.definition")
    try:
        await engine.check_names(
            session, definition=definition, school_ids=await _owner_schools(session, owner)
        )
    except DefinitionError as exc:
        raise _invalid(exc, "body.definition") from exc
    return definition.to_json()


async def _code_free(session: AsyncSession, owner: Any, code: str, besides: Any) -> None:
    if await definition_queries.taken(
        session, ReportTemplate, owner, "code", code, besides=besides
    ):
        raise Conflict(f"there is already a {TEMPLATE} with code {code} here")


def _save_version(
    session: AsyncSession, principal: Principal | None, template: ReportTemplate
) -> None:
    session.add(
        ReportTemplateVersion(
            template_id=template.id,
            version=template.version,
            name=template.name,
            definition=template.definition,
            saved_at=utcnow(),
            saved_by=principal.id if principal else None,
        )
    )


def _audit(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    template: ReportTemplate,
    before: dict[str, Any] | None,
) -> None:
    record(
        session,
        principal,
        action=action,
        entity=template,
        before=before,
        trust_id=template.trust_id,
        school_id=template.school_id,
    )


async def create_template(
    session: AsyncSession, *, principal: Principal, template_in: ReportTemplateCreate
) -> ReportTemplate:
    """A new template (version 1) for a school or a trust, by those who may write its
    definitions."""
    await check_new_owner(session, principal, template_in)
    definition = await _checked(session, template_in, template_in.definition)
    await _code_free(session, template_in, template_in.code, None)
    template = ReportTemplate(
        trust_id=template_in.trust_id,
        school_id=template_in.school_id,
        code=template_in.code,
        name=template_in.name,
        description=template_in.description,
        definition=definition,
    )
    session.add(template)
    await session.flush()
    _save_version(session, principal, template)
    _audit(session, principal, "create", template, None)
    await session.flush()
    return template


async def get_template(
    session: AsyncSession, *, principal: Principal, template_id: uuid.UUID
) -> ReportTemplate:
    return _visible(principal, await session.get(ReportTemplate, template_id))


async def list_templates(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID | None,
    trust_id: uuid.UUID | None,
    include_archived: bool,
    cursor: str | None,
    limit: int,
) -> Page[ReportTemplate]:
    """Templates within reach; with ``school_id``, those the school may run (its own and its
    trust's); with ``trust_id``, the trust's own."""
    readable = template_readers(principal)
    if readable.empty:
        raise Forbidden("you may not read report templates")
    filters: dict[str, Any] = {"archived": None if include_archived else False}
    school_trust = None
    if school_id is not None:
        school = await get_school(session, school_id)
        if school is None or not readable.covers(school_id=school_id):
            raise NotFound("school not found")
        school_trust = school.trust_id
    if trust_id is not None:
        if not readable.covers(trust_id=trust_id):
            raise NotFound("trust not found")
        filters["trust_id"] = trust_id
    return await definition_queries.list_owned(
        session,
        readable,
        ReportTemplate,
        school_id=school_id,
        trust_id=school_trust,
        filters=filters,
        updated_since=None,
        cursor=cursor,
        limit=limit,
    )


async def update_template(
    session: AsyncSession,
    *,
    principal: Principal,
    template_id: uuid.UUID,
    template_in: ReportTemplateUpdate,
) -> ReportTemplate:
    """Change a template: a new name or definition makes a new version (the old ones are
    kept, and runnable); ``archived`` takes it out of lists, or brings it back."""
    template = await get_template(session, principal=principal, template_id=template_id)
    guards.definition_writable(principal, template, TEMPLATE)
    changes = template_in.model_dump(exclude_unset=True)
    for name in ("name", "definition", "archived"):
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"body.{name}", "may not be null: leave it out to keep it")
    if "definition" in changes:
        changes["definition"] = await _checked(session, template, changes["definition"])
    before = snapshot(template)
    new_version = any(
        name in changes and changes[name] != getattr(template, name)
        for name in ("name", "definition")
    )
    template.sqlmodel_update(changes)
    if new_version:
        template.version += 1
        _save_version(session, principal, template)
    _audit(session, principal, "update", template, before)
    await session.flush()
    return template


async def list_versions(
    session: AsyncSession,
    *,
    principal: Principal,
    template_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> Page[ReportTemplateVersion]:
    """Every version of a template, oldest first."""
    template = await get_template(session, principal=principal, template_id=template_id)
    return await queries.template_versions(session, template.id, cursor=cursor, limit=limit)


async def add_starter_templates(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    templates: Sequence[Mapping[str, Any]],
) -> dict[str, bool]:
    """Add the school's own copies of ``templates`` ({code, name, description, definition}),
    each unless the school already has one of that code: code -> whether it was created."""
    created: dict[str, bool] = {}
    for spec in templates:
        owner = ReportTemplateCreate.model_validate({**spec, "school_id": school_id})
        if await definition_queries.taken(
            session, ReportTemplate, owner, "code", owner.code, besides=None
        ):
            created[owner.code] = False
            continue
        await create_template(session, principal=principal, template_in=owner)
        created[owner.code] = True
    return created


async def chart_picture(table: ReportTable, chart: int, *, svg: bool) -> tuple[bytes, str]:
    """The report's chart number ``chart`` (app.reports.charts) drawn as SVG or PNG, with its
    text alternative; drawing is CPU work, done off the event loop."""
    specs = chart_specs(table)
    if chart >= len(specs):
        raise NotFound(
            f"this report has {len(specs)} charts (0 to {len(specs) - 1})"
            if specs
            else "this report has no charts"
        )
    spec = specs[chart]
    drawn = await anyio.to_thread.run_sync(render_svg if svg else render_png, spec)
    return drawn, spec["description"]


# On paper: the distributions, the figures over the year and the matrices. A comparison of
# every key group is a screen's picture (a bar per row: too many rows for a page).
PRINTED_CHARTS = frozenset({"distribution", "trend", "matrix"})


def _printed_charts(table: ReportTable) -> list[bytes]:
    return [
        render_png(spec)
        for spec in chart_specs(table, printed=True)
        if spec["usermeta"]["markbook"]["kind"] in PRINTED_CHARTS
    ]


async def printed_pack(audience: Audience, table: ReportTable, *, today: date) -> bytes:
    """The report as a printable pack (app.reports.pack): the table, its charts drawn, the key
    and what each figure means, under the school's (or trust's) name. Drawing and laying out
    are CPU work, done off the event loop."""

    def draw() -> bytes:
        return render_pdf(
            table, school=audience.name, printed_on=today, charts=_printed_charts(table)
        )

    return await anyio.to_thread.run_sync(draw)


# Schools run together for a trust's pack: few statements, and no more than this many schools'
# tables held at once, however many schools the trust has.
PACK_SCHOOLS_AT_ONCE = 10


async def trust_template_pack(
    session: AsyncSession,
    *,
    principal: Principal,
    audience: Audience,
    template_id: uuid.UUID,
    version: int | None,
    today: date,
    as_at: date | None = None,
) -> tuple[bytes, ReportTable]:
    """A trust's template printed for the trust and each of its schools: the trust's page
    (its figures from the pupils of all of them), then a page per school (each school's own
    report, as the caller sees it there: suppressed where they do not see its pupils), in the
    order of the schools' names; a school where the template cannot run (a measure it does
    not use) has no page. Schools are run ``PACK_SCHOOLS_AT_ONCE`` at a time and each
    page is drawn as its report comes, so memory holds a few schools' rows, not the trust's."""
    _, raw = await _runnable(session, principal, audience, template_id, version)
    definition = read_definition(raw, "definition")
    table = await run_report(
        session, audience=audience, definition=definition, where="definition", today=as_at
    )
    pack = Pack(title=f"{audience.name}: {table.title}")

    def draw(report: ReportTable, name: str) -> None:
        pack.add(report, school=name, printed_on=today, charts=_printed_charts(report))

    await anyio.to_thread.run_sync(draw, table, audience.name)
    schools = sorted(audience.schools, key=lambda s: (s.name, str(s.id)))
    for start in range(0, len(schools), PACK_SCHOOLS_AT_ONCE):
        chunk = schools[start : start + PACK_SCHOOLS_AT_ONCE]
        found = await school_reports(
            session,
            principal=principal,
            keys=[(school.id, definition) for school in chunk],
            today=as_at,
        )
        for school, report in zip(chunk, found, strict=True):
            if isinstance(report, ReportTable):
                await anyio.to_thread.run_sync(draw, report, school.name)
    return await anyio.to_thread.run_sync(pack.output), table
