"""How a roster sync row changes what is stored: pure rules, property-tested.

An MIS sends what it knows. A field it sends (even as null) replaces what is stored; a field it
leaves out is kept. So a sync never forgets what another source told us (a characteristic a
CTF brought in, say) just because this MIS does not carry it, and sending the same row twice
changes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any


def merge(
    stored: Mapping[str, Any] | None,
    sent: Mapping[str, Any],
    fields: Iterable[str],
) -> dict[str, Any]:
    """The record after a sync row: ``sent`` over ``stored``, field by field, for ``fields``.

    Fields not in ``sent`` keep their stored value, or None for a new record.
    """
    return {field: sent[field] if field in sent else (stored or {}).get(field) for field in fields}


def changed(stored: Mapping[str, Any] | None, merged: Mapping[str, Any]) -> bool:
    """Whether writing ``merged`` would change anything (a new record always does).

    ``merged`` may also be just the fields a row sends: those left out keep their stored
    values (``merge``), so only a field sent can differ, and the answer is the same.
    """
    if stored is None:
        return True
    # Compared as two lists, element by element in C: a re-sync compares thousands of rows.
    return list(map(stored.get, merged)) != list(merged.values())


@lru_cache(maxsize=256)
def _values_of(fields: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    return itemgetter(*fields)


def differs(
    stored: Mapping[str, Any] | None, sent: Mapping[str, Any], fields: tuple[str, ...]
) -> bool:
    """Whether a row sending ``fields`` (their values in ``sent``, which may hold more) would
    change ``stored``, which holds every field: ``changed(stored, {f: sent[f] for f in
    fields})``, as one comparison of two tuples, with no dict built for the row."""
    if stored is None:
        return True
    if not fields:
        return False
    values = _values_of(fields)
    return bool(values(stored) != values(sent))


def replace_set(
    stored: AbstractSet[Any], sent: Iterable[Any] | None
) -> tuple[AbstractSet[Any], AbstractSet[Any]]:
    """(to add, to remove) to make a membership equal ``sent``; None leaves it alone."""
    if sent is None:
        return set(), set()
    wanted = set(sent)
    return wanted - stored, stored - wanted


@dataclass
class PupilChange:
    """A pupil row's values beside what is stored: the pupil (``sent_fields``: the fields of
    ``fields`` the row gives, their values in ``sent``) and this year's enrolment (likewise),
    the classes and groups they are in (``wanted_*`` None: the row does not say), their stage
    assessments (``new_stages`` None: unchanged). What it changes is what writing it would.

    The records after the row (``merged``, ``merged_enrolment``) are built only when asked
    for: a nightly re-send is mostly rows that change nothing, and comparing what they send
    is enough to know it."""

    pupil_id: uuid.UUID
    old: Mapping[str, Any] | None
    enrolment: Mapping[str, Any] | None
    sent: Mapping[str, Any]
    fields: tuple[str, ...]
    sent_fields: tuple[str, ...]
    enrolment_fields: tuple[str, ...]
    sent_enrolment_fields: tuple[str, ...]
    had_classes: AbstractSet[uuid.UUID]
    wanted_classes: set[uuid.UUID] | None
    had_groups: AbstractSet[uuid.UUID]
    wanted_groups: set[uuid.UUID] | None
    had_stages: list[dict[str, Any]]
    new_stages: list[dict[str, Any]] | None

    @cached_property
    def merged(self) -> dict[str, Any]:
        sent = {field: self.sent[field] for field in self.sent_fields}
        return merge(self.old, sent, self.fields)

    @cached_property
    def merged_enrolment(self) -> dict[str, Any]:
        sent = {field: self.sent[field] for field in self.sent_enrolment_fields}
        return merge(self.enrolment, sent, self.enrolment_fields)

    @property
    def pupil_changed(self) -> bool:
        return differs(self.old, self.sent, self.sent_fields)

    @property
    def enrolment_changed(self) -> bool:
        return differs(self.enrolment, self.sent, self.sent_enrolment_fields)

    @property
    def classes_changed(self) -> bool:
        return any(replace_set(self.had_classes, self.wanted_classes))

    @property
    def groups_changed(self) -> bool:
        return any(replace_set(self.had_groups, self.wanted_groups))

    @property
    def changes_anything(self) -> bool:
        return (
            self.pupil_changed
            or self.enrolment_changed
            or self.classes_changed
            or self.groups_changed
            or self.new_stages is not None
        )
