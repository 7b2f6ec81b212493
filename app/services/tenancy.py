"""Trusts, schools and their assessment calendars."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.tenancy import (
    AssessmentPointCreate,
    AssessmentPointUpdate,
    SchoolCreate,
    SchoolUpdate,
    TrustCreate,
    TrustUpdate,
)
from app.auth.policy import Action, Resource, reach, require, require_any
from app.auth.principal import Principal
from app.db.queries import reports as report_queries
from app.db.queries import tenancy as queries
from app.db.queries.paging import Page
from app.db.tenancy import AssessmentPoint, School, Trust
from app.domain.calendar import AcademicYear, check_assessment_date, default_assessment_points
from app.domain.errors import DomainError
from app.domain.on_track import check_words
from app.domain.reports import parse_definition
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services import summaries
from app.services.audit import record, snapshot


# --- Trusts ------------------------------------------------------------------------------
async def create_trust(
    session: AsyncSession, *, principal: Principal, trust_in: TrustCreate
) -> Trust:
    """Only the service's system administrators open new trusts."""
    if not reach(principal, Resource.TRUST, Action.WRITE).everything:
        raise Forbidden("only a system administrator may create trusts")
    trust = Trust.model_validate(trust_in)
    session.add(trust)
    record(session, principal, action="create", entity=trust, before=None, trust_id=trust.id)
    await session.flush()
    return trust


async def get_trust(session: AsyncSession, *, principal: Principal, trust_id: uuid.UUID) -> Trust:
    require(principal, Resource.TRUST, Action.READ, trust_id=trust_id)
    trust = await queries.get_trust(session, trust_id)
    if trust is None:
        raise NotFound("trust not found")
    return trust


async def update_trust(
    session: AsyncSession, *, principal: Principal, trust_id: uuid.UUID, trust_in: TrustUpdate
) -> Trust:
    require(principal, Resource.TRUST, Action.WRITE, trust_id=trust_id)
    trust = await get_trust(session, principal=principal, trust_id=trust_id)
    before = snapshot(trust)
    trust.sqlmodel_update(trust_in.model_dump(exclude_unset=True))
    record(session, principal, action="update", entity=trust, before=before, trust_id=trust.id)
    await session.flush()
    return trust


async def list_trusts(
    session: AsyncSession,
    *,
    principal: Principal,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Trust]:
    found = require_any(principal, Resource.TRUST, Action.READ)
    return await queries.list_trusts(
        session, found, updated_since=updated_since, cursor=cursor, limit=limit
    )


# --- Schools -----------------------------------------------------------------------------
async def _check_trust_for_school(
    session: AsyncSession, principal: Principal, trust_id: uuid.UUID | None
) -> None:
    """A school joins a trust only by someone who manages that trust; standalone schools and
    moves between trusts are for system administrators."""
    writable = reach(principal, Resource.TRUST, Action.WRITE)
    if trust_id is None:
        if not writable.everything:
            raise InvalidInput.at("body.trust_id", "give the trust the school belongs to")
        return
    if not reach(principal, Resource.TRUST, Action.READ).covers(trust_id=trust_id):
        raise InvalidInput.at("body.trust_id", "no such trust")
    if not writable.covers(trust_id=trust_id):
        raise Forbidden("you may not add schools to this trust")
    if await queries.get_trust(session, trust_id) is None:
        raise InvalidInput.at("body.trust_id", "no such trust")


async def create_school(
    session: AsyncSession, *, principal: Principal, school_in: SchoolCreate
) -> School:
    require_any(principal, Resource.TRUST, Action.WRITE)
    await _check_trust_for_school(session, principal, school_in.trust_id)
    if await queries.urn_taken(session, school_in.urn):
        raise Conflict(f"a school with URN {school_in.urn} is already registered")
    school = School.model_validate(school_in)
    session.add(school)
    record(
        session,
        principal,
        action="create",
        entity=school,
        before=None,
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()
    return school


async def get_school(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID
) -> School:
    require(principal, Resource.SCHOOL, Action.READ, school_id=school_id)
    school = await queries.get_school(session, school_id)
    if school is None:
        raise NotFound("school not found")
    return school


async def update_school(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, school_in: SchoolUpdate
) -> School:
    require(principal, Resource.SCHOOL, Action.WRITE, school_id=school_id)
    school = await get_school(session, principal=principal, school_id=school_id)
    changes = school_in.model_dump(exclude_unset=True)
    if "trust_id" in changes and changes["trust_id"] != school.trust_id:
        if not reach(principal, Resource.TRUST, Action.WRITE).everything:
            raise Forbidden("only a system administrator may move a school between trusts")
        await _check_trust_for_school(session, principal, changes["trust_id"])
    if "urn" in changes and await queries.urn_taken(session, changes["urn"], besides=school.id):
        raise Conflict(f"a school with URN {changes['urn']} is already registered")
    await _check_on_track(session, school, changes)
    before = snapshot(school)
    school.sqlmodel_update(changes)
    record(
        session,
        principal,
        action="update",
        entity=school,
        before=before,
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()
    return school


async def _check_on_track(session: AsyncSession, school: School, changes: dict[str, Any]) -> None:
    """The on-track settings as stored: a template the school runs (its own or its trust's,
    not archived) with an attainment rule; the school's words checked and kept without the
    categories left to the defaults (none: null). A 422 naming the field otherwise."""
    code = changes.get("on_track_template")
    if code is not None:
        template = await report_queries.template_for_school(session, school, code)
        if template is None:
            raise InvalidInput.at(
                "body.on_track_template", "no report template of this code in this school"
            )
        try:
            rules = parse_definition(template.definition).attainment
        except DomainError:
            rules = ()
        if not rules:
            raise InvalidInput.at(
                "body.on_track_template",
                "this template has no attainment rule: give one that says below / at / above",
            )
    if changes.get("on_track_words") is not None:
        try:
            words = check_words(changes["on_track_words"], field="body.on_track_words")
        except DomainError as exc:
            raise InvalidInput.at(exc.field or "body.on_track_words", exc.message) from exc
        changes["on_track_words"] = words or None


async def list_schools(
    session: AsyncSession,
    *,
    principal: Principal,
    trust_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[School]:
    found = require_any(principal, Resource.SCHOOL, Action.READ)
    return await queries.list_schools(
        session, found, trust_id=trust_id, updated_since=updated_since, cursor=cursor, limit=limit
    )


# --- Assessment points -------------------------------------------------------------------
def _year(academic_year: int) -> AcademicYear:
    try:
        return AcademicYear(academic_year)
    except DomainError as exc:
        raise InvalidInput.at("body.academic_year", exc.message) from exc


def _check_date(year: AcademicYear, point: AssessmentPoint) -> None:
    try:
        check_assessment_date(year, point.assessed_on)
    except DomainError as exc:
        raise InvalidInput.at(f"body.{exc.field}", exc.message) from exc


async def _check_code_free(
    session: AsyncSession, school: School, year: AcademicYear, code: str
) -> None:
    if code in await queries.assessment_point_codes(session, school.id, year.start_year):
        raise Conflict(f"{school.name} already has an assessment point {code} in {year.label}")


async def create_assessment_point(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    point_in: AssessmentPointCreate,
) -> AssessmentPoint:
    require(principal, Resource.ASSESSMENT_POINT, Action.WRITE, school_id=school_id)
    school = await get_school(session, principal=principal, school_id=school_id)
    year = _year(point_in.academic_year)
    point = AssessmentPoint.model_validate(point_in, update={"school_id": school.id})
    _check_date(year, point)
    await _check_code_free(session, school, year, point.code)
    session.add(point)
    record(
        session,
        principal,
        action="create",
        entity=point,
        before=None,
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()
    await summaries.recount_points(session, school=school, points=[point])
    return point


async def apply_default_calendar(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, academic_year: int
) -> list[AssessmentPoint]:
    """Give a school the usual Autumn, Spring and Summer points for a year.

    Points whose code the school already uses that year are left as they are, so asking twice
    creates nothing twice.
    """
    require(principal, Resource.ASSESSMENT_POINT, Action.WRITE, school_id=school_id)
    school = await get_school(session, principal=principal, school_id=school_id)
    year = _year(academic_year)
    existing = await queries.assessment_point_codes(session, school.id, year.start_year)
    added = []
    for plan in default_assessment_points(year):
        if plan.code in existing:
            continue
        point = AssessmentPoint(
            school_id=school.id,
            academic_year=year.start_year,
            code=plan.code,
            name=plan.name,
            position=plan.position,
            assessed_on=plan.assessed_on,
        )
        session.add(point)
        added.append(point)
        record(
            session,
            principal,
            action="create",
            entity=point,
            before=None,
            trust_id=school.trust_id,
            school_id=school.id,
        )
    await session.flush()
    await summaries.recount_points(session, school=school, points=added)
    page = await queries.list_assessment_points(
        session, school.id, academic_year=year.start_year, cursor=None, limit=100
    )
    return page.items


async def get_assessment_point(
    session: AsyncSession, *, principal: Principal, point_id: uuid.UUID
) -> AssessmentPoint:
    point = await queries.get_assessment_point(session, point_id)
    if point is None:
        raise NotFound("assessment point not found")
    require(principal, Resource.ASSESSMENT_POINT, Action.READ, school_id=point.school_id)
    return point


async def update_assessment_point(
    session: AsyncSession,
    *,
    principal: Principal,
    point_id: uuid.UUID,
    point_in: AssessmentPointUpdate,
) -> AssessmentPoint:
    point = await get_assessment_point(session, principal=principal, point_id=point_id)
    require(principal, Resource.ASSESSMENT_POINT, Action.WRITE, school_id=point.school_id)
    school = await get_school(session, principal=principal, school_id=point.school_id)
    changes = point_in.model_dump(exclude_unset=True)
    year = AcademicYear(point.academic_year)
    if "code" in changes and changes["code"] != point.code:
        await _check_code_free(session, school, year, changes["code"])
    before = snapshot(point)
    point.sqlmodel_update(changes)
    _check_date(year, point)
    record(
        session,
        principal,
        action="update",
        entity=point,
        before=before,
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()
    if "assessed_on" in changes:
        await summaries.recount_points(session, school=school, points=[point])
    return point


async def list_assessment_points(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    academic_year: int | None,
    cursor: str | None,
    limit: int,
) -> Page[AssessmentPoint]:
    require(principal, Resource.ASSESSMENT_POINT, Action.READ, school_id=school_id)
    await get_school(session, principal=principal, school_id=school_id)
    return await queries.list_assessment_points(
        session, school_id, academic_year=academic_year, cursor=cursor, limit=limit
    )
