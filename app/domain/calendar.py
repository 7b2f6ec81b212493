"""The English academic calendar.

An academic year runs from 1 September to 31 August and is named by the year it starts in:
2025 is "2025/26". Assessment points are dated moments within a year at which the school takes
stock; by default three, one at the end of each term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.domain.errors import DomainError

FIRST_YEAR = 2000
LAST_YEAR = 2099
_LABEL = re.compile(r"([0-9]{4})(?:/([0-9]{2}))?")


@dataclass(frozen=True, order=True, slots=True)
class AcademicYear:
    start_year: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.start_year <= LAST_YEAR:
            raise DomainError(
                f"academic year must start between {FIRST_YEAR} and {LAST_YEAR}",
                field="academic_year",
            )

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def starts_on(self) -> date:
        return date(self.start_year, 9, 1)

    @property
    def ends_on(self) -> date:
        return date(self.start_year + 1, 8, 31)

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def previous(self) -> AcademicYear:
        return AcademicYear(self.start_year - 1)

    @classmethod
    def containing(cls, day: date) -> AcademicYear:
        """The academic year a date falls in: September onwards belongs to the new year."""
        return cls(day.year if day.month >= 9 else day.year - 1)

    @classmethod
    def parse(cls, label: str) -> AcademicYear:
        """Read "2025/26" (or a bare start year, "2025")."""
        match = _LABEL.fullmatch(label)
        if not match:
            raise DomainError("academic year must look like 2025/26", field="academic_year")
        start = int(match.group(1))
        if match.group(2) is not None and (start + 1) % 100 != int(match.group(2)):
            raise DomainError(f"{label} is not a single academic year", field="academic_year")
        return cls(start)


@dataclass(frozen=True, slots=True)
class AssessmentPointPlan:
    code: str
    name: str
    position: int
    assessed_on: date


def default_assessment_points(year: AcademicYear) -> list[AssessmentPointPlan]:
    """The usual three data points: the last weeks of the autumn, spring and summer terms."""
    start, end = year.start_year, year.start_year + 1
    return [
        AssessmentPointPlan("AUT", "Autumn", 1, date(start, 12, 12)),
        AssessmentPointPlan("SPR", "Spring", 2, date(end, 3, 27)),
        AssessmentPointPlan("SUM", "Summer", 3, date(end, 7, 10)),
    ]


def check_assessment_date(year: AcademicYear, day: date) -> None:
    if not year.contains(day):
        raise DomainError(
            f"{day.isoformat()} is outside academic year {year.label} "
            f"({year.starts_on.isoformat()} to {year.ends_on.isoformat()})",
            field="assessed_on",
        )
