"""Grades to NC year groups: the two mappings, property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.grades import (
    DEFAULT_GRADE_MAPPING,
    GradeMapping,
    curriculum_year_for,
    year_group_for,
)
from app.domain.pupils import YearGroup

mappings = st.sampled_from(list(GradeMapping))
numbers = st.integers(min_value=1, max_value=13)
early_codes = st.sampled_from(["IT", "PR", "PK", "TK", "KG"])


def spelled(number: int) -> st.SearchStrategy[str]:
    """A grade number as files write it: 7, 07, with spaces, any case of padding."""
    return st.sampled_from([str(number), f"{number:02d}", f" {number:02d} ", f"{number}\t"])


def test_the_default_is_england():
    assert DEFAULT_GRADE_MAPPING is GradeMapping.ENGLAND


@pytest.mark.parametrize(
    ("grade", "england", "us_age"),
    [
        ("IT", "N1", "N1"),
        ("PR", "N1", "N2"),
        ("PK", "N2", "R"),
        ("TK", "R", "R"),
        ("KG", "R", "1"),
        ("01", "1", "2"),
        ("06", "6", "7"),
        ("12", "12", "13"),
        ("13", "13", None),
        ("R", "R", "R"),
        ("N2", "N2", "N2"),
        ("Y7", "7", "7"),
        ("Year 10", "10", "10"),
        ("PS", None, None),
        ("UG", None, None),
        ("Other", None, None),
        ("00", None, None),
        ("", None, None),
    ],
)
def test_the_documented_table(grade, england, us_age):
    for mapping, expected in ((GradeMapping.ENGLAND, england), (GradeMapping.US_AGE, us_age)):
        group = year_group_for(grade, mapping)
        assert (group.value if group else None) == expected, (grade, mapping)


@given(number=numbers, mapping=mappings, data=st.data())
def test_padding_spaces_and_case_do_not_matter(number, mapping, data):
    grade = data.draw(spelled(number))
    assert year_group_for(grade, mapping) == year_group_for(f"{number:02d}", mapping)


@given(code=early_codes, mapping=mappings)
def test_codes_are_read_in_any_case(code, mapping):
    assert year_group_for(code.lower(), mapping) == year_group_for(code, mapping)


@given(number=st.integers(min_value=1, max_value=12))
def test_us_age_is_one_year_on_from_england(number):
    england = year_group_for(f"{number:02d}", GradeMapping.ENGLAND)
    us_age = year_group_for(f"{number:02d}", GradeMapping.US_AGE)
    assert england is not None and us_age is not None
    assert us_age.rank == england.rank + 1


@given(code=early_codes)
def test_us_age_early_years_are_never_younger_than_england(code):
    england = year_group_for(code, GradeMapping.ENGLAND)
    us_age = year_group_for(code, GradeMapping.US_AGE)
    assert england is not None and us_age is not None
    assert us_age.rank >= england.rank


@given(grade=st.text(max_size=12), mapping=mappings)
def test_any_text_is_a_year_group_or_none_never_an_error(grade, mapping):
    group = year_group_for(grade, mapping)
    assert group is None or isinstance(group, YearGroup)
    year = curriculum_year_for(grade, mapping)
    if group is None or group.rank < 0:
        assert year is None
    else:
        assert year == group.rank


@given(group=st.sampled_from(list(YearGroup)), mapping=mappings)
def test_england_names_mean_themselves_in_every_mapping(group, mapping):
    name = group.value if not group.value.isdigit() else f"Y{group.value}"
    assert year_group_for(name, mapping) is group
