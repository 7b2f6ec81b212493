"""The markbook grid, written: many cells at a time, all or nothing.

Every write is kept: a judgement is appended to the cell's history (which is its audit; one
audit event sums up each write), the cell's current row is put in the same transaction, and so
are the pupils' summaries (app.services.summaries) and the achieving of targets on objectives
now judged secure (app.services.targets). Writes to one school's markbook queue on
its clock (``tick``), so each sees all earlier ones; a write sent with a grid's version as
``If-Match`` is refused (412, with the cells changed since) if any of the grid's cells has
changed since, so that nobody overwrites a colleague's judgement unseen.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.markbook import CellIn, GridSaved, GridWrite
from app.auth.guards import NOT_YOURS, SchoolReach, school_to_record
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.curriculum import Descriptor
from app.db.queries import clock, definitions, roster
from app.db.queries import grid as grid_queries
from app.db.queries import judgements as queries
from app.db.queries.working_years import changed_working_years
from app.db.tenancy import School
from app.domain.curriculum import year_label
from app.domain.errors import DomainError
from app.domain.markbook import check_assessed_on, descriptor_values, order_key
from app.domain.schools import school_uses
from app.errors import InvalidInput, PreconditionFailed
from app.services import idempotency, summaries, targets
from app.services.audit import record_bulk
from app.services.grid import cell_read
from app.services.working_years import MAX_LISTED_ERRORS


def parse_version(if_match: str | None) -> int | None:
    """The grid version an ``If-Match`` header holds ("*" or none: no precondition)."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput.at("header.if-match", 'send the grid\'s ETag, such as "42"')
    return int(text)


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
    access = await school_to_record(session, principal, Resource.JUDGEMENT, school_id)

    async def run() -> dict[str, Any]:
        saved = await save_grid(
            session,
            principal=principal,
            access=access,
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
    access: SchoolReach,
    grid: GridWrite,
    if_match: str | None = None,
    class_id: uuid.UUID | None = None,
    pupil_ids: Sequence[uuid.UUID] = (),
    today: date | None = None,
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

    ``access`` is what ``school_to_record`` found the caller may record for in the school;
    ``today`` is the day the write is made (the demo's history is written as on its days).
    """
    school = access.school
    expected = parse_version(if_match)
    today = today or date.today()
    default_on = grid.assessed_on or today
    try:
        check_assessed_on(default_on, today)
    except DomainError as exc:
        raise InvalidInput.at("body.assessed_on", exc.message) from exc
    version = await clock.tick(session, school.id)
    if expected is not None and expected >= version:
        # No grid of this school has been read at a version its clock has not reached: the
        # ETag is forged or from elsewhere, and nothing can be known unchanged since it.
        raise PreconditionFailed(
            f"this grid has not reached version {expected} (the school's markbook is at "
            f"{version - 1}): read the grid again, then write",
            cells=[],
            working_years=[],
            version=version - 1,
        )

    errors: list[dict[str, str]] = []
    objectives = await queries.objectives_to_judge(session, {c.objective_id for c in grid.cells})
    scale_ids = {o.scale_id for o in objectives.values() if o.scale_id is not None}
    scales, descriptors = await definitions.scale_descriptors(session, scale_ids)
    by_code = {(d.scale_id, d.code): d for d in descriptors if not d.archived}
    reached = await roster.pupils_reached(
        session,
        access.write,
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
    scope = await _scope_pupils(session, access, class_id, pupil_ids, written_pupils)
    states = await grid_queries.current_cells(session, scope, subjects)
    if expected is not None:
        await _check_unchanged(session, states, scope, subjects, expected, descriptors)

    now = utcnow()
    current = {(s["pupil_id"], s["objective_id"]): s for s in states}
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
    # Targets on the cells where a secure judgement now stands are achieved, in this write.
    values = descriptor_values(scales, descriptors)
    secured = [
        (state["pupil_id"], state["objective_id"])
        for state in new_states
        if state["descriptor_id"] in values and values[state["descriptor_id"]].secure
    ]
    achieved = await targets.achieve_secured(session, principal=principal, cells=secured, at=now)
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
            **({"targets_achieved": achieved} if achieved else {}),
        },
    )
    earliest = min(assessed_on for *_, assessed_on in planned)
    await summaries.refresh_summaries(
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
    if objective is None or not school_uses(school, objective):
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
    access: SchoolReach,
    class_id: uuid.UUID | None,
    pupil_ids: Sequence[uuid.UUID],
    written: set[uuid.UUID],
) -> set[uuid.UUID]:
    """The pupils whose cells the write's If-Match covers: the grid's (class or pupils named,
    as the caller sees them), and always the pupils written."""
    if class_id is None and not pupil_ids:
        return set(written)
    if class_id is not None:
        class_ = await roster.get_class(session, class_id)
        if class_ is None or class_.school_id != access.school.id:
            raise InvalidInput.at("query.class_id", "no such class in this school")
    rows = await grid_queries.grid_pupils(
        session,
        access.read,
        access.school.id,
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
    changed = [s for s in states if s["version"] > expected]
    chosen = await changed_working_years(session, pupil_ids, subject_ids, expected)
    if not changed and not chosen:
        return
    codes = {d.id: d.code for d in descriptors}
    missing = {s["descriptor_id"] for s in changed} - set(codes) - {None}
    if missing:
        _, more = await definitions.descriptors_by_id(session, missing)
        codes.update({d.id: d.code for d in more})
    what = [f"{len(changed)} cell{'s' if len(changed) != 1 else ''}"] if changed else []
    if chosen:
        what.append(f"{len(chosen)} working year{'s' if len(chosen) != 1 else ''}")
    raise PreconditionFailed(
        f"{' and '.join(what)} of this grid changed since version {expected}: read the grid "
        "again, then write",
        cells=[to_jsonable_python(cell_read(s, codes)) for s in changed],
        working_years=[
            {
                "pupil_id": str(w.pupil_id),
                "subject_id": str(w.subject_id),
                "curriculum_year": year_label(w.curriculum_year),
                "version": w.version,
            }
            for w in chosen
        ],
        version=max([s["version"] for s in changed] + [w.version for w in chosen]),
    )
