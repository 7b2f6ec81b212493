"""Reading and writing the markbook: the clock, pupils in reach, working years, cells."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import Reach
from app.db.curriculum import Descriptor, Framework, Objective, Scale, Subject
from app.db.markbook import (
    JudgementState,
    JudgementSummary,
    MarkbookClock,
    ObjectiveJudgement,
    WorkingYear,
    WorkingYearHistory,
)
from app.db.queries.bulk import among, write_rows
from app.db.queries.reach import pupils_within
from app.db.roster import ClassPupil, Enrolment, Pupil, TeachingGroup
from app.db.tenancy import AssessmentPoint, School

CLOCK = MarkbookClock.__table__  # type: ignore[attr-defined]
HISTORY = ObjectiveJudgement.__table__  # type: ignore[attr-defined]
STATE = JudgementState.__table__  # type: ignore[attr-defined]
SUMMARY = JudgementSummary.__table__  # type: ignore[attr-defined]
WORKING_YEAR = WorkingYear.__table__  # type: ignore[attr-defined]
WORKING_YEAR_HISTORY = WorkingYearHistory.__table__  # type: ignore[attr-defined]
OBJECTIVE = Objective.__table__  # type: ignore[attr-defined]
FRAMEWORK = Framework.__table__  # type: ignore[attr-defined]
DESCRIPTOR = Descriptor.__table__  # type: ignore[attr-defined]
SCALE = Scale.__table__  # type: ignore[attr-defined]
PUPIL = Pupil.__table__  # type: ignore[attr-defined]
ENROLMENT = Enrolment.__table__  # type: ignore[attr-defined]
STATE_COLUMNS = [c.name for c in STATE.columns]


async def tick(session: AsyncSession, school_id: uuid.UUID) -> int:
    """Advance the school's markbook clock and return the new version.

    The row stays locked until the transaction ends, so a school's markbook writes run one
    after another: each sees every earlier one, and versions never interleave.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(CLOCK)
        .values(school_id=school_id, version=1)
        .on_conflict_do_update(index_elements=["school_id"], set_={"version": CLOCK.c.version + 1})
        .returning(CLOCK.c.version)
    )
    return int((await session.execute(statement)).scalar_one())


async def pupils_reached(
    session: AsyncSession, reach: Reach, school_id: uuid.UUID, pupil_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``pupil_ids`` are pupils of the school within the reach: one statement,
    however many are asked about."""
    if not pupil_ids:
        return set()
    rows = await session.scalars(
        sa.select(PUPIL.c.id).where(
            among(session, PUPIL.c.id, set(pupil_ids)),
            PUPIL.c.school_id == school_id,
            pupils_within(reach, pupil_column=PUPIL.c.id, school_column=PUPIL.c.school_id),
        )
    )
    return set(rows)


async def year_groups(
    session: AsyncSession, academic_year: int, pupil_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each pupil's year group in the academic year (pupils not enrolled that year are left
    out)."""
    if not pupil_ids:
        return {}
    rows = await session.execute(
        sa.select(Enrolment.pupil_id, Enrolment.year_group).where(
            col(Enrolment.academic_year) == academic_year,
            col(Enrolment.pupil_id).in_(list(pupil_ids)),
        )
    )
    return {pupil_id: year_group for pupil_id, year_group in rows}


async def set_working_years(
    session: AsyncSession,
    academic_year: int,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYear]:
    """The working years teachers have set, by (pupil, subject), for the academic year."""
    if not pupil_ids:
        return {}
    statement = sa.select(WorkingYear).where(
        col(WorkingYear.academic_year) == academic_year,
        col(WorkingYear.pupil_id).in_(list(pupil_ids)),
    )
    if subject_ids is not None:
        statement = statement.where(col(WorkingYear.subject_id).in_(list(subject_ids)))
    return {(w.pupil_id, w.subject_id): w for w in await session.scalars(statement)}


# --- The grid's rows and columns ---------------------------------------------------------
async def get_class(session: AsyncSession, class_id: uuid.UUID) -> TeachingGroup | None:
    return await session.get(TeachingGroup, class_id)


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
        .where(_owned_by(FRAMEWORK, school))
        .order_by(FRAMEWORK.c.name, FRAMEWORK.c.id, OBJECTIVE.c.position)
    )
    if subject_id is not None:
        statement = statement.where(FRAMEWORK.c.subject_id == subject_id)
    if framework_id is not None:
        statement = statement.where(FRAMEWORK.c.id == framework_id)
    return list(await session.execute(statement))


async def subject_of_framework(
    session: AsyncSession, school: School, framework_id: uuid.UUID
) -> uuid.UUID | None:
    """The subject of one of the school's frameworks (None: not the school's)."""
    return await session.scalar(
        sa.select(FRAMEWORK.c.subject_id).where(
            FRAMEWORK.c.id == framework_id, _owned_by(FRAMEWORK, school)
        )
    )


async def scale_descriptors(
    session: AsyncSession, scale_ids: Collection[uuid.UUID]
) -> tuple[list[Scale], list[Descriptor]]:
    """The scales and all their descriptors (archived ones too: old judgements use them)."""
    if not scale_ids:
        return [], []
    rows = await session.execute(
        sa.select(Scale, Descriptor)
        .outerjoin(Descriptor, col(Descriptor.scale_id) == col(Scale.id))
        .where(col(Scale.id).in_(list(scale_ids)))
        .order_by(col(Scale.name), col(Scale.id), col(Descriptor.position))
    )
    scales: dict[uuid.UUID, Scale] = {}
    descriptors: list[Descriptor] = []
    for scale, descriptor in rows:
        scales.setdefault(scale.id, scale)
        if descriptor is not None:
            descriptors.append(descriptor)
    return list(scales.values()), descriptors


# --- Cells -------------------------------------------------------------------------------
async def current_cells(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], subject_ids: Collection[uuid.UUID]
) -> list[Any]:
    """The judgement_state rows of the pupils in the subjects (every objective)."""
    if not pupil_ids or not subject_ids:
        return []
    statement = sa.select(STATE).where(
        STATE.c.pupil_id.in_(list(pupil_ids)), STATE.c.subject_id.in_(list(subject_ids))
    )
    return list(await session.execute(statement))


def standing_rank(*partition: sa.ColumnElement[Any]) -> sa.Label[int]:
    """Each history row's place in its cell (``partition``) by the rule of what stands
    (app.domain.markbook.standing): later assessed first, then later recorded. Rank 1 stands."""
    return (
        sa.func.row_number()
        .over(
            partition_by=partition,
            order_by=(
                HISTORY.c.assessed_on.desc(),
                HISTORY.c.recorded_at.desc(),
                HISTORY.c.version.desc(),
            ),
        )
        .label("rank")
    )


async def cells_as_at(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    objective_ids: Collection[uuid.UUID],
    as_at: Any,
) -> list[Any]:
    """What stood in each of the cells as at the date: per cell, the latest judgement
    assessed on or before it (ties: recorded later), from the history."""
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
    return list(await session.execute(statement))


async def working_year_version(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], subject_ids: Collection[uuid.UUID]
) -> int:
    if not pupil_ids or not subject_ids:
        return 0
    found = await session.scalar(
        sa.select(sa.func.max(WORKING_YEAR.c.version)).where(
            WORKING_YEAR.c.pupil_id.in_(list(pupil_ids)),
            WORKING_YEAR.c.subject_id.in_(list(subject_ids)),
        )
    )
    return int(found or 0)


async def objectives_to_judge(
    session: AsyncSession, objective_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """Each objective with what a judgement of it needs: its framework's owner, subject and
    scale, and whether it is archived."""
    if not objective_ids:
        return {}
    statement = sa.select(
        OBJECTIVE.c.id,
        OBJECTIVE.c.archived,
        OBJECTIVE.c.framework_id,
        FRAMEWORK.c.subject_id,
        FRAMEWORK.c.scale_id,
        FRAMEWORK.c.school_id,
        FRAMEWORK.c.trust_id,
    ).join(FRAMEWORK, FRAMEWORK.c.id == OBJECTIVE.c.framework_id)
    found: dict[uuid.UUID, Any] = {}
    ordered = list(objective_ids)
    for start in range(0, len(ordered), 5_000):
        chunk = statement.where(OBJECTIVE.c.id.in_(ordered[start : start + 5_000]))
        found.update({row.id: row for row in (await session.execute(chunk))})
    return found


async def write_judgements(
    session: AsyncSession, history: list[dict[str, Any]], states: list[dict[str, Any]]
) -> None:
    """Append the judgements to the history and put the cells' new current rows."""
    await write_rows(session, HISTORY, history)
    key = ("pupil_id", "objective_id")
    await write_rows(
        session,
        STATE,
        states,
        conflict=key,
        update=[name for name in STATE_COLUMNS if name not in key],
    )


async def write_working_years(
    session: AsyncSession, current: list[dict[str, Any]], history: list[dict[str, Any]]
) -> None:
    key = ("pupil_id", "subject_id", "academic_year")
    await write_rows(
        session,
        WORKING_YEAR,
        current,
        conflict=key,
        update=[c.name for c in WORKING_YEAR.columns if c.name not in key],
    )
    await write_rows(session, WORKING_YEAR_HISTORY, history)


# --- Summaries ---------------------------------------------------------------------------
async def points_on_or_after(
    session: AsyncSession, school_id: uuid.UUID, day: Any, academic_year: int | None = None
) -> list[AssessmentPoint]:
    """The school's assessment points dated on or after ``day`` (of one academic year, if
    given): the points whose "as at" state a judgement of that day can change."""
    statement = sa.select(AssessmentPoint).where(
        col(AssessmentPoint.school_id) == school_id, col(AssessmentPoint.assessed_on) >= day
    )
    if academic_year is not None:
        statement = statement.where(col(AssessmentPoint.academic_year) == academic_year)
    return list(await session.scalars(statement))


async def standing_counts(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    points: Collection[AssessmentPoint],
) -> list[Any]:
    """For each pupil, subject and point: how many cells had each descriptor standing as at
    the point's date, by the objectives' curriculum years (so that the caller can count only
    the pupil's working year). One statement; the grouping is done by the database."""
    if not pupil_ids or not subject_ids or not points:
        return []
    point = sa.select(
        col(AssessmentPoint.id).label("point_id"),
        col(AssessmentPoint.assessed_on).label("point_on"),
    ).where(col(AssessmentPoint.id).in_([p.id for p in points]))
    point = point.subquery()
    ranked = (
        sa.select(
            HISTORY.c.pupil_id,
            HISTORY.c.subject_id,
            HISTORY.c.objective_id,
            HISTORY.c.descriptor_id,
            point.c.point_id,
            standing_rank(HISTORY.c.pupil_id, HISTORY.c.objective_id, point.c.point_id),
        )
        .join(point, HISTORY.c.assessed_on <= point.c.point_on)
        .where(
            HISTORY.c.pupil_id.in_(list(pupil_ids)),
            HISTORY.c.subject_id.in_(list(subject_ids)),
        )
        .subquery()
    )
    statement = (
        sa.select(
            ranked.c.pupil_id,
            ranked.c.subject_id,
            ranked.c.point_id,
            OBJECTIVE.c.year_from,
            OBJECTIVE.c.year_to,
            ranked.c.descriptor_id,
            sa.func.count().label("cells"),
        )
        .join(OBJECTIVE, OBJECTIVE.c.id == ranked.c.objective_id)
        .where(ranked.c.rank == 1, ranked.c.descriptor_id.is_not(None))
        .group_by(
            ranked.c.pupil_id,
            ranked.c.subject_id,
            ranked.c.point_id,
            OBJECTIVE.c.year_from,
            OBJECTIVE.c.year_to,
            ranked.c.descriptor_id,
        )
    )
    return list(await session.execute(statement))


async def replace_summaries(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    point_ids: Collection[uuid.UUID],
    rows: list[dict[str, Any]],
) -> None:
    """Put the summaries of these pupils x subjects x points: those not in ``rows`` go."""
    ordered = list(pupil_ids)
    for start in range(0, len(ordered), 5_000):
        await session.execute(
            sa.delete(SUMMARY).where(
                SUMMARY.c.pupil_id.in_(ordered[start : start + 5_000]),
                SUMMARY.c.subject_id.in_(list(subject_ids)),
                SUMMARY.c.assessment_point_id.in_(list(point_ids)),
            )
        )
    await write_rows(session, SUMMARY, rows)


# --- Lookups -----------------------------------------------------------------------------
def _owned_by(table: sa.Table, school: School) -> sa.ColumnElement[bool]:
    owner = table.c.school_id == school.id
    if school.trust_id is not None:
        owner = sa.or_(owner, table.c.trust_id == school.trust_id)
    return owner


async def subjects_of(
    session: AsyncSession, school: School, subject_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the subjects are the school's (its own or its trust's)."""
    table = Subject.__table__  # type: ignore[attr-defined]
    rows = await session.scalars(
        sa.select(table.c.id).where(table.c.id.in_(list(subject_ids)), _owned_by(table, school))
    )
    return set(rows)


async def scales_of_subjects(
    session: AsyncSession, school: School, subject_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """The depth scales the school's frameworks in these subjects are judged on."""
    rows = await session.scalars(
        sa.select(FRAMEWORK.c.scale_id)
        .where(
            FRAMEWORK.c.subject_id.in_(list(subject_ids)),
            FRAMEWORK.c.scale_id.is_not(None),
            _owned_by(FRAMEWORK, school),
        )
        .distinct()
    )
    return set(rows)


async def descriptors_by_id(
    session: AsyncSession, descriptor_ids: Collection[uuid.UUID]
) -> tuple[list[Scale], list[Descriptor]]:
    """The descriptors and their scales (with all the scales' descriptors)."""
    scale_ids = set(
        await session.scalars(
            sa.select(DESCRIPTOR.c.scale_id).where(DESCRIPTOR.c.id.in_(list(descriptor_ids)))
        )
    )
    return await scale_descriptors(session, scale_ids)


async def changed_working_years(
    session: AsyncSession,
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
    since_version: int,
) -> list[WorkingYear]:
    if not pupil_ids or not subject_ids:
        return []
    return list(
        await session.scalars(
            sa.select(WorkingYear).where(
                col(WorkingYear.pupil_id).in_(list(pupil_ids)),
                col(WorkingYear.subject_id).in_(list(subject_ids)),
                col(WorkingYear.version) > since_version,
            )
        )
    )


async def has_judgements(session: AsyncSession, school_id: uuid.UUID) -> bool:
    found = await session.scalar(
        sa.select(HISTORY.c.id).where(HISTORY.c.school_id == school_id).limit(1)
    )
    return found is not None


async def judged_pupils(
    session: AsyncSession,
    school_id: uuid.UUID,
    pupil_ids: Collection[uuid.UUID] | None = None,
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The pupils (of those given, if any) with judgements in each subject of the school."""
    statement = (
        sa.select(STATE.c.subject_id, STATE.c.pupil_id)
        .where(STATE.c.school_id == school_id)
        .distinct()
    )
    if pupil_ids is not None:
        statement = statement.where(STATE.c.pupil_id.in_(list(pupil_ids)))
    rows = await session.execute(statement)
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    for subject_id, pupil_id in rows:
        found.setdefault(subject_id, set()).add(pupil_id)
    return found
