"""The definitions the markbook reads: which a school uses (its own and its trust's), the
subjects and frameworks among them, and the scales judgements are on with their descriptors."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.curriculum import Descriptor, Framework, Scale, Subject
from app.db.tenancy import School

FRAMEWORK = Framework.__table__  # type: ignore[attr-defined]
DESCRIPTOR = Descriptor.__table__  # type: ignore[attr-defined]
SUBJECT = Subject.__table__  # type: ignore[attr-defined]


def used_by(table: sa.Table, school: School) -> sa.ColumnElement[bool]:
    """Definitions the school uses: its own, and its trust's."""
    owner = table.c.school_id == school.id
    if school.trust_id is not None:
        owner = sa.or_(owner, table.c.trust_id == school.trust_id)
    return owner


async def subjects_of(
    session: AsyncSession, school: School, subject_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the subjects are the school's (its own or its trust's)."""
    rows = await session.scalars(
        sa.select(SUBJECT.c.id).where(SUBJECT.c.id.in_(list(subject_ids)), used_by(SUBJECT, school))
    )
    return set(rows)


async def subject_of_framework(
    session: AsyncSession, school: School, framework_id: uuid.UUID
) -> uuid.UUID | None:
    """The subject of one of the school's frameworks (None: not the school's)."""
    return await session.scalar(
        sa.select(FRAMEWORK.c.subject_id).where(
            FRAMEWORK.c.id == framework_id, used_by(FRAMEWORK, school)
        )
    )


async def scales_of_subjects(
    session: AsyncSession, school: School, subject_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """The depth scales the school's frameworks in these subjects are judged on."""
    rows = await session.scalars(
        sa.select(FRAMEWORK.c.scale_id)
        .where(
            FRAMEWORK.c.subject_id.in_(list(subject_ids)),
            FRAMEWORK.c.scale_id.is_not(None),
            used_by(FRAMEWORK, school),
        )
        .distinct()
    )
    return set(rows)


async def scale_descriptors(
    session: AsyncSession, scale_ids: Collection[uuid.UUID]
) -> tuple[list[Scale], list[Descriptor]]:
    """The scales and all their descriptors (archived ones too: old judgements use them)."""
    if not scale_ids:
        return [], []
    rows = await session.execute(
        sa.select(Scale, Descriptor)
        .outerjoin(Descriptor, col(Descriptor.scale_id) == col(Scale.id))
        .where(col(Scale.id).in_(list(scale_ids)))
        .order_by(col(Scale.name), col(Scale.id), col(Descriptor.position))
    )
    scales: dict[uuid.UUID, Scale] = {}
    descriptors: list[Descriptor] = []
    for scale, descriptor in rows:
        scales.setdefault(scale.id, scale)
        if descriptor is not None:
            descriptors.append(descriptor)
    return list(scales.values()), descriptors


async def descriptors_by_id(
    session: AsyncSession, descriptor_ids: Collection[uuid.UUID]
) -> tuple[list[Scale], list[Descriptor]]:
    """The descriptors and their scales (with all the scales' descriptors)."""
    scale_ids = set(
        await session.scalars(
            sa.select(DESCRIPTOR.c.scale_id).where(DESCRIPTOR.c.id.in_(list(descriptor_ids)))
        )
    )
    return await scale_descriptors(session, scale_ids)
