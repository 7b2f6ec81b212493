"""The on-track line of a pupil's page (app.domain.on_track), as properties: the words, "now",
and the report that places the pupil by the school's template's rule."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.on_track import (
    DEFAULT_WORDS,
    check_words,
    current_point,
    on_track_definition,
    words_for,
)
from app.domain.reports import (
    AttainmentRule,
    Category,
    KnownPoint,
    OutOfYear,
    categorise,
    parse_definition,
)

YEAR = 2026
START = date(YEAR, 9, 1)


@given(st.sampled_from(list(Category)), st.booleans(), st.sampled_from(list(Category)))
def test_a_pupil_working_within_an_earlier_curriculum_is_never_told_below_by_default(
    by_rule, earlier, _
):
    # Placed by the reports' own rule (its default: their own category), in default words.
    placed = categorise(by_rule, earlier_curriculum=earlier, out_of_year=OutOfYear.OWN_CATEGORY)
    words = words_for(placed, None)
    if earlier:
        assert placed is Category.EARLIER_CURRICULUM
    # No default words say "below": even a pupil the school places as below is working towards.
    assert "below" not in words.lower()


@given(
    st.dictionaries(
        st.sampled_from([c.value for c in Category]),
        st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=60).filter(
            str.strip
        ),
    )
)
def test_the_schools_words_replace_only_the_categories_it_names(raw):
    words = check_words(raw)
    for category in Category:
        shown = words_for(category, words)
        assert shown == (
            words[category.value] if category.value in raw else DEFAULT_WORDS[category]
        )
        assert shown.strip()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"middling": "Fine"}, "on_track_words.middling"),
        ({"at": "x" * 61}, "on_track_words.at"),
        ({"at": "On\ttrack"}, "on_track_words.at"),
        ({"at": "On \u202etrack"}, "on_track_words.at"),
        ({"at": "  "}, "on_track_words.at"),
        ({"at": 3}, "on_track_words.at"),
    ],
)
def test_bad_words_are_refused_naming_the_category(raw, field):
    with pytest.raises(DomainError) as refused:
        check_words(raw)
    assert refused.value.field == field


points = st.lists(
    st.builds(
        lambda days, position, year: KnownPoint(
            uuid.uuid4(),
            f"P{position}",
            f"Point {position}",
            position,
            START + timedelta(days=days) if year == YEAR else date(year, 10, 1),
            year,
        ),
        st.integers(0, 360),
        st.integers(1, 20),
        st.sampled_from([YEAR, YEAR, YEAR - 1]),
    ),
    max_size=8,
)


@given(points, st.integers(-30, 400))
def test_now_is_the_first_point_still_to_come_else_the_years_last(found, offset):
    today = START + timedelta(days=offset)
    now = current_point(found, academic_year=YEAR, today=today)
    of_year = [p for p in found if p.academic_year == YEAR]
    if not of_year:
        assert now is None
        return
    assert now in of_year
    upcoming = [p for p in of_year if p.assessed_on >= today]
    if upcoming:
        assert now.assessed_on == min(p.assessed_on for p in upcoming)
    else:
        assert now.assessed_on == max(p.assessed_on for p in of_year)


TEMPLATE = parse_definition(
    {
        "metrics": ["attainment"],
        "dimensions": ["subject"],
        "points": ["AUT", "SUM"],
        "attainment": [
            {"subject": "MA", "measure": "MATH-TA"},
            {"subject": "MA", "secured": {"at": 50}, "point": 1},
            {"subject": "EN", "secured": {"at": 60, "above": 90}},
        ],
        "out_of_year": "working_curriculum",
    }
)


@given(st.sets(st.integers(0, 1)))
def test_the_page_takes_the_rule_for_its_point_else_the_subjects_rule(here):
    definition = on_track_definition(TEMPLATE, point_code="SUM", here=here, academic_year=YEAR)
    assert definition is not None
    rules = {r.subject: r for r in definition.attainment}
    assert rules["EN"] == AttainmentRule("EN", secured_at=Decimal(60), secured_above=Decimal(90))
    if 1 in here:
        assert rules["MA"] == AttainmentRule("MA", secured_at=Decimal(50))
    else:
        assert rules["MA"] == AttainmentRule("MA", measure="MATH-TA")
    # One column, the school's choice for out-of-year pupils kept.
    assert [p.code for p in definition.points] == ["SUM"]
    assert definition.out_of_year is OutOfYear.WORKING_CURRICULUM
    assert definition.academic_year == YEAR


def test_a_template_without_an_attainment_rule_gives_no_line():
    bare = parse_definition({"metrics": ["pupils"], "dimensions": ["subject"], "points": ["AUT"]})
    assert on_track_definition(bare, point_code="AUT", here=[0], academic_year=YEAR) is None
