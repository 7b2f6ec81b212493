"""Strengths, next steps and what is not yet judged (app.domain.next_steps), as properties."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.markbook import DescriptorValue
from app.domain.next_steps import Standing, steps

# A four-step depth scale secure from its third descriptor, and a "cleared" cell (None).
DESCRIPTORS = {
    uuid.UUID(int=index + 1): DescriptorValue(Decimal(index + 1), index >= 2) for index in range(4)
}
START = date(2025, 9, 1)


@dataclass(frozen=True)
class Objective:
    id: uuid.UUID
    year_from: int
    year_to: int
    is_key: bool
    archived: bool


objectives = st.lists(
    st.builds(
        lambda n, first, span, key, archived: Objective(
            uuid.UUID(int=1000 + n), first, first + span, key, archived
        ),
        st.integers(0, 10**6),
        st.integers(0, 6),
        st.integers(0, 2),
        st.booleans(),
        st.booleans(),
    ),
    max_size=30,
    unique_by=lambda o: o.id,
)


@st.composite
def pupils(draw: st.DrawFn) -> tuple[list[Objective], dict[uuid.UUID, Standing], int]:
    listed = draw(objectives)
    standing = {}
    for objective in listed:
        if draw(st.booleans()):
            descriptor = draw(st.sampled_from([None, *DESCRIPTORS]))
            standing[objective.id] = Standing(
                descriptor, START + timedelta(draw(st.integers(0, 300)))
            )
    return listed, standing, draw(st.integers(0, 8))


@given(pupils())
def test_every_objective_of_the_working_year_is_in_exactly_one_list(pupil) -> None:
    listed, standing, year = pupil
    found = steps(listed, standing, DESCRIPTORS, year)
    shown = [*found.strengths, *found.next_steps, *found.not_yet_judged]
    assert len(shown) == len(set(shown))
    in_year = {o.id for o in listed if not o.archived and o.year_from <= year <= o.year_to}
    assert set(shown) == in_year  # archived and other years' objectives never appear


@given(pupils())
def test_strengths_are_secure_and_next_steps_judged_but_not_secure(pupil) -> None:
    listed, standing, year = pupil
    found = steps(listed, standing, DESCRIPTORS, year)
    for objective_id in found.strengths:
        descriptor = standing[objective_id].descriptor_id
        assert descriptor is not None and DESCRIPTORS[descriptor].secure
    for objective_id in found.next_steps:
        descriptor = standing[objective_id].descriptor_id
        assert descriptor is not None and not DESCRIPTORS[descriptor].secure
    for objective_id in found.not_yet_judged:  # never judged, or cleared: never a weakness
        assert objective_id not in standing or standing[objective_id].descriptor_id is None


@given(pupils())
def test_strengths_come_most_recent_first(pupil) -> None:
    listed, standing, year = pupil
    days = [standing[o].assessed_on for o in steps(listed, standing, DESCRIPTORS, year).strengths]
    assert days == sorted(days, reverse=True)


@given(pupils())
def test_next_steps_put_key_objectives_first_then_the_framework_s_order(pupil) -> None:
    listed, standing, year = pupil
    position = {o.id: index for index, o in enumerate(listed)}
    key = {o.id for o in listed if o.is_key}
    found = steps(listed, standing, DESCRIPTORS, year)
    for part in (found.next_steps, found.not_yet_judged):
        assert part == sorted(part, key=lambda o: (o not in key, position[o]))
