"""Instants: moments in time with an offset, held in UTC.

The one rule for instants callers give (a query's ``updated_since``, a cursor's position): an
offset is required, and the instant must be one UTC can hold, so that every database stores it
(``0001-01-01T00:00:00+14:00`` is in year 0 in UTC; ``9999-12-31T23:59:59-14:00`` in year 10000).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

OUT_OF_RANGE = "out of range: give an instant between years 1 and 9999 in UTC"
NOT_ISO = "not an ISO 8601 instant: give a date and time with an offset, e.g. 2026-11-23T09:00Z"
# A date first (YYYY-MM-DD): numbers such as 0.5 are not read as seconds since 1970.
_ISO_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")


def looks_iso(text: object) -> bool:
    """Whether ``text`` is written as an ISO 8601 date and time (not a number of seconds)."""
    return isinstance(text, str) and _ISO_DATE_TIME.match(text) is not None


def in_utc(value: datetime) -> datetime:
    """``value`` in UTC. ValueError when it has no offset or UTC cannot hold it."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("give an offset (Z or +01:00): a time without one is ambiguous")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset, in UTC. ValueError otherwise."""
    if not looks_iso(text):
        raise ValueError(NOT_ISO)
    return in_utc(datetime.fromisoformat(text))
