"""The context of one GraphQL request: its session and principal (the same dependencies as
REST's), fresh DataLoaders, and the query's budgets of rows and time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from app.api.deps import GraphQLSessionDep, PrincipalDep
from app.api.graphql.limits import RowBudget, SessionTurns
from app.api.graphql.loaders import Loaders, make_loaders
from app.auth.principal import Principal
from app.settings import Settings

T = TypeVar("T")


class GraphContext(BaseContext):
    def __init__(self, session: AsyncSession, principal: Principal, settings: Settings) -> None:
        super().__init__()
        self.session = session
        self.principal = principal
        self.rows = RowBudget(settings.graphql_max_rows)
        self.seconds = settings.graphql_time_budget_seconds
        # An AsyncSession runs one statement at a time; resolvers run concurrently.
        self.lock = SessionTurns()
        self.loaders: Loaders = make_loaders(session, principal, self.lock)
        # Input values converted once per request (report_types._definition_once).
        self.converted_inputs: dict[int, tuple[object, object]] = {}

    async def call(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` with the session, once no other resolver is using it."""
        async with self.lock:
            return await work(self.session)

    async def abandon(self) -> None:
        """The query was stopped: cancel what still uses the session, and drop its connection
        (a statement may have been cut off half way) rather than hand it back to the pool."""
        await self.lock.stop()
        await self.session.invalidate()


async def get_context(
    request: Request, session: GraphQLSessionDep, principal: PrincipalDep
) -> GraphContext:
    """The query reads with the report session (a read replica's when one is configured),
    time-limited on the server to the query's budget."""
    return GraphContext(session, principal, request.app.state.settings)
