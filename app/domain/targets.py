"""Pupils' targets: what a teacher sets a pupil to work on, in words the pupil reads.

A target is either an objective of the pupil's school ("the next step I am working on") or a
sentence the teacher writes, or both (the sentence then says it in the pupil's words). It is
``open`` until a teacher closes it (``closed``: no longer worked on) or marks it ``achieved``;
a target on an objective is achieved by itself, dated the day it was judged, when a judgement
at or beyond the scale's secure descriptor comes to stand in that cell. A closed or achieved
target can be opened again. A target is a next step: one on an objective already secure for
the pupil is refused (422 naming the objective, or the pupils of a class it is secure for), not
stored as achieved before it was worked on.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from app.domain.errors import DomainError
from app.domain.pupils import check_plain_text

MAX_TEXT_LENGTH = 500


class TargetStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ACHIEVED = "achieved"


def check_target_text(raw: str, *, field: str = "text") -> str:
    """A target's words as stored: trimmed, 1-500 characters on one line, no control or
    bidirectional characters (a pupil's page shows them as they are)."""
    value = check_plain_text(raw, field=field, what="a target").strip()
    if not value:
        raise DomainError("a target's text is empty", field=field)
    if len(value) > MAX_TEXT_LENGTH:
        raise DomainError(
            f"a target's text is {len(value)} characters: at most {MAX_TEXT_LENGTH}",
            field=field,
        )
    return value


def closing(status: TargetStatus, today: date) -> date | None:
    """The date a target set to ``status`` today is closed on (None: it is open)."""
    return None if status is TargetStatus.OPEN else today
