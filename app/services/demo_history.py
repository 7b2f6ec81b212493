"""A year and a term of plausible history for the demo trust, written through the service's
own write paths as a school would have written it: last year's and this year's judgements
dated across their terms, working years below the year group for a few pupils, teacher
assessments and standardised scores at each point, the phonics screening check in Year 1 and
the multiplication tables check in Year 4.

Every pupil follows a profile drawn from their MIS id, so the history is the same on every
install: where they started, and whether they are improving, steady or slipping. Judgements
are made as a class is taught: each term covers the next third of the working year's
objectives, and some objectives taught earlier are judged again, usually a step higher.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.markbook import CellIn, GridWrite, WorkingYearIn, WorkingYearsWrite
from app.api.schemas.values import ValueIn
from app.auth.guards import school_to_record
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.queries import demo as queries
from app.db.queries import grid as grid_queries
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.services.cells import save_grid
from app.services.values import write_values
from app.services.working_years import save_working_years

DEPTH = ("B", "D", "S", "G")
SUBJECTS = ("EN", "MA", "SC")
GRID_CELLS = 5_000  # the most one grid write takes
VALUES = 5_000
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class DemoPupil:
    """One pupil as the history needs them: their MIS id and their year group this year."""

    external_id: str
    year_group: int

    def year_group_in(self, academic_year: int, this_year: AcademicYear) -> int:
        return self.year_group - (this_year.start_year - academic_year)


@dataclass(frozen=True, slots=True)
class Profile:
    """Where a pupil stands in a subject (0 is the expected standard; each unit about one
    descriptor step) at the start of last year, and how far they move each term."""

    start: float
    per_term: float

    def at(self, term: int) -> float:
        return self.start + self.per_term * term


def profile(external_id: str, subject: str) -> Profile:
    """Most pupils improve a little each term, some a lot; about one in six slips back."""
    rng = random.Random(f"{external_id}:{subject}")
    start = rng.gauss(0.0, 0.8)
    trend = rng.random()
    per_term = -0.12 if trend < 0.17 else 0.25 if trend > 0.8 else 0.06
    return Profile(start, per_term)


def works_below(pupil: DemoPupil, subject: str, year_group: int) -> bool:
    """A few pupils work within the previous year's curriculum: in maths one in nine, in
    English one in fourteen (from Year 2: never within Reception's)."""
    serial = int(pupil.external_id.rsplit("-", 1)[-1])
    every = {"MA": 9, "EN": 14}.get(subject)
    return year_group >= 2 and every is not None and serial % every == 0


async def seed_history(
    session: AsyncSession,
    *,
    leader: Principal,
    school: School,
    pupils: Sequence[DemoPupil],
    year: AcademicYear,
    today: date,
) -> None:
    """Write last year's and this year's history up to ``today`` for the school's pupils, as
    its leader. Pupils' year groups last year were one lower."""
    ids = await queries.pupils_by_external_id(session, school.id)
    subjects = await queries.subjects_by_code(session, school.id)
    measures = await queries.measures_by_code(session, school.id)
    years = [year.start_year - 1, year.start_year]
    points = await queries.points_of_years(session, school.id, years)
    known = [p for p in pupils if p.external_id in ids]

    for academic_year in years:
        rows = [
            WorkingYearIn(
                pupil_id=ids[p.external_id],
                subject_id=subjects[subject],
                curriculum_year=str(p.year_group_in(academic_year, year) - 1),
            )
            for p in known
            for subject in ("MA", "EN")
            if subject in subjects and works_below(p, subject, p.year_group_in(academic_year, year))
        ]
        if rows:
            await save_working_years(
                session,
                principal=leader,
                school_id=school.id,
                working=WorkingYearsWrite(academic_year=academic_year, rows=rows),
            )

    judging = await school_to_record(session, leader, Resource.JUDGEMENT, school.id)
    valuing = await school_to_record(session, leader, Resource.VALUE, school.id)
    objectives = _Objectives(session, school)
    previous: date | None = None
    for term, point in enumerate(points):
        started = max(date(point.academic_year, 9, 1), previous or date.min)
        if started > today:
            break
        term_in_year = sum(1 for p in points[:term] if p.academic_year == point.academic_year)
        cells: list[CellIn] = []
        for pupil in known:
            year_group = pupil.year_group_in(point.academic_year, year)
            for subject in SUBJECTS:
                if subject not in subjects:
                    continue
                below = works_below(pupil, subject, year_group)
                cells += _term_cells(
                    pupil,
                    ids[pupil.external_id],
                    subject,
                    await objectives.of(subjects[subject], year_group - below),
                    term,
                    term_in_year=term_in_year,
                    started=started,
                    ends=min(point.assessed_on - timedelta(days=2), today),
                )
        for batch in _batches(cells, GRID_CELLS):
            await save_grid(
                session,
                principal=leader,
                access=judging,
                grid=GridWrite(cells=batch),
                today=max(c.assessed_on for c in batch if c.assessed_on is not None),
            )
        values = [
            value
            for pupil in known
            for value in _values(
                pupil,
                ids[pupil.external_id],
                measures,
                term,
                pupil.year_group_in(point.academic_year, year),
                point.code,
            )
        ]
        for batch in _batches(values, VALUES):
            await write_values(
                session, principal=leader, access=valuing, rows=batch, default_point_id=point.id
            )
        previous = point.assessed_on + timedelta(days=1)


class _Objectives:
    """The objectives of a subject's frameworks for a curriculum year, in framework order."""

    def __init__(self, session: AsyncSession, school: School) -> None:
        self._session, self._school = session, school
        self._found: dict[tuple[uuid.UUID, int], list[uuid.UUID]] = {}

    async def of(self, subject_id: uuid.UUID, year: int) -> list[uuid.UUID]:
        key = (subject_id, year)
        if key not in self._found:
            columns = await grid_queries.grid_columns(
                self._session, self._school, subject_id=subject_id, framework_id=None, years={year}
            )
            self._found[key] = [c.id for c in columns if c.id is not None]
        return self._found[key]


def _term_cells(
    pupil: DemoPupil,
    pupil_id: uuid.UUID,
    subject: str,
    objectives: list[uuid.UUID],
    term: int,
    *,
    term_in_year: int,
    started: date,
    ends: date,
) -> list[CellIn]:
    """This term's judgements: the next third of the year's objectives judged for the first
    time, and about a quarter of those taught before judged again."""
    if not objectives or ends < started:
        return []
    level = profile(pupil.external_id, subject).at(term)
    rng = random.Random(f"{pupil.external_id}:{subject}:{term}")
    taught_before = len(objectives) * term_in_year // 3
    taught_now = len(objectives) * (term_in_year + 1) // 3
    days = (ends - started).days
    cells = []
    for index, objective_id in enumerate(objectives[:taught_now]):
        new = index >= taught_before
        if not new and rng.random() > 0.25:
            continue
        depth = level + rng.gauss(0.0, 0.7) + (0.0 if new else 0.6)
        # One draw for the day whatever the term's length so far, so that the descriptors
        # drawn after it are the same whatever the date of seeding: only the dates move.
        day = int(rng.random() * (days + 1))
        cells.append(
            CellIn(
                pupil_id=pupil_id,
                objective_id=objective_id,
                descriptor=DEPTH[_step(depth, (-1.0, 0.0, 1.1))],
                assessed_on=started + timedelta(days=day),
            )
        )
    return cells


def _values(
    pupil: DemoPupil,
    pupil_id: uuid.UUID,
    measures: dict[str, uuid.UUID],
    term: int,
    year_group: int,
    point: str,
) -> Iterable[ValueIn]:
    """Teacher assessments at every point; standardised scores from Year 2; the phonics check
    in Year 1's summer; the multiplication tables check in Year 4's summer."""
    rng = random.Random(f"{pupil.external_id}:values:{term}")

    def value(code: str, raw: Any) -> Iterable[ValueIn]:
        if code in measures:
            yield ValueIn(pupil_id=pupil_id, measure_id=measures[code], value=raw)

    english = profile(pupil.external_id, "EN").at(term)
    maths = profile(pupil.external_id, "MA").at(term)
    for code, level in (("READ-TA", english), ("WRIT-TA", english - 0.2), ("MATH-TA", maths)):
        band = _step(level + rng.gauss(0.0, 0.4), (-1.4, -0.4, 1.0))
        yield from value(code, ("BLW", "WTS", "EXS", "GDS")[band])
    if year_group >= 2:
        for code, level in (("STD-READ", english), ("STD-MATH", maths)):
            yield from value(code, _clamp(round(100 + 12 * level + rng.gauss(0, 4)), 70, 141))
    if year_group == 1 and point == "SUM":
        yield from value("PHONICS", _clamp(round(33 + 5 * english + rng.gauss(0, 2)), 0, 40))
    if year_group == 4 and point == "SUM":
        yield from value("MTC", _clamp(round(19 + 4 * maths + rng.gauss(0, 2)), 0, 25))


def _step(level: float, bounds: tuple[float, ...]) -> int:
    return sum(level >= bound for bound in bounds)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _batches(rows: list[Row], size: int) -> Iterable[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
