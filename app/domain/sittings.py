"""Score exports as providers write them: dates in the order the file states, and which of a
pupil's several sittings of a test to keep.

**Dates.** A file's dates are read in the order its mapping states:

- ``DD/MM/YYYY``: day first, as in the UK (the default). 04/03/2016 is 4 March 2016.
- ``MM/DD/YYYY``: month first, as US providers write. 03/04/2016 is 4 March 2016.
- ``YYYY-MM-DD``: ISO 8601 only.

ISO dates (2016-03-04) are read whatever the stated order, since they cannot be misread; "/",
"." and "-" all separate day, month and year, and the year has four digits (a two-digit year
could be in either century). A date that is not real in the stated order but would be in the
other one says so, since the likeliest mistake is a mapping stating the wrong order. A
sitting's date may carry a time of day (14:05, 2:05 PM, 14:05:31), which tells apart two
sittings on one day.

**Sittings.** A pupil who sat a test more than once has a row per sitting. What to keep:

- ``refuse`` (the default): a pupil has one row; every row after the first naming the same
  pupil is an error naming the first.
- ``latest``: the sitting with the latest date.
- ``highest``: the sitting with the highest score; among equal scores, the latest (when the
  mapping names a date column).

The sittings not kept are set aside, each with the reason and the row kept instead. Where
the rule cannot choose (two sittings both latest, or both highest and equally late) it takes
the first of them if they are the same result (a row exported twice), and otherwise refuses
every one of them, naming the others: guessing would store a result the school did not choose.
A sitting the rule needs to read (its date, its score) but cannot is refused.

**Ids.** A provider may pad an MIS id with zeros ("000123") and a spreadsheet drop them
("123" from "0123"): an id of digits only matches without regard to leading zeros, but only
where no two of the school's ids differ only in them (``ids_matching``).

Pure rules: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum


class DateFormat(StrEnum):
    """The order a file writes its dates in."""

    DAY_FIRST = "DD/MM/YYYY"
    MONTH_FIRST = "MM/DD/YYYY"
    ISO = "YYYY-MM-DD"


class KeepSitting(StrEnum):
    """Which of a pupil's several sittings to keep."""

    REFUSE = "refuse"
    LATEST = "latest"
    HIGHEST = "highest"


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ORDERED = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_TWO_DIGIT_YEAR = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?")
_EXAMPLES = {
    DateFormat.DAY_FIRST: "2016-03-04 or 04/03/2016",
    DateFormat.MONTH_FIRST: "2016-03-04 or 03/04/2016",
    DateFormat.ISO: "2016-03-04",
}


def parse_moment(text: str, date_format: DateFormat = DateFormat.DAY_FIRST) -> datetime:
    """A date, with the time of day if written (else midnight), in the stated order: see the
    module's docstring. Raises ValueError with the reason, in words for a teacher."""
    cleaned = " ".join(text.split())
    day_part, _, time_part = cleaned.replace("T", " ", 1).partition(" ")
    day = _parse_day(day_part, date_format, whole=cleaned)
    if not time_part:
        return datetime.combine(day, time(0))
    return datetime.combine(day, _parse_time(time_part, whole=cleaned))


def parse_date(text: str, date_format: DateFormat = DateFormat.DAY_FIRST) -> date:
    """A date in the stated order; a time of day is allowed only at midnight (as spreadsheets
    write a date as a date-time). Raises ValueError with the reason."""
    moment = parse_moment(text, date_format)
    if moment.time() != time(0):
        raise ValueError(f"{text.strip()!r} is a date and a time: write only the date")
    return moment.date()


def _parse_day(text: str, date_format: DateFormat, *, whole: str) -> date:
    shown = whole
    if match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return _real(year, month, day, shown)
    match = _ORDERED.fullmatch(text)
    if match is None or date_format is DateFormat.ISO:
        if _TWO_DIGIT_YEAR.fullmatch(text):
            raise ValueError(f"{shown!r} is not a date: its year has two digits, write it in full")
        raise ValueError(f"{shown!r} is not a date: write it as {_EXAMPLES[date_format]}")
    first, _, second, year_text = match.groups()
    year = int(year_text)
    if date_format is DateFormat.DAY_FIRST:
        day, month, other = int(first), int(second), DateFormat.MONTH_FIRST
    else:
        month, day, other = int(first), int(second), DateFormat.DAY_FIRST
    try:
        return date(year, month, day)
    except ValueError:
        pass
    swapped = (year, day, month)
    try:
        date(*swapped)
    except ValueError:
        raise ValueError(f"{shown!r} is not a real date") from None
    order = "day first" if date_format is DateFormat.DAY_FIRST else "month first"
    raise ValueError(
        f"{shown!r} is not a real date read {order} ({date_format.value}); if the file writes "
        f"dates {'month' if order == 'day first' else 'day'} first, set the mapping's "
        f"date_format to {other.value}"
    )


def _real(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{shown!r} is not a real date") from None


def _parse_time(text: str, *, whole: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"{whole!r} is not a date (and time of day)")
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    if meridiem := match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(f"{whole!r} is not a real time of day")
        hour = hour % 12 + (12 if meridiem in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{whole!r} is not a real time of day")
    return time(hour, minute, second)


# --- Sittings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sitting:
    """One row naming a pupil: its row number, what the rule reads of it (its date, its score;
    None where the row has none or it could not be read) and its results (the values it
    would store, to tell a row exported twice from two different sittings)."""

    row: int
    when: datetime | None = None
    score: Decimal | None = None
    results: Hashable = None


@dataclass(frozen=True, slots=True)
class SetAside:
    """A sitting not kept: the row kept instead, and why."""

    taken: int
    reason: str


@dataclass(frozen=True)
class Choice:
    """The rule's answer for one pupil's sittings: the row kept (None if none could be),
    the rows set aside and why, and the rows refused and why."""

    taken: int | None
    set_aside: dict[int, SetAside] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


def _shown_when(moment: datetime) -> str:
    return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat(" ")


def _rows(numbers: Sequence[int]) -> str:
    listed = [str(number) for number in numbers]
    if len(listed) == 1:
        return f"row {listed[0]}"
    return "rows " + ", ".join(listed[:-1]) + " and " + listed[-1]


def choose_sitting(
    sittings: Sequence[Sitting],
    keep: KeepSitting,
    *,
    date_column: str | None = None,
    score_column: str | None = None,
) -> Choice:
    """Which of one pupil's sittings (in file order, at least one) to keep, by ``keep``:
    see the module's docstring. ``date_column`` and ``score_column`` name the columns read,
    for the reasons given."""
    if not sittings:
        raise ValueError("a pupil with no sittings")
    first = sittings[0]
    if len(sittings) == 1:
        return Choice(taken=first.row)
    if keep is KeepSitting.REFUSE:
        hint = "give each pupil one row, or say in the mapping's sittings which to keep"
        return Choice(
            taken=first.row,
            refused={
                sitting.row: f"the same pupil as row {first.row}: {hint}"
                for sitting in sittings[1:]
            },
        )
    dated = f"the date in column {date_column!r}" if date_column else "a date"
    scored = f"the score in column {score_column!r}" if score_column else "a score"
    if keep is KeepSitting.LATEST:
        unread = {
            sitting.row: f"this pupil sat the test more than once: each sitting needs {dated}, "
            "to tell which is the latest"
            for sitting in sittings
            if sitting.when is None
        }
        if unread:
            return Choice(taken=None, refused=unread)
        order = [(sitting.when,) for sitting in sittings]
    else:
        unread = {
            sitting.row: f"this pupil sat the test more than once: each sitting needs {scored}, "
            "to tell which is the highest"
            for sitting in sittings
            if sitting.score is None
        }
        if unread:
            return Choice(taken=None, refused=unread)
        # Equal scores go to the later sitting, where every sitting is dated.
        by_date = date_column is not None and all(s.when is not None for s in sittings)
        order = [(sitting.score, sitting.when if by_date else None) for sitting in sittings]
    best_key = max(order, key=_sort_key)
    best = [sitting for sitting, key in zip(sittings, order, strict=True) if key == best_key]
    chosen = best[0]
    if len(best) > 1 and len({sitting.results for sitting in best}) > 1:
        refused = {}
        for sitting in best:
            others = [other.row for other in best if other is not sitting]
            what = (
                f"as late ({_shown_when(sitting.when)})"
                if keep is KeepSitting.LATEST and sitting.when is not None
                else "as high"
            )
            refused[sitting.row] = (
                f"this pupil's sitting in {_rows(others)} is {what} with different results: "
                "keep only the sitting to store"
            )
        return Choice(taken=None, refused=refused)
    set_aside = {}
    for sitting in sittings:
        if sitting is chosen:
            continue
        if sitting in best:
            reason = f"the same results as row {chosen.row}"
        elif keep is KeepSitting.LATEST:
            assert sitting.when is not None and chosen.when is not None
            reason = (
                f"an earlier sitting ({_shown_when(sitting.when)}): row {chosen.row} "
                f"({_shown_when(chosen.when)}) is the latest"
            )
        else:
            assert sitting.score is not None and chosen.score is not None
            if sitting.score == chosen.score and sitting.when is not None:
                assert chosen.when is not None
                reason = (
                    f"an equal score from an earlier sitting ({_shown_when(sitting.when)}): "
                    f"row {chosen.row} ({_shown_when(chosen.when)}) is the latest of the highest"
                )
            else:
                reason = (
                    f"a lower score ({_number(sitting.score)}): row {chosen.row} "
                    f"({_number(chosen.score)}) is the highest"
                )
        set_aside[sitting.row] = SetAside(taken=chosen.row, reason=reason)
    return Choice(taken=chosen.row, set_aside=set_aside)


def _sort_key(key: tuple[object, ...]) -> tuple[object, ...]:
    # None (an undated sitting when dates do not decide) sorts as the same as any other None.
    return tuple((0, datetime.min) if part is None else (1, part) for part in key)


def _number(score: Decimal) -> str:
    return format(score.normalize(), "f") if score == score.to_integral() else str(score)


# --- Ids -------------------------------------------------------------------------------------


def ids_matching(key: str, stored: Iterable[str]) -> list[str]:
    """The stored MIS ids a file's id names, in ``stored``'s order. An id of digits only names
    every all-digit id equal to it without leading zeros ("000123" names "123" and "0123");
    any other id names only itself. One match is the pupil; more than one is ambiguous (the
    school's ids differ only in leading zeros, so a padded or unpadded file cannot say which)
    and must be refused, even where one of them is written exactly as the file has it."""
    number = digits_key(key)
    if number is None:
        return [candidate for candidate in stored if candidate == key]
    return [candidate for candidate in stored if digits_key(candidate) == number]


def digits_key(key: str) -> str | None:
    """An all-digit id without its leading zeros ("000123" -> "123", "000" -> "0"), for
    matching ids one system pads and another does not; None for an id that is not all
    (ASCII) digits, which is matched only as written."""
    if not key or not key.isascii() or not key.isdigit():
        return None
    return key.lstrip("0") or "0"
