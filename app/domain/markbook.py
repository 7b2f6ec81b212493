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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from app.domain.curriculum import RECEPTION
from app.domain.errors import DomainError
from app.domain.pupils import YearGroup

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


def covers(year_from: int, year_to: int, working_year: int) -> bool:
    """Whether an objective (set for ``year_from`` to ``year_to``) is part of the curriculum
    of a pupil working within ``working_year``."""
    return year_from <= working_year <= year_to


# --- Figures at a point ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DescriptorValue:
    value: Decimal
    secure: bool


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
