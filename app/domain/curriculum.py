"""Frameworks and objectives: curriculum years, objective codes and statements, hierarchies.

Pure rules, no I/O; the objective importers (CSV, 1EdTech CASE) and the framework services
share them. Every refusal is a ``DomainError`` naming the field in the API's terms.

Years are numbered as ``YearGroup.rank`` numbers them: reception is 0, Year 1 is 1, ...,
Year 13 is 13. A curriculum is not set for nursery (N1, N2), so those are not curriculum years.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.errors import DomainError
from app.domain.pupils import YearGroup

RECEPTION = 0
FIRST_YEAR = RECEPTION
LAST_YEAR = 13
# The national curriculum sets some content out for two years (English KS2: Years 3-4 and
# 5-6); a key stage is at most four years. A longer span is almost certainly a mistake.
MAX_SPAN_YEARS = 4

MAX_CODE_LENGTH = 100
MAX_STATEMENT_LENGTH = 2000
MAX_LABEL_LENGTH = 200  # strand, sub-strand
MAX_OBJECTIVES = 10_000  # in one framework

_YEAR = re.compile(r"R|[0-9]{1,2}")
# "3-4", "3 - 4", or with an en dash (U+2013) as spreadsheets autocorrect; each end as _YEAR.
_SPAN_SEPARATOR = re.compile(r"\s*[-\u2013]\s*")
_YEAR_PREFIX = re.compile(r"^(?:YEARS?|Y)\s*")


def _year_label(year: int) -> str:
    return "R" if year == RECEPTION else str(year)


@dataclass(frozen=True, slots=True, order=True)
class CurriculumYears:
    """The curriculum year an objective is set in, or a span of years (``first`` to ``last``
    inclusive): reception is 0, then 1-13. ``label`` is how it is written and read back:
    "R", "3", "3-4", "R-2"."""

    first: int
    last: int

    def __post_init__(self) -> None:
        for year in (self.first, self.last):
            if isinstance(year, bool) or not isinstance(year, int):
                raise DomainError("curriculum years are whole numbers", field="curriculum_years")
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise DomainError(
                    f"curriculum year {year} is out of range: use R or 1-13",
                    field="curriculum_years",
                )
        if self.first > self.last:
            raise DomainError(
                f"curriculum years {_year_label(self.first)}-{_year_label(self.last)} run "
                "backwards: write the earlier year first",
                field="curriculum_years",
            )
        if self.span > MAX_SPAN_YEARS:
            raise DomainError(
                f"curriculum years {self.label} span {self.span} years: at most "
                f"{MAX_SPAN_YEARS} allowed",
                field="curriculum_years",
            )

    @classmethod
    def single(cls, year: int) -> CurriculumYears:
        return cls(year, year)

    @classmethod
    def parse(cls, raw: str) -> CurriculumYears:
        """Read a year or a span as people write them: "3", "03", "Y3", "Year 3", "R",
        "3-4", "Years 3-4", "3 - 4" (or with an en dash). Nursery, 0, 14 and up, backwards
        spans and spans of more than four years are refused."""
        text = _YEAR_PREFIX.sub("", str(raw).strip().upper())
        parts = _SPAN_SEPARATOR.split(text)
        if len(parts) > 2 or not all(_YEAR.fullmatch(part) for part in parts):
            raise DomainError(
                f"curriculum year {str(raw)!r} is not a year: use R, 1-13 or a span like 3-4",
                field="curriculum_years",
            )
        years = [RECEPTION if part == "R" else int(part) for part in parts]
        if any(part != "R" and year == 0 for part, year in zip(parts, years, strict=True)):
            raise DomainError(
                f"curriculum year {str(raw)!r} is out of range: use R (reception) or 1-13",
                field="curriculum_years",
            )
        return cls(years[0], years[-1])

    @property
    def span(self) -> int:
        """How many years: 1 for a single year."""
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        if self.first == self.last:
            return _year_label(self.first)
        return f"{_year_label(self.first)}-{_year_label(self.last)}"

    @property
    def years(self) -> range:
        return range(self.first, self.last + 1)

    def contains(self, year: int | str | YearGroup) -> bool:
        """Whether a year (a number, reception 0, or a year group such as "R", "5" or "N2")
        falls in these curriculum years. Nursery never does."""
        if isinstance(year, bool):
            raise TypeError("a year is a number or a year group, not a bool")
        number = year if isinstance(year, int) else YearGroup.parse(year).rank
        return self.first <= number <= self.last

    def __str__(self) -> str:
        return self.label


# --- One curriculum year (a pupil's working year) --------------------------------------------
def read_curriculum_year(raw: Any, *, field: str = "curriculum_year") -> int:
    """One curriculum year as people write it ("R", "4", "Y4", 4): R is 0. Spans such as
    "3-4" are refused, since a value is recorded against one year's curriculum."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise DomainError("must be R or a year 1-13", field=field)
    try:
        years = CurriculumYears.parse(str(raw))
    except DomainError as exc:
        raise DomainError(exc.message, field=field) from None
    if years.span != 1:
        raise DomainError(f"give one year, not {years.label}", field=field)
    return years.first


def year_label(year: int | None) -> str | None:
    """How a curriculum year reads: "R", "4"."""
    return None if year is None else CurriculumYears.single(year).label


def year_in_words(year: int | None) -> str | None:
    """How a curriculum year reads to a pupil or parent: "Reception", "Year 3"."""
    if year is None:
        return None
    return "Reception" if year == 0 else f"Year {year}"


def check_objective_code(code: str, *, field: str = "code") -> str:
    """An objective's code as given: 1-100 printable characters with no whitespace at either
    end (spaces inside are allowed). Codes are compared exactly, case included."""
    if not isinstance(code, str) or not code:
        raise DomainError("code is empty", field=field)
    if len(code) > MAX_CODE_LENGTH:
        raise DomainError(
            f"code is {len(code)} characters: at most {MAX_CODE_LENGTH} allowed", field=field
        )
    if code != code.strip():
        raise DomainError("code starts or ends with whitespace", field=field)
    if not code.isprintable():
        raise DomainError("code contains a control or other non-printable character", field=field)
    return code


def check_statement(statement: str, *, field: str = "statement") -> str:
    """An objective's statement, trimmed: not blank, at most 2000 characters."""
    value = statement.strip() if isinstance(statement, str) else ""
    if not value:
        raise DomainError("statement is empty", field=field)
    if len(value) > MAX_STATEMENT_LENGTH:
        raise DomainError(
            f"statement is {len(value)} characters: at most {MAX_STATEMENT_LENGTH} allowed",
            field=field,
        )
    return value


def check_label(value: str | None, *, field: str) -> str | None:
    """A strand or sub-strand, trimmed; blank is None; at most 200 characters."""
    text = value.strip() if value else ""
    if not text:
        return None
    if len(text) > MAX_LABEL_LENGTH:
        raise DomainError(
            f"{field} is {len(text)} characters: at most {MAX_LABEL_LENGTH} allowed",
            field=field,
        )
    return text


def check_unique_codes(codes: Iterable[str]) -> list[tuple[int, int]]:
    """Every repeat of a code as (index of its first use, index of the repeat), in order of
    the repeats; empty when every code is unique. Codes are compared exactly."""
    first_seen: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    for index, code in enumerate(codes):
        first = first_seen.setdefault(code, index)
        if first != index:
            repeats.append((first, index))
    return repeats


def find_cycle(parents: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle in a child -> parents graph, as the nodes met going up from one of them
    (each parent of the one before, the first a parent of the last), or None if the graph is
    a forest-like DAG. Parents that are not keys are roots. Iterative, so deep chains are
    fine."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in parents:
        if state.get(start):
            continue
        path: list[str] = [start]
        position: dict[str, int] = {start: 0}
        pending: list[list[str]] = [list(parents.get(start, ()))]
        state[start] = 1
        while path:
            if not pending[-1]:
                node = path.pop()
                pending.pop()
                del position[node]
                state[node] = 2
                continue
            parent = pending[-1].pop()
            mark = state.get(parent)
            if mark == 1:
                return path[position[parent] :]
            if mark == 2:
                continue
            state[parent] = 1
            position[parent] = len(path)
            path.append(parent)
            pending.append(list(parents.get(parent, ())))
    return None


def depth_first(
    children: Mapping[str | None, Sequence[str]], root: str | None = None
) -> list[tuple[str, int]]:
    """The nodes under ``root`` (not ``root`` itself) in depth-first pre-order, each with its
    depth (1 for root's children): parents come before their children, and siblings keep the
    order given. ``children`` must describe a forest (see ``find_cycle``)."""
    order: list[tuple[str, int]] = []
    stack: list[tuple[str, int]] = [(node, 1) for node in reversed(children.get(root, ()))]
    while stack:
        node, depth = stack.pop()
        order.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(node, ())))
    return order
