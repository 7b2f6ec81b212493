"""What a roster file says: the one result of the CTF and OneRoster parsers.

Rows are shaped like the roster sync's ``ClassSyncRow`` and ``PupilSyncRow``, so one sync
service stores them whatever their source. They are plain JSON-able dicts, not validated
models: the sync validates them one by one, so a bad value rejects only its own row (with its
index) and partial mode keeps the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImportedRoster:
    """What a roster file says, in the roster sync's terms.

    Only keys the file states appear in a row: an absent characteristic means "leave as
    stored", which is not the same as False.
    """

    kind: str  # "ctf" or "oneroster"
    source: str | None  # CTF: the source school, "LEA/Estab" or its URN; OneRoster: None
    school_urns: list[str]  # URNs the file names
    academic_year: int | None  # start year (2025 is 2025/26), when the file says
    classes: list[dict[str, Any]]  # ClassSyncRow-shaped
    pupils: list[dict[str, Any]]  # PupilSyncRow-shaped, dates as "YYYY-MM-DD"
    warnings: list[str] = field(default_factory=list)  # short: counts, not one per element
    # True when the file is the whole roster (a OneRoster bulk users.csv), so a full sync may
    # mark pupils missing from it as left. A CTF, or a OneRoster delta, never is.
    complete: bool = False
    # Where each class and pupil row came from ("classes.csv row 4"), for messages about it.
    class_sources: list[str] = field(default_factory=list)
    pupil_sources: list[str] = field(default_factory=list)
    grade_mapping: str | None = None  # OneRoster: how its grades were read
