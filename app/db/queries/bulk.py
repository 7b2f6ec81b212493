"""Set-based bulk writes (and bulk reads): the one seam where PostgreSQL and SQLite take
different fast paths.

On PostgreSQL, new rows are streamed with COPY, and upserts go to the server as one array per
column written by a single ``INSERT ... SELECT FROM unnest(...) ON CONFLICT`` statement, so the
cost does not grow with a statement (or a round trip) per row. On SQLite, which has neither and
runs in-process (no round trips), one INSERT is compiled once and executed for every row.
``among`` matches a column against many ids with one bound parameter on either. ``read_rows``
reads thousands of rows as mappings, on PostgreSQL straight from the driver.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

# Ids per IN list in deletes: far below asyncpg's 32,767 parameters per statement.
_IN_CHUNK = 5_000


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pg_columns(
    table: sa.Table, rows: Sequence[dict[str, Any]], names: list[str]
) -> list[list[Any]]:
    """The rows' values column by column, as asyncpg takes them: JSON as text (SQLAlchemy's
    asyncpg codecs expect it so), everything else as it is."""
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, sa.JSON):
            values = [None if v is None else json.dumps(v) for v in values]
        columns.append(values)
    return columns


def _pg_type(column: sa.Column[Any]) -> str:
    if isinstance(column.type, sa.JSON):
        return "jsonb"
    return column.type.compile(dialect=postgresql.dialect())


async def write_rows(
    session: AsyncSession,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``.

    With ``conflict`` (the columns of a unique key), a row whose key exists updates the
    ``update`` columns instead (nothing, if ``update`` is empty).
    """
    if not rows:
        return
    names = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        if conflict is None:
            await _copy_rows_pg(session, table, rows, names)
        else:
            await _write_rows_pg(session, table, rows, names, conflict, update)
        return
    statement = sqlite.insert(table)
    if conflict is not None:
        statement = (
            statement.on_conflict_do_update(
                index_elements=list(conflict),
                set_={name: statement.excluded[name] for name in update},
            )
            if update
            else statement.on_conflict_do_nothing(index_elements=list(conflict))
        )
    # One statement compiled once, run for every row by the driver (executemany): in-process
    # SQLite has no round trips to save, and compiling a many-row VALUES list costs far more.
    await session.execute(statement, list(rows))


async def _copy_rows_pg(
    session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]], names: list[str]
) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    records = list(zip(*_pg_columns(table, rows, names), strict=True))
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=records, columns=names
    )


async def _write_rows_pg(
    session: AsyncSession,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    names: list[str],
    conflict: Sequence[str] | None,
    update: Sequence[str],
) -> None:
    columns = [table.c[name] for name in names]
    arrays = {f"a{index}": values for index, values in enumerate(_pg_columns(table, rows, names))}
    sources = ", ".join(
        f"CAST(:a{index} AS {_pg_type(column)}[])" for index, column in enumerate(columns)
    )
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) SELECT * FROM unnest({sources})'
    if conflict is not None:
        target = ", ".join(f'"{name}"' for name in conflict)
        if update:
            sets = ", ".join(f'"{name}" = excluded."{name}"' for name in update)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
    await session.execute(sa.text(sql), arrays)


async def delete_where_in(
    session: AsyncSession,
    table: sa.Table,
    column: str,
    values: Iterable[Any],
    *also: sa.ColumnElement[bool],
) -> None:
    """DELETE the rows whose ``column`` is among ``values`` (and that match ``also``)."""
    ordered = list(values)
    for chunk in _chunks(ordered, _IN_CHUNK):
        await session.execute(sa.delete(table).where(table.c[column].in_(chunk), *also))


def among(
    session: AsyncSession, column: sa.ColumnElement[Any], ids: Collection[uuid.UUID]
) -> sa.ColumnElement[bool]:
    """``column`` is one of ``ids``, as one bound parameter however many ids there are: an
    array on PostgreSQL, a JSON list on SQLite. (An IN list binds, and SQLAlchemy renders, a
    parameter per id: ten times slower at 10,000 ids.)"""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(sa.Uuid())))
    # SQLite keeps UUIDs as 32 hex digits.
    listed = sa.bindparam(None, json.dumps([i.hex for i in ids]), type_=sa.String())
    return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(listed)))


async def read_rows(session: AsyncSession, statement: sa.Select[Any]) -> list[Mapping[str, Any]]:
    """The rows of ``statement``, each a read-only mapping of its column names (a sync reads a
    school's thousands of pupils to compare against; a grid its cells). On PostgreSQL the
    statement goes to asyncpg as compiled, and its records are the rows: SQLAlchemy's rows and
    result types cost more than the query itself (its timestamps come back in UTC either way).
    On SQLite, or before the transaction's first statement, plain dicts through SQLAlchemy."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        # Only inside the transaction SQLAlchemy began (it sends BEGIN with its first
        # statement): read on its own, the rows could come from outside it. A connection
        # without transactions (autocommit: plain reads, db.engine.reading) has none to keep.
        autocommit = (
            connection.sync_connection.get_execution_options().get("isolation_level")
            == "AUTOCOMMIT"
        )
        if driver is not None and (autocommit or driver.is_in_transaction()):
            compiled = statement.compile(
                dialect=bind.dialect, compile_kwargs={"render_postcompile": True}
            )
            params = compiled.construct_params()
            records = await driver.fetch(
                compiled.string, *(params[name] for name in compiled.positiontup or ())
            )
            return cast(list[Mapping[str, Any]], records)
    result = await session.execute(statement)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]
