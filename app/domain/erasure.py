"""Erasing a pupil from records that only mention them, such as the log of a file import.

A record mentions a pupil where any of their keys (Markbook id, UPN, MIS id) appears in it, or
any of their names as a whole word (case aside). Erasure keeps what does not mention them: an
entry of a list (a rejected row, a warning) that mentions them is dropped whole, a text that
mentions them is blanked (null), a number that is one of their keys too. Blanking rather than
cutting out the name means nothing of the text is left to give them away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Marks:
    """What identifies one pupil in a text: ``keys`` anywhere, ``names`` as whole words."""

    keys: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, *, keys: Iterable[str | None], names: Iterable[str | None]) -> Marks:
        return cls(
            keys=tuple(dict.fromkeys(k for k in keys if k)),
            names=tuple(dict.fromkeys(n.strip() for n in names if n and n.strip())),
        )

    @property
    def pattern(self) -> re.Pattern[str] | None:
        parts = [re.escape(key) for key in self.keys]
        # A word ends at anything but a letter or digit (an underscore too: file names).
        parts += [rf"(?<![^\W_]){re.escape(name)}(?![^\W_])" for name in self.names]
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def mentions(value: Any, marks: Marks) -> bool:
    """Whether the value (text, number, or JSON-like lists and objects) mentions the pupil."""
    return _mentions(value, marks.pattern, {key.casefold() for key in marks.keys})


def _mentions(value: Any, pattern: re.Pattern[str] | None, keys: set[str]) -> bool:
    if pattern is None:
        return False
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return str(value).casefold() in keys
    if isinstance(value, dict):
        return any(
            _mentions(k, pattern, keys) or _mentions(v, pattern, keys) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(_mentions(item, pattern, keys) for item in value)
    return False


def scrub(value: Any, marks: Marks) -> Any:
    """The value with every mention of the pupil taken out (see the module's rule): entries of
    lists that mention them dropped, object members whose name mentions them dropped, texts
    and numbers that mention them null."""
    pattern = marks.pattern
    keys = {key.casefold() for key in marks.keys}

    def clean(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items() if not _mentions(k, pattern, keys)}
        if isinstance(item, list | tuple):
            return [clean(x) for x in item if not _mentions(x, pattern, keys)]
        return None if _mentions(item, pattern, keys) else item

    return clean(value)
