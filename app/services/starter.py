"""The England primary starter pack: one call gives a school an editable setup to begin with.

Everything is created as the school's own, so the school can rename, reorder and extend it.
Applying the pack again creates nothing twice: each part is matched by its code or name and
left alone if the school already has it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.curriculum import (
    FrameworkCreate,
    MeasureCreate,
    ObjectiveIn,
    ScaleCreate,
    SubjectCreate,
)
from app.auth.policy import Action, Reach, Resource, require
from app.auth.principal import Principal
from app.db.curriculum import Framework, Measure, Scale, Subject
from app.db.queries import curriculum as queries
from app.db.queries import tenancy as tenancy_queries
from app.domain.calendar import AcademicYear, default_assessment_points
from app.importers.objectives import parse_objectives_csv
from app.services import curriculum, tenancy
from app.starter import NATIONAL_CURRICULUM_ATTRIBUTION, national_curriculum_files

SUBJECTS = (("English", "EN", 1), ("Mathematics", "MA", 2), ("Science", "SC", 3))
NC_SUBJECT_CODES = {"english": "EN", "mathematics": "MA", "science": "SC"}
NC_SOURCE = "National Curriculum (England, 2014)"

DEPTH_SCALE: dict[str, Any] = {
    "name": "Depth of learning",
    "kind": "depth",
    "description": "How securely a pupil has learnt an objective.",
    "secure_from": "S",
    "descriptors": [
        {"code": "B", "label": "Beginning", "value": 1, "colour": "#D1495B"},
        {"code": "D", "label": "Developing", "value": 2, "colour": "#EDAE49"},
        {"code": "S", "label": "Secure", "value": 3, "colour": "#66A182"},
        {"code": "G", "label": "Greater depth", "value": 4, "colour": "#2E4057"},
    ],
}
ATTAINMENT_SCALE: dict[str, Any] = {
    "name": "Teacher assessment",
    "kind": "attainment",
    "description": "Where a pupil is against the expected standard for their year.",
    "descriptors": [
        {"code": "BLW", "label": "Below", "value": 0, "band": "below", "colour": "#8C2F39"},
        {
            "code": "WTS",
            "label": "Working towards",
            "value": 1,
            "band": "below",
            "colour": "#D1495B",
        },
        {
            "code": "EXS",
            "label": "Expected standard",
            "value": 2,
            "band": "at",
            "colour": "#66A182",
        },
        {"code": "GDS", "label": "Greater depth", "value": 3, "band": "above", "colour": "#2E4057"},
    ],
}


def _number(
    code: str,
    name: str,
    subject: str | None,
    low: int,
    high: int,
    expected: int | None = None,
    above: int | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": "number",
        "subject": subject,
        "minimum": Decimal(low),
        "maximum": Decimal(high),
        "decimals": 0,
        "expected_from": None if expected is None else Decimal(expected),
        "above_from": None if above is None else Decimal(above),
    }


# Teacher assessments are made against the curriculum a pupil works within: they record it.
_TA = {"kind": "scale", "records_working_year": True}
MEASURES: tuple[dict[str, Any], ...] = (
    {"code": "READ-TA", "name": "Reading teacher assessment", "subject": "EN", **_TA},
    {"code": "WRIT-TA", "name": "Writing teacher assessment", "subject": "EN", **_TA},
    {"code": "MATH-TA", "name": "Maths teacher assessment", "subject": "MA", **_TA},
    # KS2 scaled scores run 80-120: 100 is the expected standard, 110 the high score.
    _number("KS2-READ", "KS2 reading scaled score", "EN", 80, 120, 100, 110),
    _number(
        "KS2-GPS", "KS2 grammar, punctuation and spelling scaled score", "EN", 80, 120, 100, 110
    ),
    _number("KS2-MATH", "KS2 maths scaled score", "MA", 80, 120, 100, 110),
    # Standardised scores: 100 is average; 85-115 is the usual average band.
    _number("STD-READ", "Standardised score: reading", "EN", 70, 141, 85, 115),
    _number("STD-MATH", "Standardised score: maths", "MA", 70, 141, 85, 115),
    # Phonics screening check: out of 40; the threshold has been 32 every year since 2012.
    _number("PHONICS", "Phonics screening check", "EN", 0, 40, 32),
    _number("MTC", "Multiplication tables check", "MA", 0, 25),
)


@dataclass
class PackResult:
    created: dict[str, int]
    already_there: dict[str, int]

    def count(self, part: str, created: bool) -> None:
        bucket = self.created if created else self.already_there
        bucket[part] = bucket.get(part, 0) + 1


async def _existing(session: AsyncSession, model: Any, school_id: uuid.UUID) -> list[Any]:
    """What the school already owns (its trust's shared definitions are not the school's own
    editable copy, so they do not count)."""
    page = await queries.list_owned(
        session,
        Reach(school_ids=frozenset({school_id})),
        model,
        school_id=school_id,
        trust_id=None,
        filters={},
        updated_since=None,
        cursor=None,
        limit=1000,
    )
    return page.items


async def apply_starter_pack(
    session: AsyncSession, *, principal: Principal, school_id: uuid.UUID, today: date | None = None
) -> PackResult:
    """Give a school the England primary setup: subjects (English, mathematics, science), a
    four-step depth scale secure from "Secure", a teacher-assessment scale with bands,
    teacher-assessment measures for reading, writing and maths, KS2 scaled scores,
    standardised scores, the phonics check (0-40) and the multiplication tables check (0-25),
    the Autumn/Spring/Summer calendar for this academic year, and the national curriculum
    frameworks for English, mathematics and science."""
    require(principal, Resource.DEFINITION, Action.WRITE, school_id=school_id, what="school")
    result = PackResult(created={}, already_there={})
    owner = {"school_id": school_id}

    subjects = {s.code: s for s in await _existing(session, Subject, school_id)}
    for name, code, position in SUBJECTS:
        created = code not in subjects
        if created:
            subjects[code] = await curriculum.create_subject(
                session,
                principal=principal,
                subject_in=SubjectCreate(name=name, code=code, position=position, **owner),
            )
        result.count("subjects", created)
    scales = {s.name: s for s in await _existing(session, Scale, school_id)}
    for spec in (DEPTH_SCALE, ATTAINMENT_SCALE):
        created = spec["name"] not in scales
        if created:
            scales[spec["name"]], _ = await curriculum.create_scale(
                session,
                principal=principal,
                scale_in=ScaleCreate.model_validate({**spec, **owner}),
            )
        result.count("scales", created)
    attainment = scales[ATTAINMENT_SCALE["name"]]
    measures = {m.code for m in await _existing(session, Measure, school_id)}
    for spec in MEASURES:
        created = spec["code"] not in measures
        if created:
            values = {k: v for k, v in spec.items() if k != "subject"}
            if spec["kind"] == "scale":
                values["scale_id"] = attainment.id
            values["subject_id"] = subjects[spec["subject"]].id
            await curriculum.create_measure(
                session,
                principal=principal,
                measure_in=MeasureCreate.model_validate({**values, **owner}),
            )
        result.count("measures", created)

    year = AcademicYear.containing(today or date.today())
    had = await tenancy_queries.assessment_point_codes(session, school_id, year.start_year)
    await tenancy.apply_default_calendar(
        session, principal=principal, school_id=school_id, academic_year=year.start_year
    )
    for plan in default_assessment_points(year):
        result.count("assessment_points", plan.code not in had)

    frameworks = {f.name for f in await _existing(session, Framework, school_id)}
    for stem, path in national_curriculum_files().items():
        parsed = parse_objectives_csv(path.read_bytes(), filename=path.name)
        name = f"National Curriculum: {parsed.subject or stem.title()}"
        created = name not in frameworks
        if created:
            framework = await curriculum.create_framework(
                session,
                principal=principal,
                framework_in=FrameworkCreate(
                    name=name,
                    source=NC_SOURCE,
                    description=NATIONAL_CURRICULUM_ATTRIBUTION,
                    subject_id=subjects[NC_SUBJECT_CODES[stem]].id,
                    scale_id=scales[DEPTH_SCALE["name"]].id,
                    **owner,
                ),
            )
            await curriculum.put_objectives(
                session,
                principal=principal,
                framework_id=framework.id,
                replace=True,
                objectives=[
                    ObjectiveIn.model_validate(
                        {
                            k: o[k]
                            for k in (
                                "code",
                                "statement",
                                "curriculum_years",
                                "strand",
                                "sub_strand",
                                "is_key",
                            )
                        }
                    )
                    for o in parsed.objectives
                ],
            )
        result.count("frameworks", created)
    return result
