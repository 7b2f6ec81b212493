"""A pupil's page: per subject of their school, what they do well, what comes next and their
targets, within the curriculum they work on, in words a pupil and their parents read.

Who may open it (app.auth.policy): whoever reads the pupil's judgements: the pupil and their
parents their own, teachers the pupils they teach, leaders and trust staff their schools'
pupils. Targets are shown to those who read them too (the same people). The sorting of
objectives is the domain's one rule (app.domain.next_steps.steps); the page shows each
objective's statement in full and, for judged ones, the descriptor's label, never a code or a
number. A pupil working within another year's curriculum sees that curriculum, named as it is
("Year 2"), and nothing that compares them with their year group.

Secondary, per subject: whether the pupil is on track (app.domain.on_track), placed by the
report engine with the attainment rule of the report template the school names, at the point
the school is working towards, and said in the school's words. A school may show it to staff
only (``on_track_for_pupils``): a caller who reaches the pupil only as the pupil or a parent
then gets no line.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.pupil_page import (
    MyPupil,
    MyPupils,
    OnTrack,
    PageObjective,
    PagePupil,
    PageSubject,
    PupilPage,
)
from app.api.schemas.targets import TargetRead
from app.auth.policy import Action, Reach, Resource, as_staff, reach
from app.auth.principal import Principal
from app.db.queries import grid as grid_queries
from app.db.queries import pupil_record as queries
from app.db.queries import reports as report_queries
from app.db.queries import targets as target_queries
from app.db.queries.tenancy import get_schools
from app.db.queries.working_years import working_years
from app.db.roster import Pupil
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.curriculum import year_in_words
from app.domain.errors import DomainError
from app.domain.markbook import DescriptorValue
from app.domain.next_steps import Standing, steps
from app.domain.on_track import current_point, on_track_definition, words_for
from app.domain.reports import DefinitionError, KnownPoint, parse_definition, resolve_point
from app.domain.roles import SELF_ROLES
from app.domain.scales import is_secure
from app.domain.targets import TargetStatus
from app.errors import InvalidInput, NotFound
from app.reports import engine
from app.services.targets import target_read

PUPIL_NOT_FOUND = "pupil not found"


async def read_page(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    academic_year: int | None = None,
    today: date | None = None,
) -> PupilPage:
    """The pupil's page for ``academic_year`` (default: this one), as ``pages`` makes it; not
    found unless the caller may read the pupil's judgements."""
    year = academic_year or AcademicYear.containing(today or date.today()).start_year
    try:
        AcademicYear(year)
    except DomainError as exc:
        raise InvalidInput.at("query.academic_year", exc.message) from exc
    found = await pages(
        session, principal=principal, pupil_ids=[pupil_id], academic_year=year, today=today
    )
    if pupil_id not in found:
        raise NotFound(PUPIL_NOT_FOUND)
    return found[pupil_id]


async def pages(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_ids: Collection[uuid.UUID],
    academic_year: int,
    today: date | None = None,
) -> dict[uuid.UUID, PupilPage]:
    """The pages of the pupils whose judgements the caller may read (the others are left
    out), for ``academic_year``: the judgements that stand now, sorted within each pupil's
    working curriculum year of that academic year in each subject of their school; their open
    targets, and those achieved since the year began (for callers who read their targets).
    A fixed number of statements however many pupils, plus a few per school for its curriculum
    and its on-track line (``on_track``)."""
    judgements = reach(principal, Resource.JUDGEMENT, Action.READ)
    found = await queries.pupils_reached(
        session,
        pupil_ids,
        [judgements, reach(principal, Resource.TARGET, Action.READ), as_staff(judgements)],
    )
    pupils = {p.id: (p, sees_targets) for p, (judged, sees_targets, _) in found.values() if judged}
    as_staff_of = {p.id for p, (judged, _, staff) in found.values() if judged and staff}
    if not pupils:
        return {}
    starts_on = AcademicYear(academic_year).starts_on
    schools = {
        s.id: s for s in await get_schools(session, {p.school_id for p, _ in pupils.values()})
    }
    subjects_of = await queries.subject_ids_of_schools(session, set(schools))
    every_subject = {s for ids in subjects_of.values() for s in ids}
    subjects = {s.id: s for s in await target_queries.school_subjects(session, every_subject)}
    years = await working_years(session, academic_year, set(pupils), every_subject)

    objectives: dict[tuple[uuid.UUID, uuid.UUID], list[_Column]] = defaultdict(list)
    for school in schools.values():
        wanted = {
            v.curriculum_year
            for (pupil_id, _), v in years.items()
            if v.curriculum_year is not None and pupils[pupil_id][0].school_id == school.id
        }
        if not wanted:
            continue
        for row in await grid_queries.grid_columns(
            session, school, subject_id=None, framework_id=None, years=wanted
        ):
            if row.id is not None:
                objectives[school.id, row.subject_id].append(_Column(row))

    judged: dict[uuid.UUID, dict[uuid.UUID, dict[str, Any]]] = defaultdict(dict)
    for row in await queries.standing_judgements(session, set(pupils), None):
        judged[row["pupil_id"]][row["objective_id"]] = row

    open_targets: dict[tuple[uuid.UUID, uuid.UUID | None], list[TargetRead]] = defaultdict(list)
    achieved: dict[tuple[uuid.UUID, uuid.UUID | None], list[TargetRead]] = defaultdict(list)
    target_readers = {p for p, (_, sees_targets) in pupils.items() if sees_targets}
    for row in await target_queries.targets_of(
        session,
        target_readers,
        statuses=[TargetStatus.OPEN, TargetStatus.ACHIEVED],
        closed_since=starts_on,
    ):
        target = target_read(row)
        into = open_targets if target.status is TargetStatus.OPEN else achieved
        into[target.pupil_id, target.subject_id].append(target)

    lines = await on_track(
        session,
        schools=schools.values(),
        pupils={
            p.id: p.school_id
            for p, _ in pupils.values()
            if p.id in as_staff_of or schools[p.school_id].on_track_for_pupils
        },
        reach=judgements,
        academic_year=academic_year,
        today=today or date.today(),
    )

    made: dict[uuid.UUID, PupilPage] = {}
    for pupil_id, (pupil, _) in pupils.items():
        cells = judged.get(pupil_id, {})
        standing = {o: Standing(r["descriptor_id"], r["assessed_on"]) for o, r in cells.items()}
        descriptors = {
            r["descriptor_id"]: DescriptorValue(
                Decimal(r["value"]), is_secure(Decimal(r["value"]), _decimal(r["secure_value"]))
            )
            for r in cells.values()
        }
        page_subjects = []
        for subject_id in subjects_of[pupil.school_id]:
            view = years[pupil_id, subject_id]
            listed = objectives.get((pupil.school_id, subject_id), [])
            by_id = {column.id: column for column in listed}
            sorted_ = (
                None
                if view.curriculum_year is None
                else steps(listed, standing, descriptors, view.curriculum_year)
            )
            page_subjects.append(
                PageSubject(
                    subject_id=subject_id,
                    subject=subjects[subject_id].name,
                    curriculum_year=year_in_words(view.curriculum_year),
                    strengths=_shown(sorted_.strengths, by_id, cells) if sorted_ else [],
                    next_steps=_shown(sorted_.next_steps, by_id, cells) if sorted_ else [],
                    not_yet_judged=(
                        _shown(sorted_.not_yet_judged, by_id, cells) if sorted_ else []
                    ),
                    targets=open_targets.get((pupil_id, subject_id), []),
                    achieved=achieved.get((pupil_id, subject_id), []),
                    on_track=lines.get((pupil_id, subject_id)),
                )
            )
        made[pupil_id] = PupilPage(
            pupil=_page_pupil(pupil),
            academic_year=academic_year,
            subjects=page_subjects,
            other_targets=open_targets.get((pupil_id, None), []),
        )
    return made


async def on_track(
    session: AsyncSession,
    *,
    schools: Iterable[School],
    pupils: Mapping[uuid.UUID, uuid.UUID],
    reach: Reach,
    academic_year: int,
    today: date,
) -> dict[tuple[uuid.UUID, uuid.UUID], OnTrack]:
    """The on-track line of each pupil (``pupils``: id -> school id) in each subject their
    school's rule covers, in the school's words (app.domain.on_track): the report engine
    places them with the attainment rule of the template the school names, at the point it is
    working towards. A school that names no template, whose template is gone or archived or
    cannot run there (a measure it no longer has), or that has no point that year, gives none.
    """
    lines: dict[tuple[uuid.UUID, uuid.UUID], OnTrack] = {}
    for school in schools:
        ids = [p for p, s in pupils.items() if s == school.id]
        if not ids or school.on_track_template is None:
            continue
        template = await report_queries.template_for_school(
            session, school, school.on_track_template
        )
        if template is None:
            continue
        points = [
            KnownPoint(p.id, p.code, p.name, p.position, p.assessed_on, p.academic_year)
            for p in await report_queries.points_of(session, (school.id,), academic_year)
        ]
        now = current_point(points, academic_year=academic_year, today=today)
        if now is None:
            continue
        try:
            saved = parse_definition(template.definition)
            here = [
                index
                for index, spec in enumerate(saved.points)
                if resolve_point(spec, points, academic_year=academic_year, today=today) == now
            ]
            definition = on_track_definition(
                saved, point_code=now.code, here=here, academic_year=academic_year
            )
            if definition is None:
                continue
            placed = await engine.pupil_categories(
                session,
                definition=definition,
                reach=reach,
                school_id=school.id,
                pupil_ids=ids,
                today=today,
            )
        except DefinitionError:
            continue
        for key, category in placed.items():
            lines[key] = OnTrack(words=words_for(category, school.on_track_words), as_at=now.name)
    return lines


class _Column:
    """A grid column (an objective in use, never archived) as the domain's rule reads it."""

    archived = False

    def __init__(self, row: Any) -> None:
        self.row = row
        self.id: uuid.UUID = row.id
        self.year_from: int = row.year_from
        self.year_to: int = row.year_to
        self.is_key: bool = row.is_key


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _page_pupil(pupil: Pupil) -> PagePupil:
    return PagePupil(
        id=pupil.id,
        school_id=pupil.school_id,
        forename=pupil.preferred_forename or pupil.legal_forename,
        surname=pupil.preferred_surname or pupil.legal_surname,
    )


def _shown(
    ids: list[uuid.UUID], columns: dict[uuid.UUID, _Column], judged: dict[uuid.UUID, Any]
) -> list[PageObjective]:
    return [_objective(columns[i], judged.get(i)) for i in ids]


def _objective(column: _Column, judgement: dict[str, Any] | None) -> PageObjective:
    row = column.row
    return PageObjective(
        objective_id=row.id,
        code=row.code,
        statement=row.statement,
        is_key=row.is_key,
        judged=None if judgement is None else judgement["label"],
        judged_on=None if judgement is None else judgement["assessed_on"],
    )


async def my_pupils(session: AsyncSession, *, principal: Principal) -> MyPupils:
    """The pupils whose page a pupil's or parent's sign-in opens: the pupil each of their
    grants names (a parent of two children at the school: both), in name order. Staff reach
    pupils through their school's roster and classes, so for them the list is empty."""
    pupil_ids = {
        g.pupil_id for g in principal.grants if g.role in SELF_ROLES and g.pupil_id is not None
    }
    found = await queries.pupils_reached(
        session, pupil_ids, [reach(principal, Resource.JUDGEMENT, Action.READ)]
    )
    pupils = sorted(
        (pupil for pupil, _ in found.values()),
        key=lambda p: (
            p.preferred_surname or p.legal_surname,
            p.preferred_forename or p.legal_forename,
            p.id,
        ),
    )
    return MyPupils(
        items=[
            MyPupil(
                **_page_pupil(p).model_dump(),
                page=f"/v1/pupils/{p.id}/page",
                targets=f"/v1/pupils/{p.id}/targets",
            )
            for p in pupils
        ]
    )
