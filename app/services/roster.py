"""Pupils, enrolments, classes and custom groups, one at a time (bulk sync: roster_sync)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.roster import (
    ClassCreate,
    ClassRead,
    ClassUpdate,
    EnrolmentPut,
    EnrolmentRead,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    PupilCreate,
    PupilRead,
    PupilUpdate,
)
from app.auth import guards
from app.auth.policy import Action, Reach, Resource, reach, require
from app.auth.principal import Principal
from app.db.queries import roster as queries
from app.db.queries.paging import Page
from app.db.roster import (
    ClassPupil,
    ClassTeacher,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    TeachingGroup,
)
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.errors import DomainError
from app.domain.pupils import check_dates, is_temporary_upn
from app.errors import Conflict, InvalidInput, NotFound
from app.services import retention
from app.services.audit import record, snapshot


def _audit(
    session: AsyncSession,
    principal: Principal,
    school: School,
    action: str,
    entity: Any,
    before: dict[str, Any] | None,
) -> None:
    record(
        session,
        principal,
        action=action,
        entity=entity,
        before=before,
        trust_id=school.trust_id,
        school_id=school.id,
    )


# --- Pupils ------------------------------------------------------------------------------
async def _check_keys_free(
    session: AsyncSession, school: School, pupil: Pupil, *, besides: uuid.UUID | None
) -> None:
    for name in ("external_id", "upn"):
        value = getattr(pupil, name)
        if value is not None and await queries.pupil_key_taken(
            session, school.id, name, value, besides=besides
        ):
            raise Conflict(f"{school.name} already has a pupil with {name} {value}")


def _check_pupil(pupil: Pupil) -> None:
    if pupil.external_id is None and pupil.upn is None:
        raise InvalidInput.at("body", "give external_id or upn: the pupil needs a key")
    try:
        check_dates(
            date_of_birth=pupil.date_of_birth, joined_on=None, left_on=None, today=date.today()
        )
    except DomainError as exc:
        raise InvalidInput.at(f"body.{exc.field}", exc.message) from exc
    pupil.upn_temporary = is_temporary_upn(pupil.upn)


async def pupil_reads(session: AsyncSession, pupils: list[Pupil]) -> list[PupilRead]:
    enrolments = await queries.enrolments_of(session, [p.id for p in pupils])
    return [
        PupilRead.model_validate(
            pupil,
            update={"enrolments": [EnrolmentRead.model_validate(e) for e in enrolments[pupil.id]]},
        )
        for pupil in pupils
    ]


async def create_pupil(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, pupil_in: PupilCreate
) -> Pupil:
    school = await guards.school_to_change(session, principal, school_id, Resource.PUPIL)
    pupil = Pupil.model_validate(pupil_in, update={"school_id": school.id})
    _check_pupil(pupil)
    await _check_keys_free(session, school, pupil, besides=None)
    session.add(pupil)
    _audit(session, principal, school, "create", pupil, None)
    await session.flush()
    return pupil


async def get_pupil(session: AsyncSession, *, principal: Principal, pupil_id: uuid.UUID) -> Pupil:
    pupil = await queries.get_pupil(
        session, reach(principal, Resource.PUPIL, Action.READ), pupil_id
    )
    if pupil is None:
        raise NotFound("pupil not found")
    return pupil


async def update_pupil(
    session: AsyncSession, *, principal: Principal, pupil_id: uuid.UUID, pupil_in: PupilUpdate
) -> Pupil:
    pupil = await get_pupil(session, principal=principal, pupil_id=pupil_id)
    school = await guards.school_to_change(session, principal, pupil.school_id, Resource.PUPIL)
    before = snapshot(pupil)
    changes = pupil_in.model_dump(exclude_unset=True)
    for name in ("legal_forename", "legal_surname", "date_of_birth"):
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"body.{name}", "may not be null")
    pupil.sqlmodel_update(changes)
    _check_pupil(pupil)
    await _check_keys_free(session, school, pupil, besides=pupil.id)
    _audit(session, principal, school, "update", pupil, before)
    await session.flush()
    return pupil


async def erase_pupil(session: AsyncSession, *, principal: Principal, pupil_id: uuid.UUID) -> None:
    """Delete a pupil and everything recorded about them, for good (a data-protection
    erasure). The audit trail keeps that the pupil was erased, by whom and when, but no longer
    any of their personal data: earlier audit entries about them are emptied too, and they are
    taken out of stored idempotency answers and import jobs (app.services.retention)."""
    pupil = await get_pupil(session, principal=principal, pupil_id=pupil_id)
    school = await guards.school_to_change(
        session, principal, pupil.school_id, Resource.PUPIL, action=Action.ERASE
    )
    await queries.empty_pupil_audit(session, pupil.id)
    await retention.forget_pupil(session, pupil)
    await session.delete(pupil)
    record(
        session,
        principal,
        action="delete",
        entity=pupil,
        before={"erased": True},
        trust_id=school.trust_id,
        school_id=school.id,
    )
    await session.flush()


async def list_pupils(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    filters: dict[str, Any],
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[dict[str, Any]]:
    """A page of the school's pupils the caller may read, each with its enrolments, as plain
    rows of PupilRead's fields: stored values are sent as they are, not validated again."""
    readable = (await guards.school_to_read(session, principal, Resource.PUPIL, school_id)).read
    page = await queries.list_pupils(
        session,
        readable,
        school_id,
        **filters,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
        columns=_PUPIL_COLUMNS,
    )
    enrolments = await queries.enrolment_rows_of(
        session, [pupil["id"] for pupil in page.items], _ENROLMENT_COLUMNS
    )
    for pupil in page.items:
        pupil["enrolments"] = enrolments.get(pupil["id"], [])
    return page


_PUPIL_COLUMNS = tuple(name for name in PupilRead.model_fields if name != "enrolments")
_ENROLMENT_COLUMNS = tuple(EnrolmentRead.model_fields)


# --- Enrolments --------------------------------------------------------------------------
async def put_enrolment(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    academic_year: int,
    enrolment_in: EnrolmentPut,
) -> tuple[Enrolment, bool]:
    """Set a pupil's enrolment for one academic year; other years are kept as they are.
    Returns the enrolment and whether it is new."""
    try:
        AcademicYear(academic_year)
    except DomainError as exc:
        raise InvalidInput.at("path.academic_year", exc.message) from exc
    pupil = await get_pupil(session, principal=principal, pupil_id=pupil_id)
    school = await guards.school_to_change(session, principal, pupil.school_id, Resource.PUPIL)
    try:
        check_dates(
            date_of_birth=pupil.date_of_birth,
            joined_on=enrolment_in.joined_on,
            left_on=enrolment_in.left_on,
            today=date.today(),
        )
    except DomainError as exc:
        raise InvalidInput.at(f"body.{exc.field}", exc.message) from exc
    enrolment = await queries.get_enrolment(session, pupil.id, academic_year)
    values = enrolment_in.model_dump()
    values["year_group"] = enrolment_in.year_group.value
    if enrolment is None:
        enrolment = Enrolment(
            pupil_id=pupil.id, school_id=school.id, academic_year=academic_year, **values
        )
        session.add(enrolment)
        _audit(session, principal, school, "create", enrolment, None)
        await session.flush()
        return enrolment, True
    before = snapshot(enrolment)
    enrolment.sqlmodel_update(values)
    _audit(session, principal, school, "update", enrolment, before)
    await session.flush()
    return enrolment, False


async def list_enrolments(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    academic_year: int | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Enrolment]:
    readable = (await guards.school_to_read(session, principal, Resource.PUPIL, school_id)).read
    return await queries.list_enrolments(
        session,
        readable,
        school_id,
        academic_year=academic_year,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )


# --- Classes -----------------------------------------------------------------------------
async def _check_teachers(
    session: AsyncSession, school: School, teacher_ids: list[uuid.UUID]
) -> None:
    found = await queries.teaching_users(session, school.id, set(teacher_ids))
    for position, user_id in enumerate(teacher_ids):
        if user_id not in found:
            raise InvalidInput.at(
                f"body.teacher_ids.{position}", "no teacher or leader of the school has this id"
            )


async def _check_pupils(
    session: AsyncSession, school: School, pupil_ids: list[uuid.UUID], field: str
) -> None:
    found = await queries.pupils_in_school(session, school.id, set(pupil_ids))
    for position, pupil_id in enumerate(pupil_ids):
        if pupil_id not in found:
            raise InvalidInput.at(f"body.{field}.{position}", "no pupil of the school has this id")


async def _replace(
    session: AsyncSession,
    table: Any,
    owner: str,
    owner_id: uuid.UUID,
    member: str,
    member_ids: list[uuid.UUID],
    school: School,
) -> None:
    await queries.delete_members(session, table, owner, owner_id)
    session.add_all(
        table(**{owner: owner_id, member: member_id, "school_id": school.id})
        for member_id in dict.fromkeys(member_ids)
    )


async def class_reads(
    session: AsyncSession, principal: Principal, classes: list[TeachingGroup]
) -> list[ClassRead]:
    ids = [c.id for c in classes]
    teachers = await queries.teachers_of(session, ids)
    pupils = await queries.members_of(
        session,
        reach(principal, Resource.PUPIL, Action.READ),
        queries.CLASS_PUPIL,
        "class_id",
        ids,
    )
    return [
        ClassRead.model_validate(
            c, update={"teacher_ids": sorted(teachers[c.id]), "pupil_ids": pupils[c.id]}
        )
        for c in classes
    ]


async def create_class(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, class_in: ClassCreate
) -> TeachingGroup:
    school = await guards.school_to_change(session, principal, school_id, Resource.CLASS)
    year = AcademicYear(class_in.academic_year)
    if await queries.class_code_taken(session, school.id, year.start_year, class_in.code):
        raise Conflict(f"{school.name} already has a class {class_in.code} in {year.label}")
    await _check_teachers(session, school, class_in.teacher_ids)
    await _check_pupils(session, school, class_in.pupil_ids, "pupil_ids")
    group = TeachingGroup.model_validate(class_in, update={"school_id": school.id})
    session.add(group)
    await session.flush()
    await _replace(
        session, ClassTeacher, "class_id", group.id, "user_id", class_in.teacher_ids, school
    )
    await _replace(
        session, ClassPupil, "class_id", group.id, "pupil_id", class_in.pupil_ids, school
    )
    _audit(session, principal, school, "create", group, None)
    await session.flush()
    return group


async def get_class(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID
) -> TeachingGroup:
    group = await queries.get_class(session, class_id)
    if group is None:
        raise NotFound("class not found")
    require(principal, Resource.CLASS, Action.READ, school_id=group.school_id, what="class")
    return group


async def update_class(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID, class_in: ClassUpdate
) -> TeachingGroup:
    group = await get_class(session, principal=principal, class_id=class_id)
    school = await guards.school_to_change(session, principal, group.school_id, Resource.CLASS)
    changes = class_in.model_dump(exclude_unset=True)
    for name in ("code", "name", "teacher_ids", "pupil_ids"):
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"body.{name}", "may not be null")
    teacher_ids = changes.pop("teacher_ids", None)
    pupil_ids = changes.pop("pupil_ids", None)
    if "code" in changes and await queries.class_code_taken(
        session, school.id, group.academic_year, changes["code"], besides=group.id
    ):
        label = AcademicYear(group.academic_year).label
        raise Conflict(f"{school.name} already has a class {changes['code']} in {label}")
    before = snapshot(group)
    group.sqlmodel_update(changes)
    if teacher_ids is not None:
        await _check_teachers(session, school, teacher_ids)
        await _replace(session, ClassTeacher, "class_id", group.id, "user_id", teacher_ids, school)
    if pupil_ids is not None:
        await _check_pupils(session, school, pupil_ids, "pupil_ids")
        await _replace(session, ClassPupil, "class_id", group.id, "pupil_id", pupil_ids, school)
    if teacher_ids is not None or pupil_ids is not None:
        group.updated_at = datetime.now(group.updated_at.tzinfo)
    _audit(session, principal, school, "update", group, before)
    await session.flush()
    return group


async def list_classes(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    academic_year: int | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[TeachingGroup]:
    readable = (await guards.school_to_read(session, principal, Resource.CLASS, school_id)).read
    return await queries.list_classes(
        session,
        readable,
        school_id,
        academic_year=academic_year,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )


# --- Custom groups -----------------------------------------------------------------------
async def group_reads(
    session: AsyncSession, principal: Principal, groups: list[PupilGroup]
) -> list[GroupRead]:
    pupil_reach: Reach = reach(principal, Resource.PUPIL, Action.READ)
    members = await queries.members_of(
        session, pupil_reach, queries.GROUP_MEMBER, "group_id", [g.id for g in groups]
    )
    return [GroupRead.model_validate(g, update={"pupil_ids": members[g.id]}) for g in groups]


async def create_group(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, group_in: GroupCreate
) -> PupilGroup:
    school = await guards.school_to_change(session, principal, school_id, Resource.GROUP)
    if await queries.group_name_taken(session, school.id, group_in.name):
        raise Conflict(f"{school.name} already has a group called {group_in.name}")
    await _check_pupils(session, school, group_in.pupil_ids, "pupil_ids")
    group = PupilGroup.model_validate(group_in, update={"school_id": school.id})
    session.add(group)
    await session.flush()
    await _replace(
        session, PupilGroupMember, "group_id", group.id, "pupil_id", group_in.pupil_ids, school
    )
    _audit(session, principal, school, "create", group, None)
    await session.flush()
    return group


async def get_group(
    session: AsyncSession, *, principal: Principal, group_id: uuid.UUID
) -> PupilGroup:
    group = await queries.get_group(session, group_id)
    if group is None:
        raise NotFound("group not found")
    require(principal, Resource.GROUP, Action.READ, school_id=group.school_id, what="group")
    return group


async def update_group(
    session: AsyncSession, *, principal: Principal, group_id: uuid.UUID, group_in: GroupUpdate
) -> PupilGroup:
    group = await get_group(session, principal=principal, group_id=group_id)
    school = await guards.school_to_change(session, principal, group.school_id, Resource.GROUP)
    changes = group_in.model_dump(exclude_unset=True)
    for name in ("name", "pupil_ids"):
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"body.{name}", "may not be null")
    pupil_ids = changes.pop("pupil_ids", None)
    if "name" in changes and await queries.group_name_taken(
        session, school.id, changes["name"], besides=group.id
    ):
        raise Conflict(f"{school.name} already has a group called {changes['name']}")
    before = snapshot(group)
    group.sqlmodel_update(changes)
    if pupil_ids is not None:
        await _check_pupils(session, school, pupil_ids, "pupil_ids")
        await _replace(
            session, PupilGroupMember, "group_id", group.id, "pupil_id", pupil_ids, school
        )
        group.updated_at = datetime.now(group.updated_at.tzinfo)
    _audit(session, principal, school, "update", group, before)
    await session.flush()
    return group


async def delete_group(session: AsyncSession, *, principal: Principal, group_id: uuid.UUID) -> None:
    group = await get_group(session, principal=principal, group_id=group_id)
    school = await guards.school_to_change(session, principal, group.school_id, Resource.GROUP)
    before = snapshot(group)
    await session.delete(group)
    _audit(session, principal, school, "delete", group, before)
    await session.flush()


async def list_groups(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[PupilGroup]:
    readable = (await guards.school_to_read(session, principal, Resource.GROUP, school_id)).read
    return await queries.list_groups(
        session,
        readable,
        school_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
