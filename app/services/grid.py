"""The markbook grid, read: a class's (or some pupils') judgements in a subject, as they stand
now or as at a date, with each pupil's working curriculum year and the objectives of those
years.

A grid read carries the highest version among its pupils' cells in the subject (and their
working years), which is also its ETag: a write sent with it as ``If-Match`` is refused if
any of those cells has changed since (app.services.cells).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import school_to_read
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.curriculum import Subject
from app.db.queries import definitions, roster
from app.db.queries import grid as queries
from app.db.queries.working_years import set_working_years
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.curriculum import year_label
from app.domain.markbook import descriptor_values, working_years
from app.domain.schools import school_uses
from app.errors import InvalidInput
from app.services.working_years import MAX_LISTED_ERRORS, parse_curriculum_year


def _name(pupil: Any) -> str:
    forename = pupil.preferred_forename or pupil.legal_forename
    surname = pupil.preferred_surname or pupil.legal_surname
    return f"{forename} {surname}"


async def _subject_of(session: AsyncSession, school: School, subject_id: uuid.UUID) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or not school_uses(school, subject):
        raise InvalidInput.at("query.subject_id", "no such subject for this school")
    return subject


async def read_grid(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    class_id: uuid.UUID | None = None,
    pupil_ids: Sequence[uuid.UUID] = (),
    subject_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
    curriculum_year: str | None = None,
    as_at: date | None = None,
) -> dict[str, Any]:
    """The grid of a class (or of the pupils named) in a subject (or one framework of it), as
    the ``Grid`` model describes it (built as plain data: a class grid has over a thousand
    cells).

    Each pupil is shown against the objectives of their working curriculum year in the
    subject (``curriculum_year`` shows one year's objectives to all). Cells hold what stands
    now, or as at ``as_at``: the latest judgement assessed on or before that date. Teachers
    see the pupils they teach; a class's other pupils are left out.
    """
    access = await school_to_read(session, principal, Resource.JUDGEMENT, school_id)
    school = access.school
    if (class_id is None) == (not pupil_ids):
        raise InvalidInput.at("query.class_id", "give class_id or pupil_id, not both")
    if (subject_id is None) == (framework_id is None):
        raise InvalidInput.at("query.subject_id", "give subject_id or framework_id, not both")
    wanted_year = (
        None
        if curriculum_year is None
        else parse_curriculum_year(curriculum_year, "query.curriculum_year")
    )
    today = date.today()
    if as_at is not None and as_at > today:
        raise InvalidInput.at("query.as_at", "cannot be in the future")
    if class_id is not None:
        class_ = await roster.get_class(session, class_id)
        if class_ is None or class_.school_id != school.id:
            raise InvalidInput.at("query.class_id", "no such class in this school")
        academic_year = class_.academic_year
    else:
        academic_year = AcademicYear.containing(as_at or today).start_year
    if framework_id is not None:
        subject_id = await definitions.subject_of_framework(session, school, framework_id)
        if subject_id is None:
            raise InvalidInput.at("query.framework_id", "no such framework for this school")
    assert subject_id is not None

    pupils = await queries.grid_pupils(
        session,
        access.read,
        school.id,
        class_id=class_id,
        pupil_ids=pupil_ids or None,
        academic_year=academic_year,
    )
    if pupil_ids:
        found = {p.id for p in pupils}
        errors = [
            {"field": f"query.pupil_id.{index}", "reason": "no such pupil among those you see"}
            for index, pupil_id in enumerate(pupil_ids)
            if pupil_id not in found
        ]
        if errors:
            raise InvalidInput.of(errors[:MAX_LISTED_ERRORS], total=len(errors))
    ids = [p.id for p in pupils]
    chosen = await set_working_years(session, academic_year, ids, [subject_id])
    groups = {p.id: p.year_group for p in pupils if p.year_group is not None}
    years = working_years(chosen, groups, ids, [subject_id])
    shown = (
        {wanted_year}
        if wanted_year is not None
        else {v.curriculum_year for v in years.values() if v.curriculum_year is not None}
    )
    columns = await queries.grid_columns(
        session, school, subject_id=subject_id, framework_id=framework_id, years=shown
    )
    if not columns and framework_id is None:
        await _subject_of(session, school, subject_id)
    objectives = [c for c in columns if c.id is not None]
    objective_ids = {o.id for o in objectives}
    states = await queries.current_cells(session, ids, [subject_id])
    version = max([s["version"] for s in states] + [w.version for w in chosen.values()] or [0])
    cells = (
        [s for s in states if s["objective_id"] in objective_ids]
        if as_at is None
        else await queries.cells_as_at(session, ids, objective_ids, as_at)
    )
    frameworks = {c.framework_id: c for c in columns}
    scales, descriptors = await definitions.scale_descriptors(
        session, {f.scale_id for f in frameworks.values() if f.scale_id is not None}
    )
    values = descriptor_values(scales, descriptors)
    code = {d.id: d.code for d in descriptors}
    return {
        "school_id": school.id,
        "subject_id": subject_id,
        "academic_year": academic_year,
        "curriculum_year": year_label(wanted_year),
        "as_at": as_at,
        "version": version,
        "frameworks": [
            {"id": f.framework_id, "name": f.framework_name, "scale_id": f.scale_id}
            for f in frameworks.values()
        ],
        "scales": [
            {
                "id": scale.id,
                "name": scale.name,
                "secure_from": scale.secure_from,
                "descriptors": [
                    {
                        "id": d.id,
                        "code": d.code,
                        "label": d.label,
                        "value": d.value,
                        "band": d.band,
                        "colour": d.colour,
                        "secure": values[d.id].secure,
                    }
                    for d in descriptors
                    if d.scale_id == scale.id and not d.archived
                ],
            }
            for scale in scales
        ],
        "objectives": [
            {
                "id": o.id,
                "framework_id": o.framework_id,
                "code": o.code,
                "statement": o.statement,
                "curriculum_years": o.curriculum_years,
                "strand": o.strand,
                "sub_strand": o.sub_strand,
                "is_key": o.is_key,
            }
            for o in objectives
        ],
        "pupils": [
            {
                "id": p.id,
                "name": _name(p),
                "year_group": p.year_group,
                "working_year": year_label(years[p.id, subject_id].curriculum_year),
                "working_year_set": years[p.id, subject_id].is_set,
            }
            for p in pupils
        ],
        "cells": [cell_read(row, code) for row in cells],
    }


def cell_read(row: Mapping[str, Any], code: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    """A cell (a mapping of its stored columns) as ``CellRead`` describes it. Ids are turned
    into text here: asyncpg's UUIDs are not the standard library's, and serialising them is
    four times slower."""
    descriptor_id = row["descriptor_id"]
    return {
        "pupil_id": str(row["pupil_id"]),
        "objective_id": str(row["objective_id"]),
        "descriptor": None if descriptor_id is None else code.get(descriptor_id),
        "assessed_on": row["assessed_on"],
        "recorded_at": row["recorded_at"],
        "recorded_by": str(row["recorded_by"]),
        "note": row["note"],
    }
