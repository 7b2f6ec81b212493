"""Turn an access-policy Reach into WHERE clauses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.auth.policy import Reach
from app.db.roster import ClassPupil, ClassTeacher, TeachingGroup


def within(
    reach: Reach,
    *,
    school_column: sa.ColumnElement[Any] | None = None,
    trust_column: sa.ColumnElement[Any] | None = None,
) -> sa.ColumnElement[bool]:
    """Rows whose owning school, or owning trust, the reach covers."""
    if reach.everything:
        return sa.true()
    clauses: list[sa.ColumnElement[bool]] = []
    if school_column is not None and reach.school_ids:
        clauses.append(school_column.in_(reach.school_ids))
    if trust_column is not None and reach.trust_ids:
        clauses.append(trust_column.in_(reach.trust_ids))
    return sa.or_(*clauses) if clauses else sa.false()


def pupils_within(
    reach: Reach,
    *,
    pupil_column: sa.ColumnElement[Any],
    school_column: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    """Pupil rows the reach covers: whole schools, in a teacher's schools the pupils of the
    classes they teach from ``taught_from_year`` on (as the policy says), and the pupils
    reached one by one (a pupil's or parent's own)."""
    whole = within(reach, school_column=school_column)
    if reach.pupil_ids and not reach.everything:
        whole = sa.or_(whole, pupil_column.in_(reach.pupil_ids))
    if reach.everything or not reach.taught_school_ids:
        return whole
    taught = (
        sa.select(ClassPupil.pupil_id)
        .join(ClassTeacher, col(ClassTeacher.class_id) == col(ClassPupil.class_id))
        .join(TeachingGroup, col(TeachingGroup.id) == col(ClassPupil.class_id))
        .where(
            col(ClassTeacher.user_id) == reach.taught_by,
            col(TeachingGroup.academic_year) >= reach.taught_from_year,
        )
    )
    return sa.or_(
        whole,
        sa.and_(school_column.in_(reach.taught_school_ids), pupil_column.in_(taught)),
    )
