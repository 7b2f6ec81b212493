"""Reads of many parents at once (GraphQL's DataLoaders), under the same policy as one at a time.

Each takes the keys of one batch and answers a list per key, in key order: what the caller
reaches of it, and nothing (an empty list) where they reach none of it, exactly as a list
filtered by reach would be. One statement per batch, however many keys (a pupil's working
years: four, whatever the number of pupils).

A pupil's parts follow REST's rules: their roster (characteristics, enrolments, classes,
groups) as ``GET /v1/pupils/{id}`` gives it, to those with pupil rights; their record (cells,
judgements, working years, values) as ``GET /v1/pupils/{id}/record`` gives it, by the same
queries and views (app.services.pupil_record), to those with judgement or value rights (pupils
and parents: their own). ``access_to_pupils`` says which parts a caller reaches of each
pupil; the reads of the parts filter by the same reach in SQL besides.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.pupil_page import PupilPage
from app.api.schemas.pupil_record import (
    JudgementHistoryItem,
    RecordFigures,
    RecordJudgement,
    RecordValue,
    RecordWorkingYear,
)
from app.api.schemas.targets import TargetRead
from app.auth.policy import Action, Reach, Resource, reach, template_readers
from app.auth.principal import Principal
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.queries import batches as queries
from app.db.queries import pupil_record as record_queries
from app.db.queries.roster import enrolments_of
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import Enrolment, Pupil, PupilGroup, TeachingGroup
from app.db.tenancy import AssessmentPoint, School
from app.services import pupil_page, targets
from app.services.pupil_record import (
    record_figures,
    record_judgement,
    record_value,
    record_working_years,
)

Owned = TypeVar("Owned", Subject, Scale, Measure)
Key = TypeVar("Key", bound=Hashable)
# A pupil's cells in one subject, now (None) or as at a date.
CellsKey = tuple[uuid.UUID, uuid.UUID, date | None]
# A pupil's values at one assessment point, or at every point (None).
ValuesKey = tuple[uuid.UUID, uuid.UUID | None]
# A pupil's figures in one subject (or every subject: None) at the points of an academic year.
FiguresKey = tuple[uuid.UUID, uuid.UUID | None, int]
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


# --- A pupil's parts ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PupilAccess:
    """A pupil the caller reaches, and which of their parts: ``roster`` (characteristics,
    enrolments, classes and groups: pupil rights), ``judgements`` (cells, judgement history,
    working years) and ``values`` (measure values)."""

    pupil: Pupil
    roster: bool
    judgements: bool
    values: bool


def _by_second(keys: Sequence[tuple[uuid.UUID, Key]]) -> dict[Key, list[uuid.UUID]]:
    """The pupils of the keys grouped by what else the key holds (a subject and date, a
    point): one statement per group, and a batch's keys mostly share one."""
    grouped: dict[Key, list[uuid.UUID]] = defaultdict(list)
    for pupil_id, rest in keys:
        grouped[rest].append(pupil_id)
    return grouped


async def access_to_pupils(
    session: AsyncSession, *, principal: Principal, pupil_ids: Sequence[uuid.UUID]
) -> list[PupilAccess | None]:
    """Each pupil with the parts of them the caller reaches, as REST's pupil and pupil record
    routes decide: school and trust staff their schools' pupils, a teacher those they teach, a
    pupil or parent their own record (not the roster), an integration as its scopes say, a
    governor none. None for a pupil reached in no way, or no such pupil."""
    reaches = [
        reach(principal, resource, Action.READ)
        for resource in (Resource.PUPIL, Resource.JUDGEMENT, Resource.VALUE)
    ]
    if all(r.empty for r in reaches):
        return [None for _ in pupil_ids]
    found = await record_queries.pupils_reached(session, pupil_ids, reaches)
    return [PupilAccess(found[p][0], *found[p][1]) if p in found else None for p in pupil_ids]


async def enrolments_of_pupils(
    session: AsyncSession, *, principal: Principal, pupil_ids: Sequence[uuid.UUID]
) -> list[list[Enrolment]]:
    """Each pupil's enrolments, oldest year first, for callers with pupil rights over them."""
    readable = reach(principal, Resource.PUPIL, Action.READ)
    if readable.empty:
        return [[] for _ in pupil_ids]
    found = await enrolments_of(session, pupil_ids, readable)
    return [found.get(p, []) for p in pupil_ids]


async def classes_of_pupils(
    session: AsyncSession, *, principal: Principal, pupil_ids: Sequence[uuid.UUID]
) -> list[list[TeachingGroup]]:
    """The classes each pupil is in, latest year first, for callers with pupil rights over
    them; only classes the caller may read (a teacher reads all of the school's by name)."""
    pupils = reach(principal, Resource.PUPIL, Action.READ)
    classes = reach(principal, Resource.CLASS, Action.READ)
    if pupils.empty or classes.empty:
        return [[] for _ in pupil_ids]
    found = await queries.classes_of_pupils(session, pupils, pupil_ids)
    return [
        [c for c in found.get(p, []) if classes.covers(school_id=c.school_id)] for p in pupil_ids
    ]


async def groups_of_pupils(
    session: AsyncSession, *, principal: Principal, pupil_ids: Sequence[uuid.UUID]
) -> list[list[PupilGroup]]:
    """The custom groups each pupil belongs to, by name, for callers with pupil rights over
    them; only groups the caller may read."""
    pupils = reach(principal, Resource.PUPIL, Action.READ)
    groups = reach(principal, Resource.GROUP, Action.READ)
    if pupils.empty or groups.empty:
        return [[] for _ in pupil_ids]
    found = await queries.groups_of_pupils(session, pupils, pupil_ids)
    return [
        [g for g in found.get(p, []) if groups.covers(school_id=g.school_id)] for p in pupil_ids
    ]


async def working_years_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[RecordWorkingYear] | None]:
    """Each (pupil, academic year)'s working curriculum year in every subject their school
    uses, as the pupil record gives them; None for a pupil whose judgements the caller may not
    read."""
    readable = reach(principal, Resource.JUDGEMENT, Action.READ)
    if readable.empty:
        return [None for _ in keys]
    found: dict[tuple[uuid.UUID, int], list[RecordWorkingYear]] = {}
    for year, pupil_ids in _by_second(keys).items():
        reached = await record_queries.pupils_reached(session, pupil_ids, [readable])
        pupils = [pupil for pupil, _ in reached.values()]
        for pupil_id, years in (await record_working_years(session, year, pupils)).items():
            found[pupil_id, year] = years
    return [found.get(key) for key in keys]


async def cells_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[CellsKey]
) -> list[list[RecordJudgement]]:
    """Each (pupil, subject, as at)'s cells with a standing descriptor, now (as at None) or
    as at a date, as the pupil record gives them; of pupils whose judgements the caller may
    read."""
    readable = reach(principal, Resource.JUDGEMENT, Action.READ)
    found: dict[CellsKey, list[RecordJudgement]] = defaultdict(list)
    if not readable.empty:
        grouped = _by_second(
            [(pupil_id, (subject_id, as_at)) for pupil_id, subject_id, as_at in keys]
        )
        for (subject_id, as_at), pupil_ids in grouped.items():
            rows = await record_queries.standing_judgements(
                session, pupil_ids, as_at, subject_id=subject_id, reach=readable
            )
            for row in rows:
                found[row["pupil_id"], subject_id, as_at].append(record_judgement(row))
    return [found.get(key, []) for key in keys]


async def judgements_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> list[list[JudgementHistoryItem]]:
    """Every judgement recorded in each (pupil, objective) cell, newest first, as the pupil's
    judgement history gives them; of pupils whose judgements the caller may read."""
    readable = reach(principal, Resource.JUDGEMENT, Action.READ)
    found: dict[tuple[uuid.UUID, uuid.UUID], list[JudgementHistoryItem]] = defaultdict(list)
    if not readable.empty:
        for row in await record_queries.cell_histories(session, keys, readable):
            found[row["pupil_id"], row["objective_id"]].append(JudgementHistoryItem(**row))
    return [found.get(key, []) for key in keys]


async def values_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[ValuesKey]
) -> list[list[RecordValue]]:
    """Each (pupil, point)'s current measure values (at every point if None), typed and
    banded as the pupil record gives them; of pupils whose values the caller may read."""
    readable = reach(principal, Resource.VALUE, Action.READ)
    found: dict[ValuesKey, list[RecordValue]] = defaultdict(list)
    if not readable.empty:
        for point_id, pupil_ids in _by_second(keys).items():
            rows = await record_queries.current_values(
                session, pupil_ids, None, point_id=point_id, reach=readable
            )
            for row in rows:
                found[row[0].pupil_id, point_id].append(record_value(row))
    return [found.get(key, []) for key in keys]


async def figures_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[FiguresKey]
) -> list[list[RecordFigures]]:
    """Each (pupil, subject, academic year)'s figures at the points of the year, as the pupil
    record gives them; of pupils whose judgements the caller may read."""
    readable = reach(principal, Resource.JUDGEMENT, Action.READ)
    found: dict[FiguresKey, list[RecordFigures]] = defaultdict(list)
    if not readable.empty:
        grouped = _by_second(
            [(pupil_id, (subject_id, year)) for pupil_id, subject_id, year in keys]
        )
        for (subject_id, year), pupil_ids in grouped.items():
            rows = await record_queries.figures(
                session, pupil_ids, year, subject_id=subject_id, reach=readable
            )
            for row in rows:
                found[row["pupil_id"], subject_id, year].append(record_figures(row))
    return [found.get(key, []) for key in keys]


async def targets_of_pupils(
    session: AsyncSession, *, principal: Principal, pupil_ids: Sequence[uuid.UUID]
) -> list[list[TargetRead] | None]:
    """Each pupil's targets, as ``GET /v1/pupils/{id}/targets`` lists them; None for a pupil
    whose targets the caller may not read."""
    readable = reach(principal, Resource.TARGET, Action.READ)
    if readable.empty:
        return [None for _ in pupil_ids]
    found = await targets.targets_of_pupils(session, set(pupil_ids), readable)
    return [found.get(p) for p in pupil_ids]


async def pages_of_pupils(
    session: AsyncSession, *, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[PupilPage | None]:
    """Each (pupil, academic year)'s page, as ``GET /v1/pupils/{id}/page`` gives it; None for a
    pupil whose judgements the caller may not read. One batch of statements per year."""
    found: dict[tuple[uuid.UUID, int], PupilPage] = {}
    for year, pupil_ids in _by_second(list(keys)).items():
        made = await pupil_page.pages(
            session, principal=principal, pupil_ids=pupil_ids, academic_year=year
        )
        found.update({(pupil_id, year): page for pupil_id, page in made.items()})
    return [found.get(key) for key in keys]
