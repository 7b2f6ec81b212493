"""Many schools' reports run together (a trust's dashboard) are, school by school, exactly the
reports each school gets alone: over random schools of a trust (pupils, their groups and year
groups, scores at a point) and random viewers' thresholds (nothing hidden, or each school's
own), ``run_for_schools`` answers every school the table ``run_report`` gives it."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.db.markbook import MeasureValue
from app.db.roster import Enrolment
from app.db.tenancy import AssessmentPoint, School, Trust
from app.domain.calendar import AcademicYear
from app.reports.engine import run_for_schools, run_report
from app.reports.render import render_json
from tests.support.definitions import add_definitions
from tests.support.roster import add_pupil

_serials = itertools.count(1)
_urns = itertools.count(800000)
TODAY = date.today()
YEAR = AcademicYear.containing(TODAY).start_year

# Pupils, scores (the trust's number measure, expected from 100, above from 110) and how the
# scores place pupils below, at or above; by year group and two key groups.
DEFINITION = {
    "metrics": [
        "pupils",
        {"metric": "measure_mean", "measures": ["KS2-MA-SS"]},
        {"metric": "measure_median", "measures": ["KS2-MA-SS"]},
        {"metric": "measure_percent_expected", "measures": ["KS2-MA-SS"]},
        "attainment",
        "percent_at_or_above",
    ],
    "dimensions": ["subject", "year_group"],
    "groups": ["pupil_premium", "sex"],
    "points": ["NOW"],
    "academic_year": YEAR,
    "attainment": [{"subject": "MA", "measure": "KS2-MA-SS"}],
}

pupil = st.fixed_dictionaries(
    {
        "year_group": st.sampled_from(["3", "4"]),
        "pupil_premium": st.booleans() | st.none(),
        "sex": st.sampled_from(["F", "M"]),
        "score": st.none() | st.integers(85, 120),
    }
)
school = st.fixed_dictionaries(
    {
        "pupils": st.lists(pupil, max_size=9),
        # The viewer's threshold here: None (a trust admin), or the school's own (a governor).
        "threshold": st.none() | st.integers(3, 7),
    }
)


async def _trust(session: AsyncSession, schools: list[dict]) -> dict[uuid.UUID, int | None]:  # type: ignore[type-arg]
    trust = Trust(name=f"Property trust {next(_urns)}")
    session.add(trust)
    await session.flush()
    definitions = await add_definitions(session, trust_id=trust.id)
    thresholds: dict[uuid.UUID, int | None] = {}
    for spec in schools:
        row = School(
            name=f"School {next(_urns)}", urn=str(next(_urns)), phase="primary", trust_id=trust.id
        )
        session.add(row)
        await session.flush()
        point = AssessmentPoint(
            school_id=row.id,
            academic_year=YEAR,
            code="NOW",
            name="Now",
            position=1,
            assessed_on=TODAY,
        )
        session.add(point)
        await session.flush()
        for found in spec["pupils"]:
            added = await add_pupil(session, row, next(_serials))
            added.pupil_premium, added.sex = found["pupil_premium"], found["sex"]
            session.add(
                Enrolment(
                    pupil_id=added.id,
                    school_id=row.id,
                    academic_year=YEAR,
                    year_group=found["year_group"],
                )
            )
            if found["score"] is not None:
                session.add(
                    MeasureValue(
                        pupil_id=added.id,
                        measure_id=definitions.measure.id,
                        assessment_point_id=point.id,
                        school_id=row.id,
                        number=Decimal(found["score"]),
                        recorded_by=uuid.uuid4(),
                        recorded_at=datetime.now(UTC),
                    )
                )
        thresholds[row.id] = spec["threshold"]
    await session.flush()
    return thresholds


@hypothesis.settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    # Each example makes its own trust in the one database the test is given.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schools=st.lists(school, min_size=2, max_size=4))
async def test_each_school_run_together_gets_what_it_gets_alone(session, schools):  # type: ignore[no-untyped-def]
    thresholds = await _trust(session, schools)
    reach = Reach(school_ids=frozenset(thresholds))
    together = await run_for_schools(
        session, definition=DEFINITION, reach=reach, suppress_below=thresholds, today=TODAY
    )
    assert set(together) == set(thresholds)
    for school_id, threshold in thresholds.items():
        alone = await run_report(
            session,
            definition=DEFINITION,
            reach=reach,
            school_ids=[school_id],
            suppress_below=threshold,
            today=TODAY,
        )
        assert render_json(together[school_id]) == render_json(alone)  # type: ignore[arg-type]
