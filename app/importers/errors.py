"""The one error the importers raise: the file as a whole cannot be read."""

from __future__ import annotations

from app.domain.errors import DomainError


class FileRejected(DomainError):
    """An uploaded roster file is unreadable or not the format it claims to be.

    Only structural problems raise this (malformed XML, a missing header or column, an unsafe
    archive); a bad value in one pupil's row is passed through for the sync's per-row
    validation, so that partial mode can still store the good rows.

    ``where`` points into the file: a line ("line 12"), an element path ("CTfile/Header"),
    or a member and row of an archive ("users.csv row 7").
    """

    def __init__(self, filename: str, where: str | None, reason: str) -> None:
        self.filename = filename
        self.where = where
        self.reason = reason
        if where is None:
            location = filename
        elif where.startswith("line "):
            location = f"{filename} {where}"
        else:
            location = f"{filename}, {where}"
        super().__init__(f"{location}: {reason}", field="body")

    def to_dict(self) -> dict[str, str | None]:
        """The parts, for an import job's stored problem."""
        return {"filename": self.filename, "where": self.where, "reason": self.reason}
