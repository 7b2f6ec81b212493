"""How a roster sync row changes what is stored: pure rules, property-tested.

An MIS sends what it knows. A field it sends (even as null) replaces what is stored; a field it
leaves out is kept. So a sync never forgets what another source told us (a characteristic a
CTF brought in, say) just because this MIS does not carry it, and sending the same row twice
changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """Whether writing ``merged`` would change anything (a new record always does)."""
    return stored is None or any(stored.get(field) != value for field, value in merged.items())


def replace_set(stored: set[Any], sent: Iterable[Any] | None) -> tuple[set[Any], set[Any]]:
    """(to add, to remove) to make a membership equal ``sent``; None leaves it alone."""
    if sent is None:
        return set(), set()
    wanted = set(sent)
    return wanted - stored, stored - wanted
