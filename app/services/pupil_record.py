"""A pupil's record: their judgements and values in one read, as the access policy allows.

Who sees what (app.auth.policy): leaders and trust staff every pupil of their schools,
teachers the pupils they teach, a pupil or parent the one pupil their grant names, an
integration as its scopes say. Judgements (and working years) and values are separate rights:
a caller who may read only one of them gets that part, and null for the other. A pupil the
caller may read neither of is not found, in the same words as a pupil that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.pupil_record import (
    JudgementHistoryItem,
    JudgementHistoryPage,
    PupilRecord,
    RecordFigures,
    RecordJudgement,
    RecordPupil,
    RecordValue,
    RecordWorkingYear,
)
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.queries import pupil_record as queries
from app.db.queries.roster import year_groups
from app.db.queries.working_years import working_years
from app.db.roster import Pupil
from app.domain.calendar import AcademicYear
from app.domain.curriculum import year_label
from app.domain.errors import DomainError
from app.domain.markbook import Figures
from app.domain.scales import is_secure
from app.domain.values import StoredValue, band, measure_rule, shown
from app.errors import InvalidInput, NotFound

PUPIL_NOT_FOUND = "pupil not found"


def _year_containing(day: date) -> int:
    try:
        return AcademicYear.containing(day).start_year
    except DomainError as exc:
        raise InvalidInput.at("query.as_at", f"{exc.message}; give academic_year too") from exc


def _record_pupil(pupil: Pupil, year_group: str | None) -> RecordPupil:
    return RecordPupil(
        id=pupil.id,
        school_id=pupil.school_id,
        forename=pupil.preferred_forename or pupil.legal_forename,
        surname=pupil.preferred_surname or pupil.legal_surname,
        year_group=year_group,  # type: ignore[arg-type]
    )


def record_value(row: Any) -> RecordValue:
    """A value row of ``queries.current_values`` as the record shows it: typed by its
    measure's kind, with its band."""
    value, measure, descriptor, point_code, academic_year, assessed_on = row
    rule = measure_rule(measure, [] if descriptor is None else [descriptor])
    stored = StoredValue.of(value)
    return RecordValue(
        measure_id=measure.id,
        code=measure.code,
        name=measure.name,
        kind=measure.kind,
        assessment_point_id=value.assessment_point_id,
        assessment_point_code=point_code,
        academic_year=academic_year,
        assessed_on=assessed_on,
        value=shown(rule, stored),  # type: ignore[arg-type]
        descriptor_id=value.descriptor_id,
        band=band(rule, stored),
        curriculum_year=year_label(value.curriculum_year),
        recorded_at=value.recorded_at,
    )


def record_judgement(row: dict[str, Any]) -> RecordJudgement:
    """A row of ``queries.standing_judgements`` as the record shows it, secure or not by the
    framework scale's secure point."""
    return RecordJudgement(**row, secure=is_secure(row["value"], row["secure_value"]))


def record_figures(row: dict[str, Any]) -> RecordFigures:
    """A row of ``queries.figures`` as the record shows it, each figure by its one rule
    (app.domain.markbook.Figures)."""
    found = Figures(row["judged"], row["value_sum"], row["secure"])

    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return RecordFigures(
        subject_id=row["subject_id"],
        assessment_point_id=row["assessment_point_id"],
        assessment_point_code=row["assessment_point_code"],
        academic_year=row["academic_year"],
        assessed_on=row["assessed_on"],
        curriculum_year=year_label(row["curriculum_year"]),
        judged=found.judged,
        secure=found.secure,
        objectives=row["objectives"],
        depth_score=number(found.depth_score),
        percent_secured=number(found.percent_secured(found.judged)),
        percent_secured_of_year=number(found.percent_secured(row["objectives"])),
    )


async def record_working_years(
    session: AsyncSession, academic_year: int, pupils: Sequence[Pupil]
) -> dict[uuid.UUID, list[RecordWorkingYear]]:
    """Each pupil's working curriculum year in every subject their school uses (its own and
    its trust's), by the one rule (app.domain.markbook.working_year): three statements however
    many pupils and schools."""
    subjects = await queries.subject_ids_of_schools(session, {p.school_id for p in pupils})
    pupil_ids = [p.id for p in pupils]
    every_subject = {s for ids in subjects.values() for s in ids}
    years = await working_years(session, academic_year, pupil_ids, every_subject)
    return {
        p.id: [
            RecordWorkingYear(
                subject_id=subject_id,
                curriculum_year=year_label(years[p.id, subject_id].curriculum_year),
                is_set=years[p.id, subject_id].is_set,
            )
            for subject_id in subjects[p.school_id]
        ]
        for p in pupils
    }


async def read_record(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    as_at: date | None = None,
    academic_year: int | None = None,
) -> PupilRecord:
    """The pupil's record. Judgements: the one standing in each cell, now (``as_at`` None) or
    as it stood on ``as_at`` (the latest assessed on or before that date; the later recorded
    of two assessed the same day); cleared cells are left out. Figures: per subject, at each
    point of the year assessed by ``as_at`` (all, without it), from the maintained summaries,
    with the judgements. Values: the current value at each assessment point, only points
    assessed on or before ``as_at`` when given. The year group, working years and figures are
    those of ``academic_year`` (default: the year containing ``as_at``, or today)."""
    found = await queries.pupil_reached(
        session,
        pupil_id,
        judgements=reach(principal, Resource.JUDGEMENT, Action.READ),
        values=reach(principal, Resource.VALUE, Action.READ),
    )
    if found is None:
        raise NotFound(PUPIL_NOT_FOUND)
    pupil, sees_judgements, sees_values = found
    year = academic_year or _year_containing(as_at or date.today())
    groups = await year_groups(session, year, [pupil.id])

    record_years: list[RecordWorkingYear] | None = None
    judgements: list[RecordJudgement] | None = None
    figures: list[RecordFigures] | None = None
    if sees_judgements:
        record_years = (await record_working_years(session, year, [pupil]))[pupil.id]
        judgements = [
            record_judgement(row)
            for row in await queries.standing_judgements(session, [pupil.id], as_at)
        ]
        figures = [
            record_figures(row)
            for row in await queries.figures(session, [pupil.id], year, as_at=as_at)
        ]

    values: list[RecordValue] | None = None
    if sees_values:
        values = [
            record_value(row) for row in await queries.current_values(session, [pupil.id], as_at)
        ]

    return PupilRecord(
        pupil=_record_pupil(pupil, groups.get(pupil.id)),
        academic_year=year,
        as_at=as_at,
        working_years=record_years,
        judgements=judgements,
        values=values,
        figures=figures,
    )


async def judgement_history(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    objective_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> JudgementHistoryPage:
    """Every judgement recorded for the pupil (a cleared cell: descriptor null), newest
    first; for callers who may read the pupil's judgements."""
    judgement_reach = reach(principal, Resource.JUDGEMENT, Action.READ)
    found = await queries.pupil_reached(
        session, pupil_id, judgements=judgement_reach, values=judgement_reach
    )
    if found is None:
        raise NotFound(PUPIL_NOT_FOUND)
    page = await queries.judgement_history(
        session,
        pupil_id,
        objective_id=objective_id,
        subject_id=subject_id,
        cursor=cursor,
        limit=limit,
    )
    return JudgementHistoryPage(
        items=[JudgementHistoryItem(**row) for row in page.items], next_cursor=page.next_cursor
    )
