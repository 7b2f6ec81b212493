"""What one query may cost: how many rows it answers (counted as its lists are resolved) and
how long it runs (see the router). Past either, the query fails whole: no partial answer."""

from __future__ import annotations

from collections.abc import Sequence
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
