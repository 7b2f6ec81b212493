"""What a pupil is doing well and what comes next, from the judgements that stand now.

For one pupil and one subject, over the objectives of the curriculum they work within (their
working year: the year a teacher set, else their year group's):

- **strengths**: objectives judged at or beyond the depth scale's secure descriptor, the most
  recently judged first;
- **next steps**: objectives judged but not yet secure, in the framework's order with key
  objectives first: what to work on;
- **not yet judged**: objectives with no judgement standing (never judged, or the cell was
  cleared), in the same order. They are listed apart, so that what has not been taught yet is
  never shown as a weakness.

Archived objectives are left out. A pupil working within an earlier year's curriculum is
measured against that curriculum only: nothing from their year group's curriculum appears.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from app.domain.markbook import DescriptorValue, covers


class ObjectiveLike(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def year_from(self) -> int: ...
    @property
    def year_to(self) -> int: ...
    @property
    def is_key(self) -> bool: ...
    @property
    def archived(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Standing:
    """The judgement standing in a cell: its descriptor (None: cleared) and the day it was
    assessed."""

    descriptor_id: uuid.UUID | None
    assessed_on: date


@dataclass(frozen=True, slots=True)
class Steps:
    """Objective ids in the order a pupil's page shows them."""

    strengths: list[uuid.UUID]
    next_steps: list[uuid.UUID]
    not_yet_judged: list[uuid.UUID]


def steps(
    objectives: Iterable[ObjectiveLike],
    standing: Mapping[uuid.UUID, Standing],
    descriptors: Mapping[uuid.UUID, DescriptorValue],
    working_year: int,
) -> Steps:
    """Sort a subject's objectives (given in the framework's order) into strengths, next steps
    and those not yet judged, for a pupil working within ``working_year`` whose standing
    judgements are ``standing`` (by objective), each descriptor valued by ``descriptors``."""
    in_year = [
        o for o in objectives if not o.archived and covers(o.year_from, o.year_to, working_year)
    ]
    order = {o.id: index for index, o in enumerate(in_year)}
    strengths: list[uuid.UUID] = []
    next_steps: list[ObjectiveLike] = []
    not_yet: list[ObjectiveLike] = []
    for objective in in_year:
        cell = standing.get(objective.id)
        if cell is None or cell.descriptor_id is None:
            not_yet.append(objective)
        elif descriptors[cell.descriptor_id].secure:
            strengths.append(objective.id)
        else:
            next_steps.append(objective)
    strengths.sort(key=lambda o: (-standing[o].assessed_on.toordinal(), order[o]))
    return Steps(strengths, _key_first(next_steps), _key_first(not_yet))


def _key_first(objectives: list[ObjectiveLike]) -> list[uuid.UUID]:
    """Key objectives first, each part keeping the framework's order (the sort is stable)."""
    return [o.id for o in sorted(objectives, key=lambda o: not o.is_key)]
