"""Reads of many parents at once (GraphQL's DataLoaders), under the same policy as one at a time.

Each takes the keys of one batch and answers a list per key, in key order: what the caller
reaches of it, and nothing (an empty list) where they reach none of it, exactly as a list
filtered by reach would be. One statement per batch, however many keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Action, Reach, Resource, reach, template_readers
from app.auth.principal import Principal
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.queries import batches as queries
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import Pupil, TeachingGroup
from app.db.tenancy import AssessmentPoint, School

Owned = TypeVar("Owned", Subject, Scale, Measure)
Shared = TypeVar("Shared", Subject, Scale, Measure, ReportTemplate)
# The order each kind of definition is listed in.
_ORDER = {Subject: ("position", "name"), Scale: ("name",), Measure: ("position", "name")}
_TEMPLATE_ORDER = ("name", "code")


async def schools_of_trusts(
    session: AsyncSession, *, principal: Principal, trust_ids: Sequence[uuid.UUID]
) -> list[list[School]]:
    """Each trust's schools that the caller may read (a school's own people: their school)."""
    readable = reach(principal, Resource.SCHOOL, Action.READ)
    found = await queries.children_of(session, School, "trust_id", trust_ids, order_by=("name",))
    return [[s for s in found.get(t, []) if readable.covers(school_id=s.id)] for t in trust_ids]


async def points_of_schools(
    session: AsyncSession, *, principal: Principal, school_ids: Sequence[uuid.UUID]
) -> list[list[AssessmentPoint]]:
    """Each school's assessment points, for those who may read its calendar."""
    readable = reach(principal, Resource.ASSESSMENT_POINT, Action.READ)
    wanted = [s for s in school_ids if readable.covers(school_id=s)]
    found = (
        await queries.children_of(
            session, AssessmentPoint, "school_id", wanted, order_by=("academic_year", "position")
        )
        if wanted
        else {}
    )
    return [found.get(s, []) for s in school_ids]


async def classes_of_schools(
    session: AsyncSession, *, principal: Principal, school_ids: Sequence[uuid.UUID]
) -> list[list[TeachingGroup]]:
    """Each school's classes, for those who may read its classes (a teacher: all of them, by
    name; the pupils in them are filtered apart)."""
    readable = reach(principal, Resource.CLASS, Action.READ)
    wanted = [s for s in school_ids if readable.covers(school_id=s)]
    found = (
        await queries.children_of(
            session, TeachingGroup, "school_id", wanted, order_by=("-academic_year", "code")
        )
        if wanted
        else {}
    )
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


async def definitions_of_schools(
    session: AsyncSession,
    *,
    principal: Principal,
    model: type[Owned],
    schools: Sequence[tuple[uuid.UUID, uuid.UUID | None]],
) -> list[list[Owned]]:
    """Each school's definitions of one kind (``schools``: (school id, its trust's id)): its
    own and its trust's, those the caller may read (as ``guards.definition_visible``)."""
    readable = reach(principal, Resource.DEFINITION, Action.READ)
    if readable.empty:
        return [[] for _ in schools]
    return await _owned_by_schools(session, readable, model, schools, order_by=_ORDER[model])


async def _owned_by_schools(
    session: AsyncSession,
    readable: Reach,
    model: type[Shared],
    schools: Sequence[tuple[uuid.UUID, uuid.UUID | None]],
    *,
    order_by: Sequence[str],
    current_only: bool = False,
) -> list[list[Shared]]:
    """Each school's own rows of ``model`` and its trust's, those ``readable`` covers."""
    rows = await queries.owned_by(
        session,
        model,
        school_ids={s for s, _ in schools},
        trust_ids={t for _, t in schools if t is not None},
        order_by=order_by,
        current_only=current_only,
    )
    visible = [r for r in rows if readable.covers(trust_id=r.trust_id, school_id=r.school_id)]
    return [
        [r for r in visible if r.school_id == s or (t is not None and r.trust_id == t)]
        for s, t in schools
    ]


async def templates_of_schools(
    session: AsyncSession,
    *,
    principal: Principal,
    schools: Sequence[tuple[uuid.UUID, uuid.UUID | None]],
) -> list[list[ReportTemplate] | None]:
    """Each school's report templates (``schools``: (school id, its trust's id)), as
    ``GET /v1/report-templates?school_id=`` lists them: the school's own and its trust's,
    not archived, those the caller may read (``template_readers``); None for a school whose
    templates the caller may not read (not found there)."""
    readable = template_readers(principal)
    wanted = [(s, t) for s, t in schools if readable.covers(school_id=s)]
    found = await _owned_by_schools(
        session, readable, ReportTemplate, wanted, order_by=_TEMPLATE_ORDER, current_only=True
    )
    lists = dict(zip((s for s, _ in wanted), found, strict=True))
    return [lists.get(s) for s, _ in schools]


async def templates_of_trusts(
    session: AsyncSession, *, principal: Principal, trust_ids: Sequence[uuid.UUID]
) -> list[list[ReportTemplate] | None]:
    """Each trust's own report templates, not archived, as ``GET /v1/report-templates
    ?trust_id=`` lists them; None for a trust whose templates the caller may not read."""
    readable = template_readers(principal)
    wanted = [t for t in trust_ids if readable.covers(trust_id=t)]
    found = (
        await queries.children_of(
            session, ReportTemplate, "trust_id", wanted, order_by=_TEMPLATE_ORDER, current_only=True
        )
        if wanted
        else {}
    )
    return [found.get(t, []) if t in wanted else None for t in trust_ids]


async def versions_of_templates(
    session: AsyncSession, *, principal: Principal, template_ids: Sequence[uuid.UUID]
) -> list[list[ReportTemplateVersion]]:
    """Each template's versions, oldest first (the template was read first)."""
    found = await queries.children_of(
        session, ReportTemplateVersion, "template_id", template_ids, order_by=("version",)
    )
    return [found.get(t, []) for t in template_ids]


async def frameworks_of_subjects(
    session: AsyncSession, *, principal: Principal, subject_ids: Sequence[uuid.UUID]
) -> list[list[Framework]]:
    """Each subject's frameworks that the caller may read (a trust's subject may have
    frameworks of several schools)."""
    readable = reach(principal, Resource.DEFINITION, Action.READ)
    found = await queries.children_of(
        session, Framework, "subject_id", subject_ids, order_by=("name",)
    )
    return [
        [f for f in found.get(s, []) if readable.covers(trust_id=f.trust_id, school_id=f.school_id)]
        for s in subject_ids
    ]


async def objectives_of_frameworks(
    session: AsyncSession, *, principal: Principal, framework_ids: Sequence[uuid.UUID]
) -> list[list[Objective]]:
    """Each framework's current objectives, in order (the framework was read first, so
    the caller may read it)."""
    found = await queries.children_of(
        session, Objective, "framework_id", framework_ids, order_by=("position",), current_only=True
    )
    return [found.get(f, []) for f in framework_ids]


async def descriptors_of_scales(
    session: AsyncSession, *, principal: Principal, scale_ids: Sequence[uuid.UUID]
) -> list[list[Descriptor]]:
    """Each scale's current descriptors, lowest first (the scale was read first)."""
    found = await queries.children_of(
        session, Descriptor, "scale_id", scale_ids, order_by=("position",), current_only=True
    )
    return [found.get(s, []) for s in scale_ids]
