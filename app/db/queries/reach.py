"""Turn an access-policy Reach into WHERE clauses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.auth.policy import Reach


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
