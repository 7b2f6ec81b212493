"""Reading the roster: pupils, enrolments, classes and groups, filtered by reach."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.audit import AuditEvent
from app.db.import_jobs import ImportJob
from app.db.people import RoleGrant, User
from app.db.queries.bulk import among, read_rows
from app.db.queries.paging import Page, paginate
from app.db.queries.reach import pupils_within, within
from app.db.roster import (
    ClassPupil,
    ClassTeacher,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    StageAssessment,
    TeachingGroup,
)
from app.db.targets import PupilTarget
from app.db.tenancy import School
from app.domain.roles import Role

AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
PUPIL = Pupil.__table__  # type: ignore[attr-defined]
ENROLMENT = Enrolment.__table__  # type: ignore[attr-defined]
CLASS = TeachingGroup.__table__  # type: ignore[attr-defined]
CLASS_PUPIL = ClassPupil.__table__  # type: ignore[attr-defined]
CLASS_TEACHER = ClassTeacher.__table__  # type: ignore[attr-defined]
GROUP = PupilGroup.__table__  # type: ignore[attr-defined]
GROUP_MEMBER = PupilGroupMember.__table__  # type: ignore[attr-defined]
STAGE_ASSESSMENT = StageAssessment.__table__  # type: ignore[attr-defined]

# People who may be named as a class's teachers: the school's teachers and leaders.
TEACHING_ROLES = (Role.TEACHER.value, Role.SCHOOL_LEADER.value)


# --- Single rows and pages ---------------------------------------------------------------
async def get_pupil(session: AsyncSession, reach: Reach, pupil_id: uuid.UUID) -> Pupil | None:
    statement = sa.select(Pupil).where(
        col(Pupil.id) == pupil_id,
        pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)),
    )
    return await session.scalar(statement)


async def pupil_names(
    session: AsyncSession, reaches: Collection[Reach], pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The name each pupil goes by (preferred, else legal: "forename surname"), for the pupils
    of ``pupil_ids`` within any of ``reaches``; others are left out."""
    if not pupil_ids or not reaches:
        return {}
    forename = sa.func.coalesce(col(Pupil.preferred_forename), col(Pupil.legal_forename))
    surname = sa.func.coalesce(col(Pupil.preferred_surname), col(Pupil.legal_surname))
    statement = sa.select(col(Pupil.id), forename, surname).where(
        col(Pupil.id).in_(list(pupil_ids)),
        sa.or_(
            *(
                pupils_within(r, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id))
                for r in reaches
            )
        ),
    )
    return {row[0]: f"{row[1]} {row[2]}" for row in await session.execute(statement)}


async def list_pupils(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    academic_year: int | None,
    year_group: str | None,
    class_id: uuid.UUID | None,
    group_id: uuid.UUID | None,
    on_roll: bool | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
    columns: Collection[str],
) -> Page[dict[str, Any]]:
    """A page of the school's pupils in ``reach``, as plain rows of the pupil table's
    ``columns`` (what the answer sends: no objects are built to be read once)."""
    table = Pupil.__table__
    statement = sa.select(*(table.c[name] for name in columns)).where(
        col(Pupil.school_id) == school_id,
        pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)),
    )
    if academic_year is not None or year_group is not None:
        enrolled = sa.select(Enrolment.pupil_id).where(col(Enrolment.school_id) == school_id)
        if academic_year is not None:
            enrolled = enrolled.where(col(Enrolment.academic_year) == academic_year)
        if year_group is not None:
            enrolled = enrolled.where(col(Enrolment.year_group) == year_group)
        statement = statement.where(col(Pupil.id).in_(enrolled))
    if class_id is not None:
        statement = statement.where(
            col(Pupil.id).in_(
                sa.select(ClassPupil.pupil_id).where(col(ClassPupil.class_id) == class_id)
            )
        )
    if group_id is not None:
        statement = statement.where(
            col(Pupil.id).in_(
                sa.select(PupilGroupMember.pupil_id).where(
                    col(PupilGroupMember.group_id) == group_id
                )
            )
        )
    if on_roll is not None:
        statement = statement.where(
            col(Pupil.left_on).is_(None) if on_roll else col(Pupil.left_on).is_not(None)
        )
    if updated_since is not None:
        statement = statement.where(col(Pupil.updated_at) >= updated_since)
    order = [col(Pupil.updated_at), col(Pupil.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def enrolments_of(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], reach: Reach | None = None
) -> dict[uuid.UUID, list[Enrolment]]:
    """Each pupil's enrolments, oldest year first (only of pupils ``reach`` covers, if
    given)."""
    found: dict[uuid.UUID, list[Enrolment]] = defaultdict(list)
    if not pupil_ids:
        return found
    statement = sa.select(Enrolment).where(among(session, col(Enrolment.pupil_id), set(pupil_ids)))
    if reach is not None:
        statement = statement.where(
            pupils_within(
                reach, pupil_column=col(Enrolment.pupil_id), school_column=col(Enrolment.school_id)
            )
        )
    rows = await session.scalars(statement.order_by(col(Enrolment.academic_year)))
    for enrolment in rows:
        found[enrolment.pupil_id].append(enrolment)
    return found


async def enrolment_rows_of(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], columns: Collection[str]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each pupil's enrolments, oldest year first, as plain rows of ``columns``."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if not pupil_ids:
        return found
    table = Enrolment.__table__
    statement = (
        sa.select(*(table.c[name] for name in columns), table.c.pupil_id.label("_pupil_id"))
        .where(among(session, col(Enrolment.pupil_id), set(pupil_ids)))
        .order_by(col(Enrolment.academic_year))
    )
    for row in (await session.execute(statement)).mappings():
        enrolment = dict(row)
        found[enrolment.pop("_pupil_id")].append(enrolment)
    return found


async def list_enrolments(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    academic_year: int | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Enrolment]:
    statement = sa.select(Enrolment).where(
        col(Enrolment.school_id) == school_id,
        pupils_within(
            reach, pupil_column=col(Enrolment.pupil_id), school_column=col(Enrolment.school_id)
        ),
    )
    if academic_year is not None:
        statement = statement.where(col(Enrolment.academic_year) == academic_year)
    if updated_since is not None:
        statement = statement.where(col(Enrolment.updated_at) >= updated_since)
    order = [col(Enrolment.updated_at), col(Enrolment.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def get_enrolment(
    session: AsyncSession, pupil_id: uuid.UUID, academic_year: int
) -> Enrolment | None:
    return await session.scalar(
        sa.select(Enrolment).where(
            col(Enrolment.pupil_id) == pupil_id, col(Enrolment.academic_year) == academic_year
        )
    )


async def get_class(session: AsyncSession, class_id: uuid.UUID) -> TeachingGroup | None:
    return await session.get(TeachingGroup, class_id)


async def list_classes(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    academic_year: int | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[TeachingGroup]:
    statement = sa.select(TeachingGroup).where(
        col(TeachingGroup.school_id) == school_id,
        within(reach, school_column=col(TeachingGroup.school_id)),
    )
    if academic_year is not None:
        statement = statement.where(col(TeachingGroup.academic_year) == academic_year)
    if updated_since is not None:
        statement = statement.where(col(TeachingGroup.updated_at) >= updated_since)
    order = [col(TeachingGroup.updated_at), col(TeachingGroup.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def class_code_taken(
    session: AsyncSession,
    school_id: uuid.UUID,
    academic_year: int,
    code: str,
    *,
    besides: uuid.UUID | None = None,
) -> bool:
    statement = sa.select(TeachingGroup.id).where(
        col(TeachingGroup.school_id) == school_id,
        col(TeachingGroup.academic_year) == academic_year,
        col(TeachingGroup.code) == code,
    )
    if besides is not None:
        statement = statement.where(col(TeachingGroup.id) != besides)
    return (await session.scalar(statement.limit(1))) is not None


async def teachers_of(
    session: AsyncSession, class_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if class_ids:
        rows = await session.execute(
            sa.select(ClassTeacher.class_id, ClassTeacher.user_id).where(
                col(ClassTeacher.class_id).in_(list(class_ids))
            )
        )
        for class_id, user_id in rows:
            found[class_id].add(user_id)
    return found


async def members_of(
    session: AsyncSession,
    reach: Reach,
    table: sa.Table,
    owner_column: str,
    owner_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Pupil ids of each class or group, only those within ``reach``."""
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not owner_ids:
        return found
    owner = table.c[owner_column]
    rows = await session.execute(
        sa.select(owner, table.c.pupil_id)
        .where(
            owner.in_(list(owner_ids)),
            pupils_within(reach, pupil_column=table.c.pupil_id, school_column=table.c.school_id),
        )
        .order_by(owner, table.c.pupil_id)
    )
    for owner_id, pupil_id in rows:
        found[owner_id].append(pupil_id)
    return found


async def teaching_users(
    session: AsyncSession, school_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``user_ids`` who teach or lead at the school."""
    if not user_ids:
        return set()
    rows = await session.scalars(
        sa.select(RoleGrant.user_id).where(
            col(RoleGrant.user_id).in_(list(user_ids)),
            col(RoleGrant.school_id) == school_id,
            col(RoleGrant.role).in_(TEACHING_ROLES),
        )
    )
    return set(rows.all())


async def pupils_in_school(
    session: AsyncSession, school_id: uuid.UUID, pupil_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    if not pupil_ids:
        return set()
    rows = await session.scalars(
        sa.select(Pupil.id).where(
            col(Pupil.school_id) == school_id, col(Pupil.id).in_(list(pupil_ids))
        )
    )
    return set(rows.all())


async def get_group(session: AsyncSession, group_id: uuid.UUID) -> PupilGroup | None:
    return await session.get(PupilGroup, group_id)


async def group_name_taken(
    session: AsyncSession, school_id: uuid.UUID, name: str, *, besides: uuid.UUID | None = None
) -> bool:
    statement = sa.select(PupilGroup.id).where(
        col(PupilGroup.school_id) == school_id, col(PupilGroup.name) == name
    )
    if besides is not None:
        statement = statement.where(col(PupilGroup.id) != besides)
    return (await session.scalar(statement.limit(1))) is not None


async def list_groups(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[PupilGroup]:
    statement = sa.select(PupilGroup).where(
        col(PupilGroup.school_id) == school_id,
        within(reach, school_column=col(PupilGroup.school_id)),
    )
    if updated_since is not None:
        statement = statement.where(col(PupilGroup.updated_at) >= updated_since)
    order = [col(PupilGroup.updated_at), col(PupilGroup.id)]
    return await paginate(session, statement, order_by=order, cursor=cursor, limit=limit)


async def get_import_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob | None:
    return await session.get(ImportJob, job_id)


# --- What a sync needs, read in one query per table --------------------------------------
async def lock_schools(session: AsyncSession, school_ids: Collection[uuid.UUID]) -> None:
    """Hold the schools' rows until commit, so two syncs of one school run one after the other
    (SQLite has one writer at a time anyway and ignores FOR UPDATE)."""
    await session.execute(
        sa.select(School.id)
        .where(col(School.id).in_(list(school_ids)))
        .order_by(col(School.id))
        .with_for_update()
    )


def _compared(table: sa.Table) -> list[sa.Column[Any]]:
    # A sync compares and writes back every column but the update time, which it sets anew;
    # leaving it out saves decoding a timestamp a row.
    return [column for column in table.c if column.name != "updated_at"]


async def sync_state(
    session: AsyncSession,
    school_ids: Collection[uuid.UUID],
    academic_year: int,
    *,
    groups: bool = True,
    stage_assessments: bool = True,
) -> dict[str, list[Mapping[str, Any]]]:
    """Everything of the schools a roster sync compares against, as read-only mappings (one
    SELECT a table, columns only, read by ``bulk.read_rows``). The custom groups and their
    members (``groups``) and the stage assessments (``stage_assessments``) only when asked
    for: a sync whose rows send none has nothing to compare them with (left empty)."""
    ids = list(school_ids)
    year_classes = sa.select(TeachingGroup.id).where(
        col(TeachingGroup.school_id).in_(ids), col(TeachingGroup.academic_year) == academic_year
    )
    statements: dict[str, sa.Select[Any] | None] = {
        "pupils": sa.select(*_compared(PUPIL)).where(PUPIL.c.school_id.in_(ids)),
        "enrolments": sa.select(*_compared(ENROLMENT)).where(
            ENROLMENT.c.school_id.in_(ids), ENROLMENT.c.academic_year == academic_year
        ),
        "classes": sa.select(*_compared(CLASS)).where(
            CLASS.c.school_id.in_(ids), CLASS.c.academic_year == academic_year
        ),
        "class_teachers": sa.select(CLASS_TEACHER.c.class_id, CLASS_TEACHER.c.user_id).where(
            CLASS_TEACHER.c.class_id.in_(year_classes)
        ),
        "class_pupils": sa.select(CLASS_PUPIL.c.class_id, CLASS_PUPIL.c.pupil_id).where(
            CLASS_PUPIL.c.class_id.in_(year_classes)
        ),
        "groups": sa.select(GROUP.c.id, GROUP.c.school_id, GROUP.c.name).where(
            GROUP.c.school_id.in_(ids)
        )
        if groups
        else None,
        "group_members": sa.select(GROUP_MEMBER.c.group_id, GROUP_MEMBER.c.pupil_id).where(
            GROUP_MEMBER.c.school_id.in_(ids)
        )
        if groups
        else None,
        "stage_assessments": sa.select(*_compared(STAGE_ASSESSMENT)).where(
            STAGE_ASSESSMENT.c.school_id.in_(ids)
        )
        if stage_assessments
        else None,
    }
    return {
        name: [] if statement is None else await read_rows(session, statement)
        for name, statement in statements.items()
    }


async def teachers_by_email(
    session: AsyncSession, school_ids: Collection[uuid.UUID], emails: Collection[str]
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """(school, lower-cased email) -> user, for the schools' teachers and leaders."""
    if not emails:
        return {}
    rows = await session.execute(
        sa.select(RoleGrant.school_id, User.email, User.id)
        .join(User, col(User.id) == col(RoleGrant.user_id))
        .where(
            col(RoleGrant.school_id).in_(list(school_ids)),
            col(RoleGrant.role).in_(TEACHING_ROLES),
            sa.func.lower(col(User.email)).in_(sorted(emails)),
        )
    )
    return {(school_id, email.lower()): user_id for school_id, email, user_id in rows}


async def schools_of_trust_by_urn(session: AsyncSession, trust_id: uuid.UUID) -> dict[str, School]:
    rows = await session.scalars(sa.select(School).where(col(School.trust_id) == trust_id))
    return {school.urn: school for school in rows}


async def class_by_code(
    session: AsyncSession, school_id: uuid.UUID, academic_year: int, code: str
) -> TeachingGroup | None:
    return await session.scalar(
        sa.select(TeachingGroup).where(
            col(TeachingGroup.school_id) == school_id,
            col(TeachingGroup.academic_year) == academic_year,
            col(TeachingGroup.code) == code,
        )
    )


# --- Single-row writes -------------------------------------------------------------------
async def pupil_key_taken(
    session: AsyncSession,
    school_id: uuid.UUID,
    name: str,
    value: str,
    *,
    besides: uuid.UUID | None,
) -> bool:
    """Whether another pupil of the school (than ``besides``) has this ``external_id`` or
    ``upn``."""
    statement = sa.select(Pupil.id).where(
        col(Pupil.school_id) == school_id, getattr(Pupil, name) == value
    )
    if besides is not None:
        statement = statement.where(col(Pupil.id) != besides)
    return await session.scalar(statement.limit(1)) is not None


async def empty_pupil_audit(session: AsyncSession, pupil_id: uuid.UUID) -> None:
    """Empty the before and after of the audit events about the pupil, their enrolments and
    their targets (an erasure keeps only that they happened): one statement."""
    enrolments = sa.select(col(Enrolment.id)).where(col(Enrolment.pupil_id) == pupil_id)
    targets = sa.select(col(PupilTarget.id)).where(col(PupilTarget.pupil_id) == pupil_id)
    await session.execute(
        sa.update(AuditEvent)
        .where(
            sa.or_(
                sa.and_(
                    col(AuditEvent.entity_type) == "pupil", col(AuditEvent.entity_id) == pupil_id
                ),
                sa.and_(
                    col(AuditEvent.entity_type) == "enrolment",
                    col(AuditEvent.entity_id).in_(enrolments),
                ),
                sa.and_(
                    col(AuditEvent.entity_type) == PupilTarget.__tablename__,
                    col(AuditEvent.entity_id).in_(targets),
                ),
            )
        )
        .values(before=None, after=None)
        .execution_options(synchronize_session=False)
    )


async def delete_members(
    session: AsyncSession, table: Any, owner: str, owner_id: uuid.UUID
) -> None:
    """Delete a class's or group's member rows (teachers or pupils) before they are put anew."""
    await session.execute(sa.delete(table).where(getattr(table, owner) == owner_id))


# --- Pupils in reach, and their year groups ------------------------------------------------
async def pupils_reached(
    session: AsyncSession, reach: Reach, school_id: uuid.UUID, pupil_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``pupil_ids`` are pupils of the school within the reach: one statement,
    however many are asked about."""
    if not pupil_ids:
        return set()
    rows = await session.scalars(
        sa.select(PUPIL.c.id).where(
            among(session, PUPIL.c.id, set(pupil_ids)),
            PUPIL.c.school_id == school_id,
            pupils_within(reach, pupil_column=PUPIL.c.id, school_column=PUPIL.c.school_id),
        )
    )
    return set(rows)


async def year_groups(
    session: AsyncSession, academic_year: int, pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each pupil's year group in the academic year (pupils not enrolled that year are left
    out)."""
    if not pupil_ids:
        return {}
    rows = await session.execute(
        sa.select(Enrolment.pupil_id, Enrolment.year_group).where(
            col(Enrolment.academic_year) == academic_year,
            col(Enrolment.pupil_id).in_(list(pupil_ids)),
        )
    )
    return {pupil_id: year_group for pupil_id, year_group in rows}
