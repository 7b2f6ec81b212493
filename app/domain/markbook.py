"""The markbook's rules: which judgement is a cell's, which curriculum a pupil works within,
and the figures a subject's judgements come to at an assessment point.

A cell is one pupil against one objective. Its history is every judgement ever recorded for
it; the judgement that stands "as at" a date is the latest assessed on or before that date,
and between two assessed on the same day, the one recorded later. A cleared cell is a
judgement with no descriptor: it stands like any other, and says "not judged".

Pupils working outside their year group's curriculum are judged against the objectives of
their *working* curriculum year. Nothing here marks them as below: their figures are counted
against the curriculum they are working within, and reports say which year that was.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from app.domain.curriculum import RECEPTION
from app.domain.errors import DomainError
from app.domain.pupils import YearGroup
from app.domain.scales import is_secure

# How far back a judgement may be dated: far enough for last year's catch-up, not a typo.
MAX_BACKDATE_DAYS = 400


class Judged(Protocol):
    @property
    def assessed_on(self) -> date: ...
    @property
    def recorded_at(self) -> datetime: ...


J = TypeVar("J", bound=Judged)


def order_key(judgement: Judged) -> tuple[date, datetime]:
    """Later in this order stands over earlier: date assessed, then time recorded."""
    return (judgement.assessed_on, judgement.recorded_at)


def standing(history: Iterable[J], as_at: date | None = None) -> J | None:
    """The judgement that stands for a cell as at ``as_at`` (today's, if None): the latest
    assessed on or before that date, ties going to the one recorded later."""
    found: J | None = None
    for judgement in history:
        if as_at is not None and judgement.assessed_on > as_at:
            continue
        if found is None or order_key(judgement) > order_key(found):
            found = judgement
    return found


def check_assessed_on(assessed_on: date, today: date) -> None:
    """A judgement is dated on the day it was assessed: not in the future, and not more than
    ``MAX_BACKDATE_DAYS`` ago."""
    if assessed_on > today:
        raise DomainError("cannot be in the future", field="assessed_on")
    if (today - assessed_on).days > MAX_BACKDATE_DAYS:
        raise DomainError(
            f"more than {MAX_BACKDATE_DAYS} days ago: check the date", field="assessed_on"
        )


# --- Working curriculum year -----------------------------------------------------------------
def default_working_year(year_group: YearGroup | str) -> int:
    """The curriculum year a pupil works within unless a teacher says otherwise: their year
    group's. Nursery pupils (N1, N2) have no national curriculum year of their own and work
    towards reception's."""
    rank = YearGroup.parse(year_group).rank
    return max(rank, RECEPTION)


@dataclass(frozen=True, slots=True)
class WorkingYearView:
    """The curriculum year (R is 0) a pupil works within in a subject, and whether a teacher
    set it (False: it is their year group's). None when the pupil has no enrolment that year
    and nobody set one. ``year_group`` is the pupil's that year."""

    curriculum_year: int | None
    is_set: bool
    year_group: str | None = None


def working_year(set_year: int | None, year_group: YearGroup | str | None) -> WorkingYearView:
    """The curriculum year a pupil works within in a subject: the one a teacher set, else their
    year group's (``default_working_year``); none if they have neither."""
    group = None if year_group is None else str(year_group)
    if set_year is not None:
        return WorkingYearView(set_year, True, group)
    return WorkingYearView(None if group is None else default_working_year(group), False, group)


class SetYear(Protocol):
    """A working year a teacher set (None: set back to the year group's)."""

    @property
    def curriculum_year(self) -> int | None: ...


def working_years(
    set_years: Mapping[tuple[uuid.UUID, uuid.UUID], SetYear],
    year_groups: Mapping[uuid.UUID, str],
    pupil_ids: Collection[uuid.UUID],
    subject_ids: Collection[uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView]:
    """Each (pupil, subject)'s ``working_year``, from the years set (by pupil and subject) and
    the pupils' year groups."""
    found: dict[tuple[uuid.UUID, uuid.UUID], WorkingYearView] = {}
    for pupil_id in pupil_ids:
        group = year_groups.get(pupil_id)
        for subject_id in subject_ids:
            chosen = set_years.get((pupil_id, subject_id))
            found[pupil_id, subject_id] = working_year(
                None if chosen is None else chosen.curriculum_year, group
            )
    return found


def covers(year_from: int, year_to: int, working_year: int) -> bool:
    """Whether an objective (set for ``year_from`` to ``year_to``) is part of the curriculum
    of a pupil working within ``working_year``."""
    return year_from <= working_year <= year_to


# --- Figures at a point ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DescriptorValue:
    value: Decimal
    secure: bool


class ScaleLike(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def secure_from(self) -> str | None: ...


class DescriptorLike(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def scale_id(self) -> uuid.UUID: ...
    @property
    def code(self) -> str: ...
    @property
    def value(self) -> Decimal: ...


def descriptor_values(
    scales: Iterable[ScaleLike], descriptors: Iterable[DescriptorLike]
) -> dict[uuid.UUID, DescriptorValue]:
    """Each descriptor's value, and whether a judgement of it counts as secure on its scale
    (``is_secure``: at or above the value of the descriptor the depth scale is secure from)."""
    listed = list(descriptors)
    secure_from = {s.id: s.secure_from for s in scales}
    threshold = {d.scale_id: d.value for d in listed if d.code == secure_from.get(d.scale_id)}
    return {
        d.id: DescriptorValue(d.value, is_secure(d.value, threshold.get(d.scale_id)))
        for d in listed
    }


@dataclass(frozen=True, slots=True)
class Figures:
    """A pupil's judgements in one subject at one point, counted over the objectives of their
    working year: how many are judged, the sum of their descriptor values, how many are
    secure. Depth score = value_sum / judged; % secured of those assessed = secure / judged;
    % secured of the year's curriculum = secure / (objectives covering the working year)."""

    judged: int = 0
    value_sum: Decimal = Decimal(0)
    secure: int = 0

    @property
    def depth_score(self) -> Decimal | None:
        return None if not self.judged else self.value_sum / self.judged

    def percent_secured(self, of: int) -> Decimal | None:
        """Secure as a percentage of ``of`` objectives (None when there are none)."""
        return None if of <= 0 else Decimal(100) * self.secure / of


def figures(
    standing_descriptors: Iterable[uuid.UUID | None],
    descriptors: Mapping[uuid.UUID, DescriptorValue],
) -> Figures:
    """The figures for the descriptors standing in a pupil's cells (None: cleared, so not
    judged)."""
    judged, value_sum, secure = 0, Decimal(0), 0
    for descriptor_id in standing_descriptors:
        if descriptor_id is None:
            continue
        descriptor = descriptors[descriptor_id]
        judged += 1
        value_sum += descriptor.value
        secure += descriptor.secure
    return Figures(judged, value_sum, secure)
