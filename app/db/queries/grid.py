"""Reading a markbook grid: its pupils (rows), its frameworks and objectives (columns), and
what stands in its cells, now or as at a date."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Objective
from app.db.queries.bulk import read_rows
from app.db.queries.definitions import FRAMEWORK, used_by
from app.db.queries.judgements import HISTORY, STATE, standing_rank
from app.db.queries.reach import pupils_within
from app.db.roster import ClassPupil, Enrolment, Pupil
from app.db.tenancy import School

OBJECTIVE = Objective.__table__  # type: ignore[attr-defined]
PUPIL = Pupil.__table__  # type: ignore[attr-defined]
ENROLMENT = Enrolment.__table__  # type: ignore[attr-defined]


async def grid_pupils(
    session: AsyncSession,
    reach: Reach,
    school_id: uuid.UUID,
    *,
    class_id: uuid.UUID | None = None,
    pupil_ids: Collection[uuid.UUID] | None = None,
    academic_year: int | None = None,
) -> list[Any]:
    """The grid's pupils within the reach (the class's members, or the pupils named), by
    surname then forename: rows of id, legal and preferred names, and their year group in the
    academic year (None if not enrolled then, or no year is given)."""
    year_group: Any = sa.null()
    source: Any = PUPIL
    if academic_year is not None:
        source = PUPIL.outerjoin(
            ENROLMENT,
            sa.and_(ENROLMENT.c.pupil_id == PUPIL.c.id, ENROLMENT.c.academic_year == academic_year),
        )
        year_group = ENROLMENT.c.year_group
    statement = (
        sa.select(
            PUPIL.c.id,
            PUPIL.c.legal_forename,
            PUPIL.c.legal_surname,
            PUPIL.c.preferred_forename,
            PUPIL.c.preferred_surname,
            year_group.label("year_group"),
        )
        .select_from(source)
        .where(
            PUPIL.c.school_id == school_id,
            pupils_within(reach, pupil_column=PUPIL.c.id, school_column=PUPIL.c.school_id),
        )
    )
    if class_id is not None:
        members = sa.select(ClassPupil.pupil_id).where(col(ClassPupil.class_id) == class_id)
        statement = statement.where(PUPIL.c.id.in_(members))
    if pupil_ids is not None:
        statement = statement.where(PUPIL.c.id.in_(list(pupil_ids)))
    surname = sa.func.coalesce(PUPIL.c.preferred_surname, PUPIL.c.legal_surname)
    forename = sa.func.coalesce(PUPIL.c.preferred_forename, PUPIL.c.legal_forename)
    statement = statement.order_by(surname, forename, PUPIL.c.id)
    return list(await session.execute(statement))


async def grid_columns(
    session: AsyncSession,
    school: School,
    *,
    subject_id: uuid.UUID | None,
    framework_id: uuid.UUID | None,
    years: Collection[int],
) -> list[Any]:
    """The school's frameworks (its own and its trust's) of the subject, or the one named,
    each with its objectives in use for any of the curriculum ``years``, in framework then
    position order. A framework with none of them comes once, its objective columns None."""
    covering = sa.or_(
        sa.false(),
        *(sa.and_(OBJECTIVE.c.year_from <= y, OBJECTIVE.c.year_to >= y) for y in sorted(years)),
    )
    joined = FRAMEWORK.outerjoin(
        OBJECTIVE,
        sa.and_(OBJECTIVE.c.framework_id == FRAMEWORK.c.id, ~OBJECTIVE.c.archived, covering),
    )
    statement = (
        sa.select(
            FRAMEWORK.c.id.label("framework_id"),
            FRAMEWORK.c.name.label("framework_name"),
            FRAMEWORK.c.subject_id,
            FRAMEWORK.c.scale_id,
            OBJECTIVE.c.id,
            OBJECTIVE.c.code,
            OBJECTIVE.c.statement,
            OBJECTIVE.c.curriculum_years,
            OBJECTIVE.c.strand,
            OBJECTIVE.c.sub_strand,
            OBJECTIVE.c.is_key,
            OBJECTIVE.c.year_from,
            OBJECTIVE.c.year_to,
        )
        .select_from(joined)
        .where(used_by(FRAMEWORK, school))
        .order_by(FRAMEWORK.c.name, FRAMEWORK.c.id, OBJECTIVE.c.position)
    )
    if subject_id is not None:
        statement = statement.where(FRAMEWORK.c.subject_id == subject_id)
    if framework_id is not None:
        statement = statement.where(FRAMEWORK.c.id == framework_id)
    return list(await session.execute(statement))


async def current_cells(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], subject_ids: Collection[uuid.UUID]
) -> list[Mapping[str, Any]]:
    """The judgement_state rows of the pupils in the subjects (every objective), as mappings
    by column name."""
    if not pupil_ids or not subject_ids:
        return []
    statement = sa.select(STATE).where(
        STATE.c.pupil_id.in_(list(pupil_ids)), STATE.c.subject_id.in_(list(subject_ids))
    )
    return await read_rows(session, statement)


async def cells_as_at(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    objective_ids: Collection[uuid.UUID],
    as_at: Any,
) -> list[Mapping[str, Any]]:
    """What stood in each of the cells as at the date: per cell, the latest judgement
    assessed on or before it (ties: recorded later), from the history; as mappings by column
    name."""
    if not pupil_ids or not objective_ids:
        return []
    ranked = (
        sa.select(
            HISTORY,
            standing_rank(HISTORY.c.pupil_id, HISTORY.c.objective_id),
        )
        .where(
            HISTORY.c.pupil_id.in_(list(pupil_ids)),
            HISTORY.c.objective_id.in_(list(objective_ids)),
            HISTORY.c.assessed_on <= as_at,
        )
        .subquery()
    )
    statement = sa.select(ranked).where(ranked.c.rank == 1)
    return await read_rows(session, statement)
