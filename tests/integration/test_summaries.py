"""The stored summaries are the domain's figures: over random depth scales and judgement
histories written through the markbook service, each pupil x subject x point summary equals
``app.domain.markbook.figures`` of the judgements standing in the pupil's cells as at the
point's date (a summary not stored counts as no judgements)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.markbook import CellIn, GridWrite
from app.auth.guards import school_to_record
from app.auth.policy import Resource
from app.auth.principal import Grant, Principal
from app.db.curriculum import Descriptor, Framework, Objective, Scale, Subject
from app.db.markbook import JudgementSummary
from app.db.roster import Enrolment
from app.db.tenancy import AssessmentPoint, School
from app.domain.calendar import AcademicYear
from app.domain.markbook import Figures, descriptor_values, figures, standing
from app.domain.roles import Role
from app.services.cells import save_grid
from tests.support.roster import add_pupil

PUPILS, OBJECTIVES = 2, 3
ADMIN = Principal(kind="user", id=uuid.uuid4(), name="admin", grants=(Grant(Role.SYSTEM_ADMIN),))
_urns = itertools.count(700000)


@dataclass(frozen=True)
class Judgement:
    assessed_on: date
    recorded_at: int  # the write's place in the sequence: later writes were recorded later
    descriptor: int | None  # the descriptor's position on the scale; None clears the cell


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Decimal], int, list[date], list[dict]]:
    """A depth scale (values rising, secure from one of them), the points' dates, and a
    history of grid writes: each sets some cells (pupil, objective) to a descriptor or clears
    them, each cell dated up to 60 days back."""
    tenths = draw(st.lists(st.integers(-50, 200), min_size=2, max_size=5, unique=True))
    values = [Decimal(t) / 10 for t in sorted(tenths)]
    secure_from = draw(st.integers(0, len(values) - 1))
    today = date.today()
    year = AcademicYear.containing(today)

    def within_year(day: date) -> date:
        return min(max(day, year.starts_on), year.ends_on)

    offsets = draw(st.lists(st.integers(-30, 60), min_size=1, max_size=3))
    point_dates = [within_year(today - timedelta(days=days)) for days in offsets]
    cell = st.tuples(st.integers(0, PUPILS - 1), st.integers(0, OBJECTIVES - 1))
    value = st.tuples(st.none() | st.integers(0, len(values) - 1), st.integers(0, 60))
    writes = draw(
        st.lists(st.dictionaries(cell, value, min_size=1, max_size=4), min_size=1, max_size=4)
    )
    return values, secure_from, point_dates, writes


async def _school(session: AsyncSession, values: list[Decimal], secure_from: int):  # type: ignore[no-untyped-def]
    school = School(name="Property Primary", urn=str(next(_urns)), phase="primary")
    session.add(school)
    await session.flush()
    subject = Subject(name="Mathematics", code="MA", school_id=school.id)
    scale = Scale(name="Depth", kind="depth", secure_from=f"D{secure_from}", school_id=school.id)
    session.add_all([subject, scale])
    await session.flush()
    descriptors = [
        Descriptor(scale_id=scale.id, code=f"D{i}", label=f"D{i}", value=v, position=i + 1)
        for i, v in enumerate(values)
    ]
    framework = Framework(
        name="Maths", subject_id=subject.id, scale_id=scale.id, school_id=school.id
    )
    session.add_all([*descriptors, framework])
    await session.flush()
    objectives = [
        Objective(
            framework_id=framework.id,
            code=f"MA4.{i}",
            statement=f"Objective {i}",
            curriculum_years="4",
            year_from=4,
            year_to=4,
            position=i + 1,
        )
        for i in range(OBJECTIVES)
    ]
    session.add_all(objectives)
    pupils = [await add_pupil(session, school, serial) for serial in range(PUPILS)]
    year = AcademicYear.containing(date.today()).start_year
    session.add_all(
        Enrolment(pupil_id=p.id, school_id=school.id, academic_year=year, year_group="4")
        for p in pupils
    )
    await session.flush()
    return school, subject, scale, descriptors, objectives, pupils


@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # Each example makes its own school in the one database the test is given.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_stored_summaries_are_the_domains_figures(session, scenario):  # type: ignore[no-untyped-def]
    values, secure_from, point_dates, writes = scenario
    school, subject, scale, descriptors, objectives, pupils = await _school(
        session, values, secure_from
    )
    year = AcademicYear.containing(date.today()).start_year
    points = [
        AssessmentPoint(
            school_id=school.id,
            academic_year=year,
            code=f"P{index}",
            name=f"Point {index}",
            position=index + 1,
            assessed_on=day,
        )
        for index, day in enumerate(point_dates)
    ]
    session.add_all(points)
    await session.flush()

    access = await school_to_record(session, ADMIN, Resource.JUDGEMENT, school.id)
    history: dict[tuple[int, int], list[Judgement]] = {}
    for order, write in enumerate(writes):
        cells = []
        for (pupil, objective), (descriptor, days_back) in write.items():
            assessed_on = date.today() - timedelta(days=days_back)
            cells.append(
                CellIn(
                    pupil_id=pupils[pupil].id,
                    objective_id=objectives[objective].id,
                    descriptor=None if descriptor is None else descriptors[descriptor].code,
                    assessed_on=assessed_on,
                )
            )
            history.setdefault((pupil, objective), []).append(
                Judgement(assessed_on, order, descriptor)
            )
        await save_grid(session, principal=ADMIN, access=access, grid=GridWrite(cells=cells))

    values_of = descriptor_values([scale], descriptors)
    for point in points:
        for pupil_index, pupil in enumerate(pupils):
            standing_ids = []
            for objective_index in range(OBJECTIVES):
                found = standing(history.get((pupil_index, objective_index), []), point.assessed_on)
                if found is not None:
                    standing_ids.append(
                        None if found.descriptor is None else descriptors[found.descriptor].id
                    )
            expected = figures(standing_ids, values_of)
            row = await session.get(JudgementSummary, (pupil.id, subject.id, point.id))
            stored = (
                Figures()
                if row is None
                else Figures(row.judged, Decimal(row.value_sum), row.secure)
            )
            assert (stored.judged, stored.value_sum, stored.secure) == (
                expected.judged,
                expected.value_sum,
                expected.secure,
            ), (point.assessed_on, pupil_index, history)
