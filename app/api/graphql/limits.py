"""What one query may cost: how many rows it answers (counted as its lists are resolved) and
how long it runs (see the router). Past either, the query fails whole: no partial answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from app.api.graphql.errors import ROWS_LIMIT

T = TypeVar("T")


class RowBudget:
    """The rows one query may still answer: every item of a list field and every node of a
    connection, across the whole query, counts one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, info: strawberry.Info, rows: int) -> None:
        self.used += rows
        if self.used > self.limit:
            field = f"{info.path.typename}.{info.field_name}"
            raise GraphQLError(
                f"the query asks for more than {self.limit:,} rows (the cap was passed at "
                f"{field}); ask for fewer: smaller `first`, fewer nested lists, or page through "
                "them in several queries",
                extensions={"code": ROWS_LIMIT, "field": field, "limit": self.limit},
            )


def charged(info: strawberry.Info[Any, Any], rows: Sequence[T]) -> Sequence[T]:
    """``rows``, once they are counted against the query's budget."""
    info.context.rows.charge(info, len(rows))
    return rows


class SessionTurns:
    """The one session of a query, taken in turns (``async with turns:``) by its resolvers and
    DataLoader batches, which run concurrently. When the query is stopped, whatever still holds
    or awaits a turn is cancelled (DataLoader batches run in tasks of their own, which stopping
    the query does not reach) and no turn is given again."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False

    async def __aenter__(self) -> None:
        if self._stopped:
            raise asyncio.CancelledError("the query was stopped")
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._lock.acquire()
        except BaseException:
            self._tasks.discard(task)
            raise

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._lock.release()
        self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def stop(self) -> None:
        self._stopped = True
        others = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
