"""Measure values: bulk writes checked row by row and stored all-or-nothing, and reads.

A write names, for each value, the pupil, the measure and the assessment point (or takes the
request's point). It is planned before anything is stored: every row is checked, and each
row's error is reported by its position, so one request can be put right in one go. If any
row is bad, nothing is stored. A value sent as it already stands is unchanged: nothing is
written for it, history included, so re-sending a whole sheet is harmless. A changed value
adds a row to the value's history and replaces the current value; null clears the value (the
clearing is in the history; the current value is gone). One audit event sums up each write.

Rules for a row:
- the measure is the school's own or its trust's, and not archived;
- the assessment point is one of the school's;
- the pupil is a pupil of the school whom the caller may record for (a teacher: the pupils of
  the classes they teach);
- the same pupil, measure and point appear once in a request;
- the value suits the measure (app/domain/values.py);
- curriculum measures record the curriculum year the pupil is working within: the row's
  ``curriculum_year`` if given, else their working year in the measure's subject for the
  point's academic year (their year group's, unless a teacher set another). Other measures
  take no curriculum year.

The score-import service plans with ``plan_values`` (a dry run stops there) and commits with
``store_values``; the REST API calls ``write_values``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.values import (
    MAX_VALUES,
    RowStatus,
    ValueHistoryRead,
    ValueIn,
    ValueRead,
    ValuesWrite,
    ValuesWritten,
)
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.curriculum import Descriptor, Measure
from app.db.markbook import MeasureValue, MeasureValueHistory
from app.db.queries import bulk
from app.db.queries import markbook as markbook_queries
from app.db.queries import values as queries
from app.db.queries.curriculum import descriptors_of
from app.db.queries.paging import Page
from app.db.queries.roster import get_pupil
from app.db.queries.values import Cell
from app.db.tenancy import AssessmentPoint, School
from app.domain.calendar import AcademicYear
from app.domain.curriculum import read_curriculum_year, year_label
from app.domain.errors import DomainError
from app.domain.markbook import default_working_year
from app.domain.scales import Band, MeasureKind, NumberRule
from app.domain.values import (
    CLEARED,
    MeasureRule,
    ScaleStep,
    StoredValue,
    band,
    read_value,
    shown,
)
from app.errors import InvalidInput, NotFound
from app.services import idempotency
from app.services.audit import record_bulk
from app.services.pupil_records import NOT_YOURS, school_to_record, working_years
from app.services.roster import school_for

# At most this many row errors are listed in one problem; ``error_count`` says how many.
MAX_LISTED_ERRORS = 1000
# Writes of up to this many values answer with each value's outcome.
MAX_ROW_STATUSES = 1000

Shown = int | float | str | bool | None


@dataclass(frozen=True, slots=True)
class RowError:
    """Why row ``index`` (0-based, in the order sent) was refused; ``field`` is the row's
    field: pupil_id, measure_id, assessment_point_id, value or curriculum_year."""

    index: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedValue:
    """What a good row would store, and whether that changes anything."""

    index: int
    pupil_id: uuid.UUID
    measure_id: uuid.UUID
    assessment_point_id: uuid.UUID
    stored: StoredValue
    curriculum_year: int | None  # R is 0; None for other measures, and for clearing
    value: Shown  # as it reads back: a number, a descriptor code, text, true/false, a date
    band: Band | None
    status: RowStatus  # written (new or changed), cleared, unchanged

    @property
    def cell(self) -> Cell:
        return (self.pupil_id, self.measure_id, self.assessment_point_id)

    @property
    def is_change(self) -> bool:
        return self.status != "unchanged"

    @property
    def curriculum_year_label(self) -> str | None:
        return year_label(self.curriculum_year)


@dataclass
class ValuesPlan:
    """A checked write, not yet stored: each good row's planned value (in the order sent)
    and each bad row's errors. Store it only if ``ok``."""

    school_id: uuid.UUID
    total: int
    values: list[PlannedValue] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, status: RowStatus) -> int:
        return sum(1 for value in self.values if value.status == status)


@dataclass(frozen=True, slots=True)
class ValuesResult:
    written: int
    cleared: int
    unchanged: int
    recorded_at: datetime
    statuses: list[RowStatus]  # each row's outcome, in the order sent

    def answer(self, *, with_rows: bool) -> ValuesWritten:
        return ValuesWritten(
            written=self.written,
            cleared=self.cleared,
            unchanged=self.unchanged,
            recorded_at=self.recorded_at,
            rows=list(self.statuses) if with_rows else None,
        )


# --- Measures as rules ---------------------------------------------------------------------
def measure_rule(measure: Measure, descriptors: Sequence[Descriptor] = ()) -> MeasureRule:
    """The rule a measure's values follow (``descriptors``: its scale's, for scale measures)."""
    kind = MeasureKind(measure.kind)
    number = None
    if kind is MeasureKind.NUMBER and measure.minimum is not None and measure.maximum is not None:
        number = NumberRule(
            Decimal(measure.minimum),
            Decimal(measure.maximum),
            measure.decimals or 0,
            None if measure.expected_from is None else Decimal(measure.expected_from),
            None if measure.above_from is None else Decimal(measure.above_from),
        )
    steps = tuple(
        ScaleStep(
            id=d.id,
            code=d.code,
            value=Decimal(d.value),
            band=None if d.band is None else Band(d.band),
            archived=d.archived,
        )
        for d in sorted(descriptors, key=lambda d: d.position)
    )
    return MeasureRule(
        kind=kind,
        number=number,
        steps=steps if kind is MeasureKind.SCALE else (),
        records_working_year=measure.records_working_year,
    )


async def _rules(
    session: AsyncSession, measures: Sequence[Measure]
) -> dict[uuid.UUID, MeasureRule]:
    scale_ids = {m.scale_id for m in measures if m.scale_id is not None}
    descriptors = await descriptors_of(session, scale_ids)
    return {
        m.id: measure_rule(m, descriptors.get(m.scale_id, []) if m.scale_id else [])
        for m in measures
    }


def _stored(row: Any) -> StoredValue:
    """A stored row (a dict or a table row) as a value."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return StoredValue(
        number=get("number"),
        descriptor_id=get("descriptor_id"),
        text=get("text"),
        flag=get("flag"),
        value_on=get("value_on"),
    )


def _status(
    stored: StoredValue, curriculum_year: int | None, now: dict[str, Any] | None
) -> RowStatus:
    if stored.cleared:
        return "unchanged" if now is None else "cleared"
    if (
        now is not None
        and stored.same_as(_stored(now))
        and curriculum_year == now["curriculum_year"]
    ):
        return "unchanged"
    return "written"


# --- Planning ------------------------------------------------------------------------------
@dataclass
class _Row:
    index: int
    item: ValueIn
    point_id: uuid.UUID | None
    measure: Measure | None = None
    point: AssessmentPoint | None = None
    stored: StoredValue = CLEARED
    curriculum_year: int | None = None
    needs_working_year: bool = False


async def plan_values(
    session: AsyncSession,
    *,
    principal: Principal,
    school: School,
    rows: Sequence[ValueIn],
    default_point_id: uuid.UUID | None = None,
) -> ValuesPlan:
    """Check every row of a write for ``school`` and work out what it would store, without
    storing anything. Bad rows are listed in ``errors`` (all of each row's problems); good
    rows in ``values``, each saying whether it changes the value that stands now.

    The caller has already checked that ``principal`` may record values for the school
    (``school_to_record``); which pupils they may record for is checked here, row by row.
    More than 10,000 rows is refused outright (422 on ``body.values``)."""
    if len(rows) > MAX_VALUES:
        raise InvalidInput.at(
            "body.values", f"{len(rows)} values: at most {MAX_VALUES:,} in one write"
        )
    plan = ValuesPlan(school_id=school.id, total=len(rows))
    errors: dict[int, list[RowError]] = defaultdict(list)

    def refuse(row: _Row, field_name: str, reason: str) -> None:
        errors[row.index].append(RowError(row.index, field_name, reason))

    work = [
        _Row(index, item, item.assessment_point_id or default_point_id)
        for index, item in enumerate(rows)
    ]
    # What the rows name, each loaded in one query.
    measures = {m.id: m for m in await queries.measures(session, {r.item.measure_id for r in work})}
    points = await queries.points(session, {r.point_id for r in work if r.point_id is not None})
    reached = await markbook_queries.pupils_reached(
        session,
        reach(principal, Resource.VALUE, Action.WRITE),
        school.id,
        {r.item.pupil_id for r in work},
    )
    usable = {
        m.id: m
        for m in measures.values()
        if m.school_id == school.id or (m.trust_id is not None and m.trust_id == school.trust_id)
    }
    rules = await _rules(session, [m for m in usable.values() if not m.archived])

    seen: dict[Cell, int] = {}
    for row in work:
        item = row.item
        if item.pupil_id not in reached:
            refuse(row, "pupil_id", NOT_YOURS)
        measure = usable.get(item.measure_id)
        if measure is None:
            refuse(row, "measure_id", "no such measure for this school or its trust")
        elif measure.archived:
            refuse(row, "measure_id", f"measure {measure.code} is archived")
        else:
            row.measure = measure
        if row.point_id is None:
            refuse(
                row,
                "assessment_point_id",
                "give the assessment point, here or for the whole request",
            )
        else:
            point = points.get(row.point_id)
            if point is None or point.school_id != school.id:
                refuse(row, "assessment_point_id", "no such assessment point in this school")
            else:
                row.point = point
            cell = (item.pupil_id, item.measure_id, row.point_id)
            first = seen.setdefault(cell, row.index)
            if first != row.index:
                refuse(
                    row,
                    "pupil_id",
                    f"this pupil's value of this measure at this point is also in row {first}",
                )
        if row.measure is None:
            continue
        rule = rules[row.measure.id]
        try:
            row.stored = read_value(rule, item.value)
        except DomainError as exc:
            refuse(row, "value", exc.message)
        if item.curriculum_year is not None and not rule.records_working_year:
            refuse(
                row,
                "curriculum_year",
                f"measure {row.measure.code} does not record a curriculum year",
            )
        elif rule.records_working_year and item.curriculum_year is not None:
            try:
                row.curriculum_year = read_curriculum_year(item.curriculum_year)
            except DomainError as exc:
                refuse(row, "curriculum_year", exc.message)
        elif rule.records_working_year and not row.stored.cleared:
            row.needs_working_year = True

    await _default_working_years(
        session, [r for r in work if r.needs_working_year and not errors[r.index]], refuse
    )

    good = [row for row in work if not errors[row.index]]
    now = await queries.current(
        session,
        school.id,
        [(r.item.pupil_id, r.item.measure_id, r.point_id) for r in good],  # type: ignore[misc]
    )
    for row in good:
        assert row.measure is not None and row.point_id is not None
        rule = rules[row.measure.id]
        curriculum_year = None if row.stored.cleared else row.curriculum_year
        cell = (row.item.pupil_id, row.measure.id, row.point_id)
        plan.values.append(
            PlannedValue(
                index=row.index,
                pupil_id=row.item.pupil_id,
                measure_id=row.measure.id,
                assessment_point_id=row.point_id,
                stored=row.stored,
                curriculum_year=curriculum_year,
                value=shown(rule, row.stored),
                band=band(rule, row.stored),
                status=_status(row.stored, curriculum_year, now.get(cell)),
            )
        )
    plan.errors = [error for index in sorted(errors) for error in errors[index]]
    return plan


async def _default_working_years(session: AsyncSession, rows: list[_Row], refuse: Any) -> None:
    """Each curriculum row without a curriculum year takes the pupil's working year in the
    measure's subject (or their year group's, for a measure with no subject) in the academic
    year of the row's point: one set of queries per academic year."""
    by_year: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        assert row.point is not None
        by_year[row.point.academic_year].append(row)
    for academic_year, year_rows in by_year.items():
        pupil_ids = {r.item.pupil_id for r in year_rows}
        subject_ids = {
            r.measure.subject_id for r in year_rows if r.measure and r.measure.subject_id
        }
        chosen = await working_years(
            session, academic_year=academic_year, pupil_ids=pupil_ids, subject_ids=subject_ids
        )
        groups: dict[uuid.UUID, str] = {}
        if any(r.measure and r.measure.subject_id is None for r in year_rows):
            groups = await markbook_queries.year_groups(session, academic_year, pupil_ids)
        for row in year_rows:
            assert row.measure is not None
            if row.measure.subject_id is not None:
                row.curriculum_year = chosen[
                    row.item.pupil_id, row.measure.subject_id
                ].curriculum_year
            else:
                group = groups.get(row.item.pupil_id)
                row.curriculum_year = None if group is None else default_working_year(group)
            if row.curriculum_year is None:
                refuse(
                    row,
                    "curriculum_year",
                    f"the pupil has no year group in {AcademicYear(academic_year).label}: "
                    "give the curriculum year they are working within",
                )


# --- Storing -------------------------------------------------------------------------------
def rejection(plan: ValuesPlan, *, prefix: str = "body.values") -> InvalidInput:
    """The 422 for a plan with errors: each error's field as ``{prefix}.{index}.{field}``."""
    errors = [{"field": f"{prefix}.{e.index}.{e.field}", "reason": e.reason} for e in plan.errors]
    return InvalidInput.of(
        errors[:MAX_LISTED_ERRORS],
        lead="nothing was stored: ",
        total=len(errors),
        error_count=len(errors),
    )


async def store_values(
    session: AsyncSession, *, principal: Principal, school: School, plan: ValuesPlan
) -> ValuesResult:
    """Store a plan that has no errors (one with errors is refused whole, as ``rejection``).

    Waits its turn behind the school's other markbook writes, then compares each value with
    the one standing now (which may have changed since the plan was made): unchanged values
    write nothing; changed ones add history and replace the current value; cleared ones add
    history and remove it. Every value is recorded at one time, by ``principal``."""
    if not plan.ok:
        raise rejection(plan)
    await markbook_queries.tick(session, school.id)
    now = await queries.current(session, school.id, [v.cell for v in plan.values])
    return await _store(session, principal, school, plan, now)


async def _store(
    session: AsyncSession,
    principal: Principal,
    school: School,
    plan: ValuesPlan,
    now: dict[Cell, dict[str, Any]] | None,
) -> ValuesResult:
    """Store ``plan``, comparing with ``now`` (the values standing, by cell) or, if None,
    trusting the plan's statuses."""
    assert plan.school_id == school.id, "a plan is stored for the school it was made for"
    recorded_at = utcnow()
    history: list[dict[str, Any]] = []
    upserts: list[dict[str, Any]] = []
    cleared: list[Cell] = []
    statuses: list[RowStatus] = []
    for value in plan.values:
        status = (
            value.status
            if now is None
            else _status(value.stored, value.curriculum_year, now.get(value.cell))
        )
        statuses.append(status)
        if status == "unchanged":
            continue
        columns = {
            "pupil_id": value.pupil_id,
            "measure_id": value.measure_id,
            "assessment_point_id": value.assessment_point_id,
            "school_id": school.id,
            **value.stored.columns(),
            "curriculum_year": value.curriculum_year,
            "recorded_at": recorded_at,
            "recorded_by": principal.id,
        }
        history.append({"id": uuid.uuid4(), **columns})
        if status == "cleared":
            cleared.append(value.cell)
        else:
            upserts.append(columns)
    await bulk.write_rows(session, queries.HISTORY, history)
    await bulk.write_rows(
        session,
        queries.VALUE,
        upserts,
        conflict=queries.KEY,
        update=(*queries.VALUE_COLUMNS, "school_id", "recorded_at", "recorded_by"),
    )
    await queries.delete_cells(session, cleared)
    result = ValuesResult(
        written=len(upserts),
        cleared=len(cleared),
        unchanged=len(plan.values) - len(history),
        recorded_at=recorded_at,
        statuses=statuses,
    )
    if history:
        _audit(session, principal, school, plan, result)
    return result


def _audit(
    session: AsyncSession,
    principal: Principal,
    school: School,
    plan: ValuesPlan,
    result: ValuesResult,
) -> None:
    """One event for the whole write, against the school: the values themselves (who, when,
    what) are in their history."""
    changed = [v for v, s in zip(plan.values, result.statuses, strict=True) if s != "unchanged"]
    record_bulk(
        session,
        principal,
        entity_type="measure_values",
        school_id=school.id,
        trust_id=school.trust_id,
        occurred_at=result.recorded_at,
        summary={
            "written": result.written,
            "cleared": result.cleared,
            "unchanged": result.unchanged,
            "recorded_at": result.recorded_at.isoformat(),
            "pupils": len({v.pupil_id for v in changed}),
            "measure_ids": sorted({str(v.measure_id) for v in changed}),
            "assessment_point_ids": sorted({str(v.assessment_point_id) for v in changed}),
        },
    )


async def write_values(
    session: AsyncSession,
    *,
    principal: Principal,
    school: School,
    rows: Sequence[ValueIn],
    default_point_id: uuid.UUID | None = None,
) -> ValuesResult:
    """Plan and store a write, all-or-nothing: any bad row refuses the whole write (422,
    every error's field as ``body.values.{row}.{field}``) and nothing is stored."""
    # Queue behind the school's other markbook writes first, so the plan compares with the
    # values as they stand when this write is stored.
    await markbook_queries.tick(session, school.id)
    plan = await plan_values(
        session, principal=principal, school=school, rows=rows, default_point_id=default_point_id
    )
    if not plan.ok:
        raise rejection(plan)
    # The plan was made under the lock just taken: its statuses are current.
    return await _store(session, principal, school, plan, None)


async def write_request(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    body: ValuesWrite,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> tuple[dict[str, Any], bool]:
    """A write as the API receives it: access first (not found out of reach; forbidden for
    callers who may only read values), then the stored answer for a retried
    ``Idempotency-Key``, else the write. Returns (answer, replayed)."""
    school = await school_to_record(session, principal, Resource.VALUE, school_id)

    async def run() -> dict[str, Any]:
        result = await write_values(
            session,
            principal=principal,
            school=school,
            rows=body.values,
            default_point_id=body.assessment_point_id,
        )
        with_rows = len(body.values) <= MAX_ROW_STATUSES
        return result.answer(with_rows=with_rows).model_dump(mode="json")

    _, answer, replayed = await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        run=run,
    )
    return answer, replayed


# --- Reading -------------------------------------------------------------------------------
def _read(row: MeasureValue | MeasureValueHistory, rule: MeasureRule | None) -> dict[str, Any]:
    stored = _stored(row)
    return {
        "pupil_id": row.pupil_id,
        "measure_id": row.measure_id,
        "assessment_point_id": row.assessment_point_id,
        "value": None if rule is None else shown(rule, stored),
        "descriptor_id": row.descriptor_id,
        "band": None if rule is None else band(rule, stored),
        "curriculum_year": year_label(row.curriculum_year),
        "recorded_at": row.recorded_at,
        "recorded_by": row.recorded_by,
    }


async def _rules_for(
    session: AsyncSession, rows: Sequence[MeasureValue | MeasureValueHistory]
) -> dict[uuid.UUID, MeasureRule]:
    return await _rules(session, await queries.measures(session, {r.measure_id for r in rows}))


async def list_values(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    assessment_point_id: uuid.UUID | None = None,
    measure_id: uuid.UUID | None = None,
    pupil_id: uuid.UUID | None = None,
    class_id: uuid.UUID | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[ValueRead]:
    """The school's current values of the pupils the caller may see (a teacher: their
    pupils; a pupil or parent: their own), filtered, in the order they were last written."""
    await school_for(session, principal, Resource.VALUE, school_id)
    page = await queries.list_values(
        session,
        reach(principal, Resource.VALUE, Action.READ),
        school_id,
        assessment_point_id=assessment_point_id,
        measure_id=measure_id,
        pupil_id=pupil_id,
        class_id=class_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    rules = await _rules_for(session, page.items)
    return Page(
        [ValueRead.model_validate(_read(row, rules.get(row.measure_id))) for row in page.items],
        page.next_cursor,
    )


async def pupil_history(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    measure_id: uuid.UUID | None = None,
    assessment_point_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[ValueHistoryRead]:
    """Every write of a pupil's values, newest first (a cleared value reads as null)."""
    pupil = await get_pupil(session, reach(principal, Resource.VALUE, Action.READ), pupil_id)
    if pupil is None:
        raise NotFound("pupil not found")
    page = await queries.pupil_history(
        session,
        pupil.id,
        measure_id=measure_id,
        assessment_point_id=assessment_point_id,
        cursor=cursor,
        limit=limit,
    )
    rules = await _rules_for(session, page.items)
    return Page(
        [
            ValueHistoryRead.model_validate({**_read(row, rules.get(row.measure_id)), "id": row.id})
            for row in page.items
        ],
        page.next_cursor,
    )
