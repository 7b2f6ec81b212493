"""bulk.read_rows: the rows of a SELECT as mappings by column name, the same whichever way
they are read (on PostgreSQL straight from asyncpg within a begun transaction or on an
autocommit connection, else through SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import reading, session_factory
from app.db.queries.bulk import read_rows
from app.db.tenancy import School

SCHOOL = School.__table__  # type: ignore[attr-defined]


async def test_rows_read_before_and_within_a_begun_transaction_are_alike(
    engine: AsyncEngine, world
) -> None:  # type: ignore[no-untyped-def]
    ids = [world.schools["A1"].id, world.schools["A2"].id]
    statement = (
        sa.select(SCHOOL.c.id, SCHOOL.c.urn, SCHOOL.c.created_at)
        .where(SCHOOL.c.id.in_(ids))
        .order_by(SCHOOL.c.urn)
    )
    async with session_factory(engine)() as session:
        first = await read_rows(session, statement)  # the transaction's first statement
        await session.execute(sa.select(1))
        begun = await read_rows(session, statement)
        if engine.dialect.name == "postgresql":  # read from the driver: its records
            assert not isinstance(begun[0], dict) and isinstance(first[0], dict)
        expected = [dict(row) for row in (await session.execute(statement)).mappings()]
    # A plain read's session (no transaction on PostgreSQL): from the driver at once.
    async with session_factory(reading(engine))() as session:
        plain = await read_rows(session, statement)
        if engine.dialect.name == "postgresql":
            assert not isinstance(plain[0], dict)
    assert [dict(row) for row in first] == [dict(row) for row in begun] == expected
    assert [dict(row) for row in plain] == expected
    for rows in (begun, plain):
        assert {row["id"] for row in rows} == set(ids)
        assert all(row["created_at"].tzinfo is not None for row in rows)
        assert all(row["created_at"].utcoffset() == UTC.utcoffset(None) for row in rows)
