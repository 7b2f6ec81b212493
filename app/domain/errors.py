"""Domain errors: a rule was broken. The API layer turns them into problems."""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule rejected the input. ``field`` names where, in the caller's terms."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
