"""The academic calendar: years run 1 September to 31 August and are named "2025/26"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import (
    AcademicYear,
    check_assessment_date,
    default_assessment_points,
)
from app.domain.errors import DomainError

years = st.integers(min_value=2000, max_value=2099).map(AcademicYear)
days = st.dates(min_value=date(2000, 9, 1), max_value=date(2100, 8, 31))


@given(days)
def test_every_date_falls_in_exactly_the_year_that_contains_it(day):
    year = AcademicYear.containing(day)
    assert year.contains(day)
    assert not AcademicYear(year.start_year - 1).contains(day) if year.start_year > 2000 else True
    assert not AcademicYear(year.start_year + 1).contains(day) if year.start_year < 2099 else True


@given(years)
def test_years_are_contiguous_and_a_year_long(year):
    assert year.starts_on == date(year.start_year, 9, 1)
    assert year.ends_on == date(year.start_year + 1, 8, 31)
    if year.start_year < 2099:
        assert AcademicYear(year.start_year + 1).starts_on == year.ends_on + timedelta(days=1)


@given(years)
def test_labels_round_trip(year):
    assert AcademicYear.parse(year.label) == year
    assert AcademicYear.parse(str(year.start_year)) == year


def test_labels_read_as_schools_write_them():
    assert AcademicYear(2025).label == "2025/26"
    assert AcademicYear(2099).label == "2099/00"
    assert AcademicYear.containing(date(2026, 8, 31)).label == "2025/26"
    assert AcademicYear.containing(date(2026, 9, 1)).label == "2026/27"


@pytest.mark.parametrize(
    "label",
    [
        "2025/27",
        "2025-26",
        "25/26",
        "",
        "1999/00",
        "2100/01",
        "2025/26\n",
        "\uff12\uff10\uff12\uff15",
    ],
)
def test_malformed_or_impossible_labels_are_rejected(label):
    with pytest.raises(DomainError) as raised:
        AcademicYear.parse(label)
    assert raised.value.field == "academic_year"


@given(years)
def test_default_calendar_is_three_ordered_points_inside_the_year(year):
    points = default_assessment_points(year)
    assert [p.code for p in points] == ["AUT", "SPR", "SUM"]
    assert [p.position for p in points] == [1, 2, 3]
    assert [p.assessed_on for p in points] == sorted(p.assessed_on for p in points)
    for point in points:
        check_assessment_date(year, point.assessed_on)


@given(years, days)
def test_assessment_dates_must_lie_in_their_year(year, day):
    if year.contains(day):
        check_assessment_date(year, day)
    else:
        with pytest.raises(DomainError) as raised:
            check_assessment_date(year, day)
        assert raised.value.field == "assessed_on"
