"""Batch reads for GraphQL's DataLoaders: one ``WHERE key IN (...)`` per batch, grouped by key.

Each returns a dict from key to rows; callers put the lists back in key order. Pupils are
filtered by the caller's ``Reach`` in SQL, as every other pupil read is.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.queries.bulk import among
from app.db.queries.reach import pupils_within
from app.db.roster import ClassPupil, Pupil, PupilGroup, PupilGroupMember, TeachingGroup

Row = TypeVar("Row")


async def pupils_of_classes(
    session: AsyncSession, reach: Reach, class_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Pupil]]:
    """The pupils of each class that ``reach`` covers (a teacher: those they teach)."""
    found: dict[uuid.UUID, list[Pupil]] = defaultdict(list)
    rows = await session.execute(
        sa.select(ClassPupil.class_id, Pupil)
        .join(Pupil, col(Pupil.id) == col(ClassPupil.pupil_id))
        .where(
            col(ClassPupil.class_id).in_(list(class_ids)),
            pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)),
        )
        .order_by(
            col(ClassPupil.class_id),
            col(Pupil.legal_surname),
            col(Pupil.legal_forename),
            col(Pupil.id),
        )
    )
    for class_id, pupil in rows:
        found[class_id].append(pupil)
    return found


async def owned_by(
    session: AsyncSession,
    model: type[Row],
    *,
    school_ids: Collection[uuid.UUID],
    trust_ids: Collection[uuid.UUID],
    order_by: Collection[str],
    current_only: bool = False,
) -> list[Row]:
    """Definitions (subjects, scales, measures, report templates) owned by any of the schools
    or trusts; ``current_only`` leaves out archived ones."""
    table: Any = model
    statement = (
        sa.select(model)
        .where(
            sa.or_(
                col(table.school_id).in_(list(school_ids)),
                col(table.trust_id).in_(list(trust_ids)),
            )
        )
        .order_by(*(getattr(table, name) for name in order_by), col(table.id))
    )
    if current_only:
        statement = statement.where(sa.not_(col(table.archived)))
    return list((await session.scalars(statement)).all())


async def children_of(
    session: AsyncSession,
    model: type[Row],
    parent: str,
    parent_ids: Collection[uuid.UUID],
    *,
    order_by: Collection[str],
    current_only: bool = False,
) -> dict[uuid.UUID, list[Row]]:
    """The rows of ``model`` under each parent (schools of a trust, points and classes of a
    school, frameworks of a subject, objectives of a framework, descriptors of a scale, a
    trust's report templates, a template's versions), in ``order_by`` (a leading ``-``:
    descending), then by primary key; ``current_only`` leaves out archived ones."""
    table: Any = model
    statement = sa.select(model).where(col(getattr(table, parent)).in_(list(parent_ids)))
    if current_only:
        statement = statement.where(sa.not_(col(table.archived)))
    order = [
        col(getattr(table, name[1:])).desc() if name.startswith("-") else getattr(table, name)
        for name in order_by
    ]
    statement = statement.order_by(*order, *sa.inspect(model).primary_key)
    found: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for row in await session.scalars(statement):
        found[getattr(row, parent)].append(row)
    return found


async def classes_of_pupils(
    session: AsyncSession, reach: Reach, pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[TeachingGroup]]:
    """The classes each pupil that ``reach`` covers is in, latest year first, then by code."""
    order = [col(TeachingGroup.academic_year).desc(), col(TeachingGroup.code)]
    return await _memberships(session, reach, pupil_ids, ClassPupil, TeachingGroup, order)


async def groups_of_pupils(
    session: AsyncSession, reach: Reach, pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[PupilGroup]]:
    """The custom groups each pupil that ``reach`` covers belongs to, by name."""
    order = [col(PupilGroup.name)]
    return await _memberships(session, reach, pupil_ids, PupilGroupMember, PupilGroup, order)


async def _memberships(
    session: AsyncSession,
    reach: Reach,
    pupil_ids: Collection[uuid.UUID],
    member: Any,
    owner: Any,
    order: list[sa.ColumnElement[Any]],
) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if not pupil_ids:
        return found
    owner_id = member.class_id if member is ClassPupil else member.group_id
    rows = await session.execute(
        sa.select(member.pupil_id, owner)
        .join(owner, col(owner.id) == owner_id)
        .where(
            among(session, member.pupil_id, set(pupil_ids)),
            pupils_within(reach, pupil_column=member.pupil_id, school_column=member.school_id),
        )
        .order_by(*order, col(owner.id))
    )
    for pupil_id, group in rows:
        found[pupil_id].append(group)
    return found
