"""Many schools' reports run together (a trust's dashboard) are, school by school, exactly the
reports each school gets alone, and their total is the trust's report: over random schools of
a trust (pupils, their groups and year groups, scores at a point) and random viewers'
thresholds (nothing hidden, or each school's own), ``run_batch`` answers every school the
table ``run_report`` gives it, and all the schools together the table ``run_report`` gives
for them all."""

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
from app.reports.engine import Total, run_batch, run_report
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
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    # Each example makes its own trust in the one database the test is given.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    schools=st.lists(school, min_size=2, max_size=4),
    total=st.none() | st.integers(3, 7),
    by_year_group=st.booleans(),
    with_median=st.booleans(),
)
async def test_schools_run_together_get_what_they_get_alone(  # type: ignore[no-untyped-def]
    session, schools, total, by_year_group, with_median
):
    thresholds = await _trust(session, schools)
    reach = Reach(school_ids=frozenset(thresholds))
    # A median is aggregated from the pupils' rows; the other figures from partial sums.
    definition = {
        **DEFINITION,
        "metrics": [
            m
            for m in DEFINITION["metrics"]
            if with_median or not (isinstance(m, dict) and m["metric"] == "measure_median")
        ],
        "dimensions": ["subject", "year_group"] if by_year_group else ["subject"],
    }
    batch = await run_batch(
        session,
        definition=definition,
        reach=reach,
        school_ids=list(thresholds),
        total=Total(total),
        today=TODAY,
    )
    assert set(batch.found) == set(thresholds)
    for school_id, threshold in thresholds.items():
        alone = await run_report(
            session,
            definition=definition,
            reach=reach,
            school_ids=[school_id],
            suppress_below=threshold,
            today=TODAY,
        )
        assert render_json(batch.school(school_id, threshold)) == render_json(alone)  # type: ignore[arg-type]
    trust = await run_report(
        session,
        definition=definition,
        reach=reach,
        school_ids=list(thresholds),
        suppress_below=total,
        today=TODAY,
    )
    assert render_json(batch.total) == render_json(trust)  # type: ignore[arg-type]
