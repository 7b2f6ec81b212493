"""Whether a pupil is on track, as their page says it: in words, second to what they do well
and what comes next.

The rule is the school's attainment rule of the reports (app.domain.reports): the school
names one of its report templates (``on_track_template``, by code: its own, else its trust's)
and that template's attainment rule per subject decides, as the template's report would place
the pupil: a scale measure's descriptor band (teacher assessment "Working at" = at), a number
measure's expected / above thresholds, or % secured of the year's curriculum. Pupils working
within an earlier year's curriculum are their own category unless the template places them by
their working curriculum (``out_of_year``): never an automatic "below".

"Now" is the assessment point the school is working towards: the first of the academic year
dated today or later (its figures count every judgement made so far), else the year's last.
A rule the template sets for one of its points applies where that point is this one; else the
subject's rule for every point. A subject with no rule has no on-track line.

The page says it in the school's words, or these: above "Working beyond", at "On track",
below "Working towards", an earlier year's curriculum "Working on their own curriculum", not
assessed "Not assessed yet". No category's code or a number is shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from app.domain.errors import DomainError
from app.domain.pupils import check_plain_text
from app.domain.reports import (
    AttainmentRule,
    Category,
    Dimension,
    KnownPoint,
    Metric,
    MetricSpec,
    PointSpec,
    ReportDefinition,
)

MAX_WORDS_LENGTH = 60

DEFAULT_WORDS: dict[Category, str] = {
    Category.ABOVE: "Working beyond",
    Category.AT: "On track",
    Category.BELOW: "Working towards",
    Category.EARLIER_CURRICULUM: "Working on their own curriculum",
    Category.NOT_ASSESSED: "Not assessed yet",
}


def check_words(raw: Mapping[str, Any], *, field: str = "on_track_words") -> dict[str, str]:
    """A school's own words for the categories, as stored: only categories' names as keys,
    each 1-60 characters on one line with no control or bidirectional characters. Categories
    left out keep the default words."""
    found: dict[str, str] = {}
    for key, value in raw.items():
        where = f"{field}.{key}"
        if key not in {c.value for c in Category}:
            raise DomainError(
                f"unknown category: use {', '.join(c.value for c in Category)}", field=where
            )
        if value is None:
            continue
        if not isinstance(value, str):
            raise DomainError("must be words", field=where)
        words = check_plain_text(value, field=where, what="the on-track words").strip()
        if not words:
            raise DomainError("the words are empty", field=where)
        if len(words) > MAX_WORDS_LENGTH:
            raise DomainError(f"at most {MAX_WORDS_LENGTH} characters", field=where)
        found[key] = words
    return found


def words_for(category: Category, school_words: Mapping[str, str] | None) -> str:
    """The words a page shows for a category: the school's, else the default."""
    return (school_words or {}).get(category.value) or DEFAULT_WORDS[category]


def current_point(
    points: Iterable[KnownPoint], *, academic_year: int, today: date
) -> KnownPoint | None:
    """The point a page reads as "now" in an academic year: the first dated today or later,
    else the year's last (a year gone by); None if the school has no point that year."""
    of_year = sorted(
        (p for p in points if p.academic_year == academic_year),
        key=lambda p: (p.assessed_on, p.position),
    )
    upcoming = [p for p in of_year if p.assessed_on >= today]
    if upcoming:
        return upcoming[0]
    return of_year[-1] if of_year else None


def on_track_definition(
    template: ReportDefinition, *, point_code: str, here: Iterable[int], academic_year: int
) -> ReportDefinition | None:
    """The report that places a pupil for their page: the template's attainment rule per
    subject at one point (``point_code``; ``here``: the template's point indexes that mean
    it), its choice for out-of-year pupils, one column. None if the template has no rule."""
    indexes = set(here)
    by_subject: dict[str, AttainmentRule] = {}
    for rule in template.attainment:
        if rule.point is None:
            by_subject.setdefault(rule.subject, rule)
    for rule in template.attainment:
        if rule.point is not None and rule.point in indexes:
            by_subject[rule.subject] = rule
    if not by_subject:
        return None
    return ReportDefinition(
        metrics=(MetricSpec(Metric.ATTAINMENT),),
        dimensions=(Dimension.SUBJECT,),
        points=(PointSpec(code=point_code),),
        attainment=tuple(dataclasses.replace(r, point=None) for r in by_subject.values()),
        academic_year=academic_year,
        out_of_year=template.out_of_year,
        title="On track",
    )
