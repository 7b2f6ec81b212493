"""Definitions to aim requests at: for one owner (a trust, shared by its schools, or one school),
a subject, a depth scale with descriptors, a number measure and a framework with two objectives.

Made straight in the database (as the roster objects of tests/support/roster.py are), so that
tests of the routes do not depend on the routes that create them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.reports import ReportTemplate, ReportTemplateVersion

# code, label, value, band: a depth scale whose secure point is "EXS".
DEPTH_DESCRIPTORS = (
    ("WT", "Working towards", Decimal(1), "below"),
    ("EXS", "Expected", Decimal(2), "at"),
    ("GDS", "Greater depth", Decimal(3), "above"),
)


@dataclass
class Definitions:
    subject: Subject
    scale: Scale
    descriptors: list[Descriptor]
    measure: Measure
    framework: Framework
    objectives: list[Objective]


async def add_definitions(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
) -> Definitions:
    """One owner's definitions (give exactly one of ``trust_id`` and ``school_id``).
    Flushed, not committed."""
    assert (trust_id is None) != (school_id is None), "give exactly one owner"
    owner = {"trust_id": trust_id, "school_id": school_id}
    subject = Subject(name="Mathematics", code="MA", **owner)
    scale = Scale(name="Depth of learning", kind="depth", secure_from="EXS", **owner)
    session.add_all([subject, scale])
    await session.flush()
    descriptors = [
        Descriptor(
            scale_id=scale.id, code=code, label=label, value=value, band=band, position=position
        )
        for position, (code, label, value, band) in enumerate(DEPTH_DESCRIPTORS, start=1)
    ]
    measure = Measure(
        name="KS2 maths scaled score",
        code="KS2-MA-SS",
        kind="number",
        subject_id=subject.id,
        minimum=Decimal(80),
        maximum=Decimal(120),
        decimals=0,
        expected_from=Decimal(100),
        above_from=Decimal(110),
        **owner,
    )
    framework = Framework(
        name="Mathematics (NC 2014)", subject_id=subject.id, scale_id=scale.id, **owner
    )
    session.add_all([*descriptors, measure, framework])
    await session.flush()
    objectives = [
        Objective(
            framework_id=framework.id,
            code=code,
            statement=statement,
            curriculum_years="4",
            year_from=4,
            year_to=4,
            position=position,
        )
        for position, (code, statement) in enumerate(
            [
                ("MA4-N1", "Count in multiples of 6, 7, 9, 25 and 1000."),
                ("MA4-N2", "Find 1000 more or less than a given number."),
            ],
            start=1,
        )
    ]
    session.add_all(objectives)
    await session.flush()
    return Definitions(subject, scale, descriptors, measure, framework, objectives)


# Pupils counted by subject at the world's autumn point (academic year 2025).
PUPILS_AT_AUTUMN: dict[str, object] = {
    "metrics": [{"metric": "pupils"}],
    "dimensions": ["subject"],
    "points": [{"code": "AUT"}],
    "academic_year": 2025,
}


async def add_template(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
) -> ReportTemplate:
    """A report template of one owner (version 1, stored with its version). Flushed."""
    template = ReportTemplate(
        trust_id=trust_id,
        school_id=school_id,
        code="PUPILS",
        name="Pupils at autumn",
        definition=PUPILS_AT_AUTUMN,
    )
    session.add(template)
    await session.flush()
    session.add(
        ReportTemplateVersion(
            template_id=template.id,
            version=1,
            name=template.name,
            definition=template.definition,
            saved_at=utcnow(),
        )
    )
    await session.flush()
    return template


# Framework files of one objective each, for the import routes.
OBJECTIVES_CSV = (
    b"subject,curriculum_year,strand,sub_strand,code,statement\r\n"
    b"Mathematics,4,Number,Fractions,MA4-F1,Add fractions with the same denominator.\r\n"
)
CASE_PACKAGE = json.dumps(
    {
        "CFDocument": {"identifier": "doc-1", "title": "Trust maths", "creator": "Trust A"},
        "CFItems": [
            {"identifier": "item-1", "fullStatement": "Add fractions.", "humanCodingScheme": "F1"}
        ],
    }
).encode()
