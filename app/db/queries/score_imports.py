"""Reads for score imports: the school's pupils by a key, measures and the point named."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.auth.policy import Reach
from app.db.curriculum import Measure
from app.db.queries.reach import pupils_within
from app.db.roster import Pupil
from app.db.tenancy import AssessmentPoint

_CHUNK = 5_000


class PupilKeys(SQLModel):
    """What a pupil is matched by."""

    id: uuid.UUID
    upn: str | None
    external_id: str | None
    legal_forename: str
    legal_surname: str
    preferred_forename: str | None
    preferred_surname: str | None
    date_of_birth: date | None


def _pupil_columns() -> list[sa.ColumnElement[object]]:
    return [col(getattr(Pupil, name)) for name in PupilKeys.model_fields]


async def pupils_by(
    session: AsyncSession,
    *,
    reach: Reach,
    school_id: uuid.UUID,
    key: Literal["upn", "external_id", "date_of_birth"],
    values: Collection[str | date],
) -> list[PupilKeys]:
    """The school's pupils within ``reach`` whose ``key`` is one of ``values``: one statement
    per 5,000 values."""
    found: list[PupilKeys] = []
    wanted = list(set(values))
    column = col(getattr(Pupil, key))
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            sa.select(*_pupil_columns()).where(
                col(Pupil.school_id) == school_id,
                column.in_(wanted[start : start + _CHUNK]),
                pupils_within(
                    reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)
                ),
            )
        )
        found.extend(PupilKeys.model_validate(dict(row)) for row in rows.mappings())
    return found


async def pupils_by_digits(
    session: AsyncSession,
    *,
    reach: Reach,
    school_id: uuid.UUID,
    digits: Collection[str],
) -> list[tuple[PupilKeys, bool]]:
    """The school's pupils (within ``reach`` or not: each with whether it is) whose external
    id, leading zeros dropped, is one of ``digits`` (all-digit ids without their leading
    zeros; "0" for zero). School-wide, so a caller can tell an id that is ambiguous in the
    school from one that is not; whether the id is all digits is for the caller to check."""
    wanted = {value for value in digits}
    if "0" in wanted:
        wanted.add("")  # "000" without its zeros
    found: list[tuple[PupilKeys, bool]] = []
    values = list(wanted)
    stripped = sa.func.ltrim(col(Pupil.external_id), "0")
    reachable = sa.case(
        (
            pupils_within(reach, pupil_column=col(Pupil.id), school_column=col(Pupil.school_id)),
            sa.true(),
        ),
        else_=sa.false(),
    ).label("reachable")
    for start in range(0, len(values), _CHUNK):
        rows = await session.execute(
            sa.select(*_pupil_columns(), reachable).where(
                col(Pupil.school_id) == school_id,
                stripped.in_(values[start : start + _CHUNK]),
            )
        )
        for row in rows.mappings():
            fields = dict(row)
            within = bool(fields.pop("reachable"))
            found.append((PupilKeys.model_validate(fields), within))
    return found


async def measures_for(
    session: AsyncSession, *, measure_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Measure]:
    if not measure_ids:
        return {}
    rows = await session.scalars(sa.select(Measure).where(col(Measure.id).in_(list(measure_ids))))
    return {measure.id: measure for measure in rows}


async def point_of_school(
    session: AsyncSession, *, point_id: uuid.UUID, school_id: uuid.UUID
) -> AssessmentPoint | None:
    return await session.scalar(
        sa.select(AssessmentPoint).where(
            col(AssessmentPoint.id) == point_id, col(AssessmentPoint.school_id) == school_id
        )
    )
