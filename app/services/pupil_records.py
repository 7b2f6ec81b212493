"""What the markbook services share: which school and pupils a caller may record for, and
the curriculum year each pupil works within.

A teacher records judgements and values for the pupils of the classes they teach; leaders
and trust admins for every pupil of their schools; integrations as their scopes allow. A
pupil out of the caller's reach is refused by the row that names it, in the same words as a
pupil that does not exist, so a refusal never reveals who is on another school's roll.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.markbook import WorkingYear
from app.db.queries import markbook as queries
from app.db.tenancy import School
from app.domain.markbook import default_working_year
from app.errors import Forbidden
from app.services.roster import school_for

# At most this many rows are named in one problem; the detail says how many more there were.
MAX_LISTED_ERRORS = 200
# Why a row naming a pupil out of the caller's reach (or nobody at all) is refused.
NOT_YOURS = "no such pupil in this school among those you may record for"


async def school_to_record(
    session: AsyncSession, principal: Principal, resource: Resource, school_id: uuid.UUID
) -> School:
    """The school, if the caller may record ``resource`` for some of its pupils: not found if
    they reach none of its records, forbidden if they may only read them."""
    school = await school_for(session, principal, resource, school_id)
    if not reach(principal, resource, Action.WRITE).touches(school_id=school.id):
        raise Forbidden(f"you may not change this school's {resource.value}s")
    return school


@dataclass(frozen=True, slots=True)
class WorkingYearView:
    """The curriculum year (R is 0) a pupil works within in a subject, and whether a teacher
    set it (False: it is their year group's). None when the pupil has no enrolment that year
    and nobody set one. ``year_group`` is the pupil's that year."""

    curriculum_year: int | None
    is_set: bool
    year_group: str | None = None


def resolve_working_years(
    chosen: Mapping[tuple[uuid.UUID, uuid.UUID], WorkingYear],
    groups: Mapping[uuid.UUID, str],
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView]:
    """Each (pupil, subject)'s working year: the one set, else the year group's."""
    found: dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView] = {}
    for pupil_id in pupil_ids:
        group = groups.get(pupil_id)
        default = None if group is None else default_working_year(group)
        for subject_id in subject_ids:
            set_year = chosen.get((pupil_id, subject_id))
            found[pupil_id, subject_id] = (
                WorkingYearView(set_year.curriculum_year, True, group)
                if set_year is not None and set_year.curriculum_year is not None
                else WorkingYearView(default, False, group)
            )
    return found


async def working_years(
    session: AsyncSession,
    *,
    academic_year: int,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView]:
    """Each (pupil, subject)'s working curriculum year in the academic year."""
    chosen = await queries.set_working_years(session, academic_year, pupil_ids, subject_ids)
    groups = await queries.year_groups(session, academic_year, pupil_ids)
    return resolve_working_years(chosen, groups, pupil_ids, subject_ids)
