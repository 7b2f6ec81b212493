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

    def __init__(
        self,
        filename: str,
        where: str | None,
        reason: str,
        *,
        others: list[FileRejected] | None = None,
        total: int | None = None,
    ) -> None:
        self.filename = filename
        self.where = where
        self.reason = reason
        # Every problem found (this one first), when the file was read to the end to find them
        # all; ``total`` counts them all, even past those kept.
        self.problems: list[FileRejected] = [self, *(others or [])]
        self.total = total if total is not None else len(self.problems)
        location = _location(filename, where)
        more = f" (and {self.total - 1} more problems)" if self.total > 1 else ""
        super().__init__(f"{location}: {reason}{more}", field="body")

    @property
    def located(self) -> str:
        """The problem alone, as "file, where: reason"."""
        return f"{_location(self.filename, self.where)}: {self.reason}"

    @classmethod
    def several(cls, problems: list[FileRejected], total: int) -> FileRejected:
        """One refusal listing ``problems`` (the first ones found of ``total``)."""
        first = problems[0]
        return cls(first.filename, first.where, first.reason, others=problems[1:], total=total)

    def to_dict(self) -> dict[str, str | None]:
        """The parts, for an import job's stored problem."""
        return {"filename": self.filename, "where": self.where, "reason": self.reason}


def _location(filename: str, where: str | None) -> str:
    if where is None:
        return filename
    if where.startswith("line "):
        return f"{filename} {where}"
    return f"{filename}, {where}"
