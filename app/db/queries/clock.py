"""The markbook's clock: one per school, so that its markbook writes queue one behind another."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.markbook import MarkbookClock

CLOCK = MarkbookClock.__table__  # type: ignore[attr-defined]


async def tick(session: AsyncSession, school_id: uuid.UUID) -> int:
    """Advance the school's markbook clock and return the new version.

    The row stays locked until the transaction ends, so a school's markbook writes run one
    after another: each sees every earlier one, and versions never interleave.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(CLOCK)
        .values(school_id=school_id, version=1)
        .on_conflict_do_update(index_elements=["school_id"], set_={"version": CLOCK.c.version + 1})
        .returning(CLOCK.c.version)
    )
    return int((await session.execute(statement)).scalar_one())
