"""The markbook's rules, without a database: which judgement stands, the working year, and a
subject's figures. Property-tested against plain restatements of the rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.markbook import (
    MAX_BACKDATE_DAYS,
    DescriptorValue,
    Figures,
    check_assessed_on,
    covers,
    default_working_year,
    figures,
    order_key,
    standing,
)
from app.domain.pupils import YearGroup
from app.services.cells import _new_state

START = date(2025, 9, 1)
T0 = datetime(2025, 9, 1, 8, tzinfo=UTC)


@dataclass(frozen=True)
class J:
    assessed_on: date
    recorded_at: datetime
    code: str | None


judgements = st.builds(
    J,
    assessed_on=st.integers(0, 60).map(lambda d: START + timedelta(days=d)),
    recorded_at=st.integers(0, 10_000).map(lambda s: T0 + timedelta(minutes=s)),
    code=st.sampled_from(["B", "D", "S", "G", None]),
)


@given(st.lists(judgements, max_size=12, unique_by=lambda j: j.recorded_at), st.integers(0, 70))
def test_what_stands_as_at_a_date_is_the_latest_assessed_then(history, offset):
    as_at = START + timedelta(days=offset)
    eligible = [j for j in history if j.assessed_on <= as_at]
    expected = max(eligible, key=lambda j: (j.assessed_on, j.recorded_at)) if eligible else None
    assert standing(history, as_at) == expected
    assert standing(history) == (max(history, key=order_key) if history else None), (
        "with no date, the latest of all"
    )


@given(st.lists(judgements, min_size=1, max_size=12, unique_by=lambda j: j.recorded_at))
def test_the_current_cell_kept_write_by_write_is_what_stands(history):
    """Writes arrive in recorded order; the kept current row must equal the rule applied to
    the whole history, back-dated writes included."""
    history = sorted(history, key=lambda j: j.recorded_at)
    state = None
    for version, judgement in enumerate(history, start=1):
        row = {
            "id": uuid.uuid4(),
            "pupil_id": uuid.UUID(int=1),
            "objective_id": uuid.UUID(int=2),
            "school_id": uuid.UUID(int=3),
            "subject_id": uuid.UUID(int=4),
            "descriptor_id": judgement.code,
            "assessed_on": judgement.assessed_on,
            "note": None,
            "recorded_at": judgement.recorded_at,
            "recorded_by": uuid.UUID(int=5),
            "version": version,
        }
        state = _new_state(row, state, version)
        assert state["version"] == version
    expected = standing(history)
    assert (state["assessed_on"], state["recorded_at"], state["descriptor_id"]) == (
        expected.assessed_on,
        expected.recorded_at,
        expected.code,
    )


def test_a_judgement_is_not_dated_in_the_future_or_long_ago():
    today = date(2026, 11, 23)
    check_assessed_on(today, today)
    check_assessed_on(today - timedelta(days=MAX_BACKDATE_DAYS), today)
    for day in (today + timedelta(days=1), today - timedelta(days=MAX_BACKDATE_DAYS + 1)):
        with pytest.raises(DomainError) as refused:
            check_assessed_on(day, today)
        assert refused.value.field == "assessed_on"


@pytest.mark.parametrize(
    ("group", "year"), [("N1", 0), ("N2", 0), ("R", 0), ("1", 1), ("Y4", 4), ("13", 13)]
)
def test_pupils_work_within_their_year_groups_curriculum_by_default(group, year):
    assert default_working_year(group) == year


@given(st.sampled_from(list(YearGroup)), st.integers(0, 13), st.integers(0, 4))
def test_an_objective_covers_the_years_of_its_span(group, first, span):
    last = min(first + span, 13)
    working = default_working_year(group)
    assert covers(first, last, working) == (first <= working <= last)


values = st.fixed_dictionaries(
    {
        uuid.UUID(int=i): st.builds(
            DescriptorValue,
            st.decimals(min_value=0, max_value=10, places=2),
            st.booleans(),
        )
        for i in range(1, 5)
    }
)


@given(values, st.lists(st.sampled_from([None, *(uuid.UUID(int=i) for i in range(1, 5))])))
def test_figures_count_judged_cells_sum_values_and_count_secure(descriptors, cells):
    found = figures(cells, descriptors)
    judged = [descriptors[c] for c in cells if c is not None]
    assert found == Figures(
        len(judged), sum((d.value for d in judged), Decimal(0)), sum(d.secure for d in judged)
    )
    if judged:
        assert found.depth_score == found.value_sum / len(judged)
        assert found.percent_secured(len(judged)) == Decimal(100) * found.secure / len(judged)
    else:
        assert found.depth_score is None
    assert found.percent_secured(0) is None
