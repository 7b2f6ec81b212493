"""The markbook grid: pupils x objectives of one subject, read as it stands (or as at a date)
and written many cells at a time; and pupils' working curriculum years.

Every write is kept: a judgement is appended to the cell's history (which is its audit; one
audit event sums up each write), the cell's current row is put in the same transaction, and so
are the per pupil x subject x assessment point summaries that reports aggregate. Writes to one
school's markbook queue on its clock (``tick``), so each sees all earlier ones; a grid read
carries the highest version among its pupils' cells in the subject, and a write sent with that
version as ``If-Match`` is refused (412, with the cells changed since) if any of those cells
has changed since, so that nobody overwrites a colleague's judgement unseen.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.markbook import (
    CellIn,
    GridSaved,
    GridWrite,
    WorkingYearsSaved,
    WorkingYearsWrite,
)
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.curriculum import Descriptor, Scale, Subject
from app.db.queries import markbook as queries
from app.db.tenancy import AssessmentPoint, School
from app.domain.calendar import AcademicYear
from app.domain.curriculum import read_curriculum_year, year_label
from app.domain.errors import DomainError
from app.domain.markbook import (
    DescriptorValue,
    check_assessed_on,
    covers,
    figures,
    order_key,
)
from app.errors import InvalidInput, PreconditionFailed
from app.services import idempotency
from app.services.audit import record_bulk
from app.services.pupil_records import (
    MAX_LISTED_ERRORS,
    NOT_YOURS,
    resolve_working_years,
    school_to_record,
)
from app.services.roster import school_for


def _name(pupil: Any) -> str:
    forename = pupil.preferred_forename or pupil.legal_forename
    surname = pupil.preferred_surname or pupil.legal_surname
    return f"{forename} {surname}"


def parse_curriculum_year(raw: str, field: str) -> int:
    """One curriculum year as people write it (R, 3, Y3, Year 3): R is 0."""
    try:
        return read_curriculum_year(raw, field=field)
    except DomainError as exc:
        raise InvalidInput.at(field, exc.message) from exc


def parse_version(if_match: str | None) -> int | None:
    """The grid version an ``If-Match`` header holds ("*" or none: no precondition)."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput.at("header.if-match", 'send the grid\'s ETag, such as "42"')
    return int(text)


def _descriptor_values(
    scales: Iterable[Scale], descriptors: Sequence[Descriptor]
) -> dict[uuid.UUID, DescriptorValue]:
    """Each descriptor's value, and whether it counts as secure on its (depth) scale."""
    secure_from = {s.id: s.secure_from for s in scales}
    threshold = {d.scale_id: d.value for d in descriptors if d.code == secure_from.get(d.scale_id)}
    return {
        d.id: DescriptorValue(d.value, d.scale_id in threshold and d.value >= threshold[d.scale_id])
        for d in descriptors
    }


# --- Reading a grid ----------------------------------------------------------------------
async def _subject_of(session: AsyncSession, school: School, subject_id: uuid.UUID) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or not (
        subject.school_id == school.id
        or (subject.trust_id is not None and subject.trust_id == school.trust_id)
    ):
        raise InvalidInput.at("query.subject_id", "no such subject for this school")
    return subject


async def read_grid(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    class_id: uuid.UUID | None = None,
    pupil_ids: Sequence[uuid.UUID] = (),
    subject_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
    curriculum_year: str | None = None,
    as_at: date | None = None,
) -> dict[str, Any]:
    """The grid of a class (or of the pupils named) in a subject (or one framework of it), as
    the ``Grid`` model describes it (built as plain data: a class grid has over a thousand
    cells).

    Each pupil is shown against the objectives of their working curriculum year in the
    subject (``curriculum_year`` shows one year's objectives to all). Cells hold what stands
    now, or as at ``as_at``: the latest judgement assessed on or before that date. Teachers
    see the pupils they teach; a class's other pupils are left out.
    """
    school = await school_for(session, principal, Resource.JUDGEMENT, school_id)
    if (class_id is None) == (not pupil_ids):
        raise InvalidInput.at("query.class_id", "give class_id or pupil_id, not both")
    if (subject_id is None) == (framework_id is None):
        raise InvalidInput.at("query.subject_id", "give subject_id or framework_id, not both")
    wanted_year = (
        None
        if curriculum_year is None
        else parse_curriculum_year(curriculum_year, "query.curriculum_year")
    )
    today = date.today()
    if as_at is not None and as_at > today:
        raise InvalidInput.at("query.as_at", "cannot be in the future")
    if class_id is not None:
        class_ = await queries.get_class(session, class_id)
        if class_ is None or class_.school_id != school.id:
            raise InvalidInput.at("query.class_id", "no such class in this school")
        academic_year = class_.academic_year
    else:
        academic_year = AcademicYear.containing(as_at or today).start_year
    if framework_id is not None:
        subject_id = await queries.subject_of_framework(session, school, framework_id)
        if subject_id is None:
            raise InvalidInput.at("query.framework_id", "no such framework for this school")
    assert subject_id is not None

    pupils = await queries.grid_pupils(
        session,
        reach(principal, Resource.JUDGEMENT, Action.READ),
        school.id,
        class_id=class_id,
        pupil_ids=pupil_ids or None,
        academic_year=academic_year,
    )
    if pupil_ids:
        found = {p.id for p in pupils}
        errors = [
            {"field": f"query.pupil_id.{index}", "reason": "no such pupil among those you see"}
            for index, pupil_id in enumerate(pupil_ids)
            if pupil_id not in found
        ]
        if errors:
            raise InvalidInput.of(errors[:MAX_LISTED_ERRORS], total=len(errors))
    ids = [p.id for p in pupils]
    chosen = await queries.set_working_years(session, academic_year, ids, [subject_id])
    groups = {p.id: p.year_group for p in pupils if p.year_group is not None}
    years = resolve_working_years(chosen, groups, ids, [subject_id])
    shown = (
        {wanted_year}
        if wanted_year is not None
        else {v.curriculum_year for v in years.values() if v.curriculum_year is not None}
    )
    columns = await queries.grid_columns(
        session, school, subject_id=subject_id, framework_id=framework_id, years=shown
    )
    if not columns and framework_id is None:
        await _subject_of(session, school, subject_id)
    objectives = [c for c in columns if c.id is not None]
    objective_ids = {o.id for o in objectives}
    states = await queries.current_cells(session, ids, [subject_id])
    version = max([s.version for s in states] + [w.version for w in chosen.values()] or [0])
    cells = (
        [s for s in states if s.objective_id in objective_ids]
        if as_at is None
        else await queries.cells_as_at(session, ids, objective_ids, as_at)
    )
    frameworks = {c.framework_id: c for c in columns}
    scales, descriptors = await queries.scale_descriptors(
        session, {f.scale_id for f in frameworks.values() if f.scale_id is not None}
    )
    values = _descriptor_values(scales, descriptors)
    code = {d.id: d.code for d in descriptors}
    return {
        "school_id": school.id,
        "subject_id": subject_id,
        "academic_year": academic_year,
        "curriculum_year": year_label(wanted_year),
        "as_at": as_at,
        "version": version,
        "frameworks": [
            {"id": f.framework_id, "name": f.framework_name, "scale_id": f.scale_id}
            for f in frameworks.values()
        ],
        "scales": [
            {
                "id": scale.id,
                "name": scale.name,
                "secure_from": scale.secure_from,
                "descriptors": [
                    {
                        "id": d.id,
                        "code": d.code,
                        "label": d.label,
                        "value": d.value,
                        "band": d.band,
                        "colour": d.colour,
                        "secure": values[d.id].secure,
                    }
                    for d in descriptors
                    if d.scale_id == scale.id and not d.archived
                ],
            }
            for scale in scales
        ],
        "objectives": [
            {
                "id": o.id,
                "framework_id": o.framework_id,
                "code": o.code,
                "statement": o.statement,
                "curriculum_years": o.curriculum_years,
                "strand": o.strand,
                "sub_strand": o.sub_strand,
                "is_key": o.is_key,
            }
            for o in objectives
        ],
        "pupils": [
            {
                "id": p.id,
                "name": _name(p),
                "year_group": p.year_group,
                "working_year": year_label(years[p.id, subject_id].curriculum_year),
                "working_year_set": years[p.id, subject_id].is_set,
            }
            for p in pupils
        ],
        "cells": [_cell(row, code) for row in cells],
    }


def _cell(row: Any, code: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    """A cell as ``CellRead`` describes it. Ids are turned into text here: asyncpg's UUIDs
    are not the standard library's, and serialising them is four times slower."""
    descriptor_id = row.descriptor_id
    return {
        "pupil_id": str(row.pupil_id),
        "objective_id": str(row.objective_id),
        "descriptor": None if descriptor_id is None else code.get(descriptor_id),
        "assessed_on": row.assessed_on,
        "recorded_at": row.recorded_at,
        "recorded_by": str(row.recorded_by),
        "note": row.note,
    }


# --- Writing cells -----------------------------------------------------------------------
async def save_request(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    grid: GridWrite,
    if_match: str | None,
    class_id: uuid.UUID | None,
    pupil_ids: Sequence[uuid.UUID],
    idempotency_key: str | None,
    request_fingerprint: str,
) -> tuple[int, dict[str, Any], bool]:
    """A grid write as the API receives it: access first, then the stored answer for a
    retried ``Idempotency-Key``, else the write. Returns (status, answer, replayed)."""
    await school_to_record(session, principal, Resource.JUDGEMENT, school_id)

    async def run() -> dict[str, Any]:
        saved = await save_grid(
            session,
            principal=principal,
            school_id=school_id,
            grid=grid,
            if_match=if_match,
            class_id=class_id,
            pupil_ids=pupil_ids,
        )
        return saved.model_dump(mode="json")

    return await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        run=run,
    )


async def save_grid(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    grid: GridWrite,
    if_match: str | None = None,
    class_id: uuid.UUID | None = None,
    pupil_ids: Sequence[uuid.UUID] = (),
) -> GridSaved:
    """Record many judgements at once, all or nothing.

    Each cell names a pupil the caller may record for, an objective of one of the school's
    (or its trust's) frameworks, and a descriptor code of the depth scale that framework is
    judged on, or null to clear the cell. Each becomes a new judgement in the cell's history
    (dated ``assessed_on``, by the caller, now); the cell's current judgement is the latest
    by date assessed, so a back-dated judgement is kept but does not replace a later one.

    With ``If-Match``, the write is refused (412, listing the cells changed since) if any cell
    of the grid's pupils (the class's, the pupils named, else the pupils written) in the
    subjects written has a version above it.
    """
    school = await school_to_record(session, principal, Resource.JUDGEMENT, school_id)
    expected = parse_version(if_match)
    today = date.today()
    default_on = grid.assessed_on or today
    try:
        check_assessed_on(default_on, today)
    except DomainError as exc:
        raise InvalidInput.at("body.assessed_on", exc.message) from exc
    version = await queries.tick(session, school.id)

    errors: list[dict[str, str]] = []
    objectives = await queries.objectives_to_judge(session, {c.objective_id for c in grid.cells})
    scale_ids = {o.scale_id for o in objectives.values() if o.scale_id is not None}
    _, descriptors = await queries.scale_descriptors(session, scale_ids)
    by_code = {(d.scale_id, d.code): d for d in descriptors if not d.archived}
    reached = await queries.pupils_reached(
        session,
        reach(principal, Resource.JUDGEMENT, Action.WRITE),
        school.id,
        {c.pupil_id for c in grid.cells},
    )
    seen: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    planned: list[tuple[CellIn, Any, uuid.UUID | None, date]] = []
    for index, cell in enumerate(grid.cells):
        where = f"body.cells.{index}"
        problem = _check_cell(cell, school, objectives, by_code, reached, seen, index, today)
        if problem is not None:
            errors.append({"field": f"{where}.{problem[0]}", "reason": problem[1]})
            continue
        objective = objectives[cell.objective_id]
        descriptor = (
            None
            if cell.descriptor is None
            else by_code[objective.scale_id, cell.descriptor.strip()].id
        )
        planned.append((cell, objective, descriptor, cell.assessed_on or default_on))
    if errors:
        raise InvalidInput.of(errors[:MAX_LISTED_ERRORS], total=len(errors))

    written_pupils = {cell.pupil_id for cell, *_ in planned}
    subjects = {objective.subject_id for _, objective, *_ in planned}
    scope = await _scope_pupils(session, principal, school, class_id, pupil_ids, written_pupils)
    states = await queries.current_cells(session, scope, subjects)
    if expected is not None:
        await _check_unchanged(session, states, scope, subjects, expected, descriptors)

    now = utcnow()
    current = {(s.pupil_id, s.objective_id): s._mapping for s in states}
    history: list[dict[str, Any]] = []
    new_states: list[dict[str, Any]] = []
    for cell, objective, descriptor_id, assessed_on in planned:
        row = {
            "id": uuid.uuid4(),
            "school_id": school.id,
            "pupil_id": cell.pupil_id,
            "objective_id": cell.objective_id,
            "subject_id": objective.subject_id,
            "descriptor_id": descriptor_id,
            "assessed_on": assessed_on,
            "note": cell.note,
            "recorded_at": now,
            "recorded_by": principal.id,
            "version": version,
        }
        history.append(row)
        before = current.get((cell.pupil_id, cell.objective_id))
        new_states.append(_new_state(row, before, version))
    await queries.write_judgements(session, history, new_states)
    record_bulk(
        session,
        principal,
        entity_type="objective_judgements",
        school_id=school.id,
        trust_id=school.trust_id,
        occurred_at=now,
        summary={
            "version": version,
            "written": len(history),
            "cleared": sum(1 for row in history if row["descriptor_id"] is None),
            "pupils": len(written_pupils),
            "subject_ids": sorted(str(s) for s in subjects),
        },
    )
    earliest = min(assessed_on for *_, assessed_on in planned)
    await refresh_summaries(
        session, school=school, pupil_ids=written_pupils, subject_ids=subjects, since=earliest
    )
    return GridSaved(version=version, written=len(history), assessed_on=default_on)


def _check_cell(
    cell: CellIn,
    school: School,
    objectives: Mapping[uuid.UUID, Any],
    by_code: Mapping[tuple[uuid.UUID, str], Descriptor],
    reached: Collection[uuid.UUID],
    seen: dict[tuple[uuid.UUID, uuid.UUID], int],
    index: int,
    today: date,
) -> tuple[str, str] | None:
    """Why a cell cannot be written, as (field, reason); None if it can."""
    if cell.pupil_id not in reached:
        return "pupil_id", NOT_YOURS
    objective = objectives.get(cell.objective_id)
    if objective is None or not (
        objective.school_id == school.id
        or (objective.trust_id is not None and objective.trust_id == school.trust_id)
    ):
        return "objective_id", "no such objective in this school's frameworks"
    if objective.archived:
        return "objective_id", "this objective is archived: it takes no new judgements"
    if objective.scale_id is None:
        return "objective_id", "its framework has no depth scale: set the framework's scale_id"
    if cell.descriptor is not None and (objective.scale_id, cell.descriptor.strip()) not in by_code:
        codes = [code for scale_id, code in by_code if scale_id == objective.scale_id]
        return "descriptor", f"not on this framework's scale: use one of {', '.join(codes)}"
    if cell.assessed_on is not None:
        try:
            check_assessed_on(cell.assessed_on, today)
        except DomainError as exc:
            return "assessed_on", exc.message
    key = (cell.pupil_id, cell.objective_id)
    if key in seen:
        return "objective_id", f"the same cell as body.cells.{seen[key]}"
    seen[key] = index
    return None


def _new_state(
    judgement: dict[str, Any], before: Mapping[str, Any] | None, version: int
) -> dict[str, Any]:
    """The cell's current row after a judgement: the judgement, unless what stood is later by
    date assessed (then that stays, with the new version)."""
    state = {
        "pupil_id": judgement["pupil_id"],
        "objective_id": judgement["objective_id"],
        "school_id": judgement["school_id"],
        "subject_id": judgement["subject_id"],
        "judgement_id": judgement["id"],
        "descriptor_id": judgement["descriptor_id"],
        "assessed_on": judgement["assessed_on"],
        "note": judgement["note"],
        "recorded_at": judgement["recorded_at"],
        "recorded_by": judgement["recorded_by"],
        "version": version,
    }
    if before is not None and order_key(_Keyed(before)) > order_key(_Keyed(state)):
        state = {name: before[name] for name in queries.STATE_COLUMNS}
        state["version"] = version
    return state


class _Keyed:
    """A row read as something with ``assessed_on`` and ``recorded_at``."""

    __slots__ = ("assessed_on", "recorded_at")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.assessed_on: date = row["assessed_on"]
        self.recorded_at: datetime = row["recorded_at"]


async def _scope_pupils(
    session: AsyncSession,
    principal: Principal,
    school: School,
    class_id: uuid.UUID | None,
    pupil_ids: Sequence[uuid.UUID],
    written: set[uuid.UUID],
) -> set[uuid.UUID]:
    """The pupils whose cells the write's If-Match covers: the grid's (class or pupils named,
    as the caller sees them), and always the pupils written."""
    if class_id is None and not pupil_ids:
        return set(written)
    if class_id is not None:
        class_ = await queries.get_class(session, class_id)
        if class_ is None or class_.school_id != school.id:
            raise InvalidInput.at("query.class_id", "no such class in this school")
    rows = await queries.grid_pupils(
        session,
        reach(principal, Resource.JUDGEMENT, Action.READ),
        school.id,
        class_id=class_id,
        pupil_ids=pupil_ids or None,
    )
    return {row.id for row in rows} | written


async def _check_unchanged(
    session: AsyncSession,
    states: Sequence[Any],
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    expected: int,
    descriptors: Sequence[Descriptor],
) -> None:
    changed = [s for s in states if s.version > expected]
    chosen = await queries.changed_working_years(session, pupil_ids, subject_ids, expected)
    if not changed and not chosen:
        return
    codes = {d.id: d.code for d in descriptors}
    missing = {s.descriptor_id for s in changed} - set(codes) - {None}
    if missing:
        _, more = await queries.descriptors_by_id(session, missing)
        codes.update({d.id: d.code for d in more})
    what = [f"{len(changed)} cell{'s' if len(changed) != 1 else ''}"] if changed else []
    if chosen:
        what.append(f"{len(chosen)} working year{'s' if len(chosen) != 1 else ''}")
    raise PreconditionFailed(
        f"{' and '.join(what)} of this grid changed since version {expected}: read the grid "
        "again, then write",
        cells=[to_jsonable_python(_cell(s, codes)) for s in changed],
        working_years=[
            {
                "pupil_id": str(w.pupil_id),
                "subject_id": str(w.subject_id),
                "curriculum_year": year_label(w.curriculum_year),
                "version": w.version,
            }
            for w in chosen
        ],
        version=max([s.version for s in changed] + [w.version for w in chosen]),
    )


# --- Summaries ---------------------------------------------------------------------------
async def refresh_summaries(
    session: AsyncSession,
    *,
    school: School,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    since: date,
    academic_year: int | None = None,
) -> None:
    """Recount the pupils' figures in the subjects at every assessment point dated on or after
    ``since`` (of one academic year, if given): the cells judged as at the point's date among
    the objectives of the pupil's working year then, their values summed, and those secure."""
    points = await queries.points_on_or_after(session, school.id, since, academic_year)
    await _recount(session, school, pupil_ids, subject_ids, points)


async def recount_points(
    session: AsyncSession, *, school: School, points: Sequence[AssessmentPoint]
) -> None:
    """Recount the figures of every pupil with judgements at these points: a new point, or
    one whose date moved, stands for a different "as at" than before."""
    if not points:
        return
    for subject_id, pupil_ids in (await queries.judged_pupils(session, school.id)).items():
        await _recount(session, school, pupil_ids, [subject_id], points)


async def recount_enrolled(
    session: AsyncSession, *, enrolments: Iterable[Mapping[str, Any]]
) -> None:
    """Recount the figures of pupils whose enrolment was written (a roster sync): a new year
    group moves the working year they default to, and a new year's enrolment starts its
    points' figures. Pupils with no judgements have none to recount."""
    enrolled: dict[tuple[uuid.UUID, int], set[uuid.UUID]] = defaultdict(set)
    for row in enrolments:
        enrolled[row["school_id"], row["academic_year"]].add(row["pupil_id"])
    for (school_id, academic_year), pupils in enrolled.items():
        judged = await queries.judged_pupils(session, school_id, pupils)
        school = await session.get(School, school_id) if judged else None
        if school is None:
            continue
        points = await queries.points_on_or_after(session, school_id, date.min, academic_year)
        for subject_id, pupil_ids in judged.items():
            await _recount(session, school, pupil_ids, [subject_id], points)


async def _recount(
    session: AsyncSession,
    school: School,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    points: Sequence[AssessmentPoint],
) -> None:
    if not points or not pupil_ids:
        return
    counts = await queries.standing_counts(session, pupil_ids, subject_ids, points)
    scale_ids = await queries.scales_of_subjects(session, school, subject_ids)
    scales, descriptors = await queries.scale_descriptors(session, scale_ids)
    values = _descriptor_values(scales, descriptors)
    missing = {row.descriptor_id for row in counts} - set(values)
    if missing:
        more_scales, more = await queries.descriptors_by_id(session, missing)
        values.update(_descriptor_values(more_scales, more))

    years: dict[int, Any] = {}
    for year in {p.academic_year for p in points}:
        chosen = await queries.set_working_years(session, year, pupil_ids, subject_ids)
        groups = await queries.year_groups(session, year, pupil_ids)
        years[year] = resolve_working_years(chosen, groups, pupil_ids, subject_ids)
    standing: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], list[uuid.UUID]] = defaultdict(list)
    point_year = {p.id: p.academic_year for p in points}
    for pupil_id, subject_id, point_id, year_from, year_to, descriptor_id, cells in counts:
        working = years[point_year[point_id]][pupil_id, subject_id].curriculum_year
        if working is not None and covers(year_from, year_to, working):
            standing[pupil_id, subject_id, point_id].extend([descriptor_id] * cells)
    rows = []
    for point in points:
        for pupil_id in pupil_ids:
            for subject_id in subject_ids:
                working = years[point.academic_year][pupil_id, subject_id].curriculum_year
                if working is None:
                    continue
                found = figures(standing.get((pupil_id, subject_id, point.id), ()), values)
                rows.append(
                    {
                        "pupil_id": pupil_id,
                        "subject_id": subject_id,
                        "assessment_point_id": point.id,
                        "school_id": school.id,
                        "curriculum_year": working,
                        "judged": found.judged,
                        "value_sum": found.value_sum,
                        "secure": found.secure,
                    }
                )
    await queries.replace_summaries(session, pupil_ids, subject_ids, [p.id for p in points], rows)


# --- Working years -----------------------------------------------------------------------
async def save_working_years(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    working: WorkingYearsWrite,
) -> WorkingYearsSaved:
    """Set pupils' working curriculum years in subjects for an academic year (null: back to
    their year group's). Each change is kept in the history; the pupils' grids show the
    objectives of the new year, and their summaries are recounted against it."""
    school = await school_to_record(session, principal, Resource.JUDGEMENT, school_id)
    academic_year = working.academic_year or AcademicYear.containing(date.today()).start_year
    version = await queries.tick(session, school.id)
    reached = await queries.pupils_reached(
        session,
        reach(principal, Resource.JUDGEMENT, Action.WRITE),
        school.id,
        {row.pupil_id for row in working.rows},
    )
    subjects = await queries.subjects_of(session, school, {row.subject_id for row in working.rows})
    errors: list[dict[str, str]] = []
    seen: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    planned: list[tuple[uuid.UUID, uuid.UUID, int | None]] = []
    for index, row in enumerate(working.rows):
        where = f"body.rows.{index}"
        key = (row.pupil_id, row.subject_id)
        if row.pupil_id not in reached:
            errors.append({"field": f"{where}.pupil_id", "reason": NOT_YOURS})
        elif row.subject_id not in subjects:
            reason = "no such subject for this school"
            errors.append({"field": f"{where}.subject_id", "reason": reason})
        elif key in seen:
            reason = f"the same pupil and subject as body.rows.{seen[key]}"
            errors.append({"field": f"{where}.subject_id", "reason": reason})
        else:
            seen[key] = index
            try:
                year = (
                    None
                    if row.curriculum_year is None
                    else parse_curriculum_year(row.curriculum_year, f"{where}.curriculum_year")
                )
            except InvalidInput as exc:
                errors.extend(exc.errors or [])
                continue
            planned.append((row.pupil_id, row.subject_id, year))
    if errors:
        raise InvalidInput.of(errors[:MAX_LISTED_ERRORS], total=len(errors))
    now = utcnow()
    current = [
        {
            "pupil_id": pupil_id,
            "subject_id": subject_id,
            "academic_year": academic_year,
            "school_id": school.id,
            "curriculum_year": year,
            "set_at": now,
            "set_by": principal.id,
            "version": version,
        }
        for pupil_id, subject_id, year in planned
    ]
    history = [
        {
            "id": uuid.uuid4(),
            "school_id": school.id,
            "pupil_id": pupil_id,
            "subject_id": subject_id,
            "academic_year": academic_year,
            "curriculum_year": year,
            "set_at": now,
            "set_by": principal.id,
        }
        for pupil_id, subject_id, year in planned
    ]
    await queries.write_working_years(session, current, history)
    record_bulk(
        session,
        principal,
        entity_type="working_years",
        school_id=school.id,
        trust_id=school.trust_id,
        occurred_at=now,
        summary={"version": version, "academic_year": academic_year, "written": len(planned)},
    )
    await refresh_summaries(
        session,
        school=school,
        pupil_ids={p for p, _, _ in planned},
        subject_ids={s for _, s, _ in planned},
        since=date.min,
        academic_year=academic_year,
    )
    return WorkingYearsSaved(version=version, written=len(planned), academic_year=academic_year)
