"""The summaries reports aggregate: per pupil x subject x assessment point, the figures of the
judgements standing in the pupil's cells as at the point's date (app.domain.markbook.figures),
counted over the objectives of the pupil's working year then.

They are kept in step with everything that changes them, in the same transaction: a grid
write or a working year set (``refresh_summaries``), a point added or moved
(``recount_points``), an enrolment written by a roster sync (``recount_enrolled``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.queries import definitions
from app.db.queries import summaries as queries
from app.db.queries.working_years import working_years
from app.db.tenancy import AssessmentPoint, School
from app.domain.markbook import WorkingYearView, covers, descriptor_values, figures


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
    scale_ids = await definitions.scales_of_subjects(session, school, subject_ids)
    scales, descriptors = await definitions.scale_descriptors(session, scale_ids)
    values = descriptor_values(scales, descriptors)
    missing = {row.descriptor_id for row in counts} - set(values)
    if missing:
        more_scales, more = await definitions.descriptors_by_id(session, missing)
        values.update(descriptor_values(more_scales, more))

    years: dict[int, dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView]] = {
        year: await working_years(session, year, pupil_ids, subject_ids)
        for year in {p.academic_year for p in points}
    }
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
