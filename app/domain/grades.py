"""Grades as files write them (OneRoster ``grades``, CASE ``educationLevel``) to England's
National Curriculum year groups: pure rules, property-tested.

Files from US-built systems name grades by CEDS codes (IT, PR, PK, TK, KG, 01-13, PS, UG,
Other); English exports often write the year group itself (R, N2, 7, Y7, Year 7). Which
year a grade number means depends on who wrote the file, so the mapping is an option of the
import:

``england`` (the default): the grade's number is the year group's (grade 07 is Year 7), as
English MIS exports fill the field. KG and TK are Reception, PK is N2, PR and IT are N1.

``us_age``: a US grade is the England year of pupils of the same age, one more than its
number (grade 07 is Year 8, grade 12 Year 13, grade 13 none); KG is Year 1, PK and TK are
Reception, PR is N2 and IT N1.

In both, England's own names (R, N1, N2, "Y7", "Year 7") mean themselves. PS (post-secondary),
UG (ungraded), Other, and anything else have no year group: ``year_group_for`` answers None
and the caller decides (a roster row is refused naming the grade).
"""

from __future__ import annotations

import re
from enum import StrEnum

from app.domain.pupils import YearGroup


class GradeMapping(StrEnum):
    ENGLAND = "england"
    US_AGE = "us_age"


DEFAULT_GRADE_MAPPING = GradeMapping.ENGLAND

# CEDS codes below grade 1, by mapping.
_EARLY: dict[GradeMapping, dict[str, YearGroup]] = {
    GradeMapping.ENGLAND: {
        "IT": YearGroup.N1,
        "PR": YearGroup.N1,
        "PK": YearGroup.N2,
        "TK": YearGroup.R,
        "KG": YearGroup.R,
    },
    GradeMapping.US_AGE: {
        "IT": YearGroup.N1,
        "PR": YearGroup.N2,
        "PK": YearGroup.R,
        "TK": YearGroup.R,
        "KG": YearGroup.Y1,
    },
}
# England's own names, the same whatever the mapping.
_ENGLISH_NAMES = {"R": YearGroup.R, "N1": YearGroup.N1, "N2": YearGroup.N2}
_ENGLISH_YEAR = re.compile(r"(?:YEAR|Y)\s*0*([0-9]{1,2})")
_NUMBER = re.compile(r"0*([0-9]{1,2})")
_BY_NUMBER = {int(group.value): group for group in YearGroup if group.value.isdigit()}
_OFFSET = {GradeMapping.ENGLAND: 0, GradeMapping.US_AGE: 1}


def year_group_for(grade: str, mapping: GradeMapping = DEFAULT_GRADE_MAPPING) -> YearGroup | None:
    """The NC year group a grade names under ``mapping``, or None if it names none."""
    text = grade.strip().upper()
    if not text:
        return None
    if early := _EARLY[mapping].get(text):
        return early
    if named := _ENGLISH_NAMES.get(text):
        return named
    if match := _ENGLISH_YEAR.fullmatch(text):
        return _BY_NUMBER.get(int(match.group(1)))
    if match := _NUMBER.fullmatch(text):
        number = int(match.group(1))
        if number == 0:
            return None
        return _BY_NUMBER.get(number + _OFFSET[mapping])
    return None


def curriculum_year_for(grade: str, mapping: GradeMapping = DEFAULT_GRADE_MAPPING) -> int | None:
    """The curriculum year (reception 0, then 1-13) a grade names, or None: nursery has no
    curriculum year."""
    group = year_group_for(grade, mapping)
    if group is None or group.rank < 0:
        return None
    return group.rank
