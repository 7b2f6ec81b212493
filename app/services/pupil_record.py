"""A pupil's record: their judgements and values in one read, as the access policy allows.

Who sees what (app.auth.policy): leaders and trust staff every pupil of their schools,
teachers the pupils they teach, a pupil or parent the one pupil their grant names, an
integration as its scopes say. Judgements (and working years) and values are separate rights:
a caller who may read only one of them gets that part, and null for the other. A pupil the
caller may read neither of is not found, in the same words as a pupil that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.pupil_record import (
    JudgementHistoryItem,
    JudgementHistoryPage,
    PupilRecord,
    RecordJudgement,
    RecordPupil,
    RecordValue,
    RecordWorkingYear,
)
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.queries import markbook as markbook_queries
from app.db.queries import pupil_record as queries
from app.db.queries import tenancy
from app.db.roster import Pupil
from app.domain.calendar import AcademicYear
from app.domain.curriculum import year_label
from app.domain.errors import DomainError
from app.domain.scales import Band, NumberRule
from app.errors import InvalidInput, NotFound
from app.services.pupil_records import working_years

PUPIL_NOT_FOUND = "pupil not found"


def typed_value(row: dict[str, Any]) -> bool | int | float | date | str | None:
    """A stored value in the type its measure's kind uses: numbers as numbers (whole numbers
    as integers), scale values as the descriptor's code, text, true/false, dates."""
    kind = row["kind"]
    if kind == "number":
        number: Decimal | None = row["number"]
        if number is None:
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    column = {"scale": "descriptor_code", "text": "text", "boolean": "flag", "date": "value_on"}
    return row[column[kind]] if kind in column else None


def value_band(row: dict[str, Any]) -> Band | None:
    """below / at / above expected: a scale value's descriptor band, or a number measured
    against its measure's thresholds."""
    if row["kind"] == "scale":
        return None if row["descriptor_band"] is None else Band(row["descriptor_band"])
    number: Decimal | None = row["number"]
    if row["kind"] != "number" or number is None:
        return None
    rule = NumberRule(
        minimum=row["minimum"] if row["minimum"] is not None else number,
        maximum=row["maximum"] if row["maximum"] is not None else number,
        expected_from=row["expected_from"],
        above_from=row["above_from"],
    )
    return rule.band(number)


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
    of two assessed the same day); cleared cells are left out. Values: the current value at
    each assessment point, only points assessed on or before ``as_at`` when given. The year
    group and working years are those of ``academic_year`` (default: the year containing
    ``as_at``, or today)."""
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
    groups = await markbook_queries.year_groups(session, year, [pupil.id])

    record_years: list[RecordWorkingYear] | None = None
    judgements: list[RecordJudgement] | None = None
    if sees_judgements:
        school = await tenancy.get_school(session, pupil.school_id)
        subject_ids = await queries.subject_ids_of_school(
            session, pupil.school_id, school.trust_id if school else None
        )
        years = await working_years(
            session, academic_year=year, pupil_ids=[pupil.id], subject_ids=subject_ids
        )
        record_years = [
            RecordWorkingYear(
                subject_id=subject_id,
                curriculum_year=year_label(years[pupil.id, subject_id].curriculum_year),
                is_set=years[pupil.id, subject_id].is_set,
            )
            for subject_id in subject_ids
        ]
        judgements = [
            RecordJudgement(
                **row,
                secure=row["secure_value"] is not None and row["value"] >= row["secure_value"],
            )
            for row in await queries.standing_judgements(session, pupil.id, as_at)
        ]

    values: list[RecordValue] | None = None
    if sees_values:
        values = [
            RecordValue(
                **{**row, "curriculum_year": year_label(row["curriculum_year"])},
                value=typed_value(row),
                band=value_band(row),
            )
            for row in await queries.current_values(session, pupil.id, as_at)
        ]

    return PupilRecord(
        pupil=_record_pupil(pupil, groups.get(pupil.id)),
        academic_year=year,
        as_at=as_at,
        working_years=record_years,
        judgements=judgements,
        values=values,
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
