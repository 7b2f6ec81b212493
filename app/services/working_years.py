"""Pupils' working curriculum years, as teachers set them; and what the markbook's writes share.

A pupil works within their year group's curriculum unless a teacher sets another year for a
subject (out-of-year tracking: the rule is app.domain.markbook.working_year, read with
app.db.queries.working_years.working_years). Their grid shows that year's objectives, and
their figures are counted against it: nobody is marked below for working on an earlier
year's curriculum.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.markbook import WorkingYearsSaved, WorkingYearsWrite
from app.auth.guards import NOT_YOURS, school_to_record
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.queries import clock, roster
from app.db.queries import working_years as queries
from app.db.queries.definitions import subjects_of
from app.domain.calendar import AcademicYear
from app.domain.curriculum import read_curriculum_year
from app.domain.errors import DomainError
from app.errors import InvalidInput
from app.services import summaries
from app.services.audit import record_bulk

# At most this many rows are named in one problem; the detail says how many more there were.
MAX_LISTED_ERRORS = 200


def parse_curriculum_year(raw: str, field: str) -> int:
    """One curriculum year as people write it (R, 3, Y3, Year 3): R is 0."""
    try:
        return read_curriculum_year(raw, field=field)
    except DomainError as exc:
        raise InvalidInput.at(field, exc.message) from exc


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
    access = await school_to_record(session, principal, Resource.JUDGEMENT, school_id)
    school = access.school
    academic_year = working.academic_year or AcademicYear.containing(date.today()).start_year
    version = await clock.tick(session, school.id)
    reached = await roster.pupils_reached(
        session, access.write, school.id, {row.pupil_id for row in working.rows}
    )
    subjects = await subjects_of(session, school, {row.subject_id for row in working.rows})
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
    await summaries.refresh_summaries(
        session,
        school=school,
        pupil_ids={p for p, _, _ in planned},
        subject_ids={s for _, s, _ in planned},
        since=date.min,
        academic_year=academic_year,
    )
    return WorkingYearsSaved(version=version, written=len(planned), academic_year=academic_year)
