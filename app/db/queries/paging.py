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
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput.at("query.cursor", "not a cursor this list issued") from exc


def _coerce(value: str, column: sa.ColumnElement[Any]) -> Any:
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    return python_type(value)


async def paginate(
    session: AsyncSession,
    statement: sa.Select[Any],
    *,
    order_by: list[sa.ColumnElement[Any]],
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    """Run ``statement`` (selecting one entity) one page at a time, ordered by ``order_by``.

    The last column of ``order_by`` must be unique (the primary key) so the order is total.
    """
    if cursor:
        after = _decode(cursor, order_by)
        statement = statement.where(sa.tuple_(*order_by) > sa.tuple_(*after))
    rows = list((await session.scalars(statement.order_by(*order_by).limit(limit + 1))).all())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, _encode([getattr(last, column.key) for column in order_by]))
