"""The demo's history is the same on every install: the day a school seeds it moves only the
dates of the current term's judgements, never which descriptor a pupil got."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.services.demo_history import DemoPupil, _term_cells

OBJECTIVES = [uuid.UUID(int=n) for n in range(1, 40)]
STARTED = date(2026, 9, 1)


@given(
    serial=st.integers(min_value=1, max_value=165),
    subject=st.sampled_from(["EN", "MA", "SC"]),
    term=st.integers(min_value=0, max_value=3),
    first=st.integers(min_value=0, max_value=110),
    second=st.integers(min_value=0, max_value=110),
)
def test_the_day_of_seeding_moves_dates_never_descriptors(serial, subject, term, first, second):
    pupil = DemoPupil(f"DEMO-{serial:04d}", 4)

    def judged(days_in: int) -> list[tuple[uuid.UUID, str]]:
        cells = _term_cells(
            pupil,
            uuid.UUID(int=serial),
            subject,
            OBJECTIVES,
            term,
            term_in_year=term % 3,
            started=STARTED,
            ends=STARTED + timedelta(days=days_in),
        )
        for cell in cells:
            assert cell.assessed_on is not None
            assert STARTED <= cell.assessed_on <= STARTED + timedelta(days=days_in)
        return [(cell.objective_id, str(cell.descriptor)) for cell in cells]

    assert judged(first) == judged(second)
