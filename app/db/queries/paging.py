"""Keyset pagination with opaque cursors, and ``updated_since`` for delta sync.

A cursor carries the sort key of the last row served; the next page starts strictly after it,
so pages stay stable while rows are added. Callers see it only as an opaque string.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.instants import parse_instant
from app.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date | datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, columns: list[sa.ColumnElement[Any]]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError("wrong shape")
        return [_coerce(value, column) for value, column in zip(raw, columns, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput.at("query.cursor", "not a cursor this list issued") from exc


# The integers each column type can hold (SQLite's INTEGER is 64-bit; PostgreSQL's INTEGER is
# 32-bit), so a forged position is refused here rather than overflowing in the database.
_INTEGER_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def _coerce(value: object, column: sa.ColumnElement[Any]) -> Any:
    """One position of a cursor as the column's type; ValueError for anything ``_encode``
    could not have written (every position is a string) or the column cannot hold."""
    if not isinstance(value, str):
        raise ValueError("cursor positions are strings")
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return parse_instant(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is int:
        number = int(value)
        bits = next((b for kind, b in _INTEGER_BITS if isinstance(column.type, kind)), 32)
        if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
            raise ValueError("out of the column's range")
        return number
    return python_type(value)


async def paginate(
    session: AsyncSession,
    statement: sa.Select[Any],
    *,
    order_by: list[sa.ColumnElement[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Page[Any]:
    """Run ``statement`` one page at a time, ordered by ``order_by`` (newest first with
    ``descending``). A statement selecting one entity pages its objects; one selecting
    several columns pages dicts of them.

    The last column of ``order_by`` must be unique (the primary key) so the order is total.
    """
    if cursor:
        key, after = sa.tuple_(*order_by), sa.tuple_(*_decode(cursor, order_by))
        statement = statement.where(key < after if descending else key > after)
    ordering = [column.desc() for column in order_by] if descending else order_by
    result = await session.execute(statement.order_by(*ordering).limit(limit + 1))
    if len(statement.column_descriptions) == 1:
        rows: list[Any] = list(result.scalars())
        last_key = [lambda row, name=c.key: getattr(row, name) for c in order_by]
    else:
        rows = [dict(row) for row in result.mappings()]
        last_key = [lambda row, name=c.key: row[name] for c in order_by]
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, _encode([value(rows[-1]) for value in last_key]))
