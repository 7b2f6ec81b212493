"""Reads of many parents at once (GraphQL's DataLoaders), under the same policy as one at a time.

Each takes the keys of one batch and answers a list per key, in key order: what the caller
reaches of it, and nothing (an empty list) where they reach none of it, exactly as a list
filtered by reach would be. One statement per batch, however many keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.queries import batches as queries
from app.db.roster import Pupil, TeachingGroup
from app.db.tenancy import AssessmentPoint, School


async def schools_of_trusts(
    session: AsyncSession, *, principal: Principal, trust_ids: Sequence[uuid.UUID]
) -> list[list[School]]:
    """Each trust's schools that the caller may read (a school's own people: their school)."""
    readable = reach(principal, Resource.SCHOOL, Action.READ)
    found = await queries.schools_of_trusts(session, trust_ids)
    return [[s for s in found.get(t, []) if readable.covers(school_id=s.id)] for t in trust_ids]


async def points_of_schools(
    session: AsyncSession, *, principal: Principal, school_ids: Sequence[uuid.UUID]
) -> list[list[AssessmentPoint]]:
    """Each school's assessment points, for those who may read its calendar."""
    readable = reach(principal, Resource.ASSESSMENT_POINT, Action.READ)
    wanted = [s for s in school_ids if readable.covers(school_id=s)]
    found = await queries.points_of_schools(session, wanted) if wanted else {}
    return [found.get(s, []) for s in school_ids]


async def classes_of_schools(
    session: AsyncSession, *, principal: Principal, school_ids: Sequence[uuid.UUID]
) -> list[list[TeachingGroup]]:
    """Each school's classes, for those who may read its classes (a teacher: all of them, by
    name; the pupils in them are filtered apart)."""
    readable = reach(principal, Resource.CLASS, Action.READ)
    wanted = [s for s in school_ids if readable.covers(school_id=s)]
    found = await queries.classes_of_schools(session, wanted) if wanted else {}
    return [found.get(s, []) for s in school_ids]


async def pupils_of_classes(
    session: AsyncSession, *, principal: Principal, class_ids: Sequence[uuid.UUID]
) -> list[list[Pupil]]:
    """Each class's pupils that the caller reaches: a school's staff all of them, a teacher
    those they teach, a governor none."""
    readable = reach(principal, Resource.PUPIL, Action.READ)
    if readable.empty:
        return [[] for _ in class_ids]
    found = await queries.pupils_of_classes(session, readable, class_ids)
    return [found.get(c, []) for c in class_ids]
