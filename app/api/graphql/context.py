"""The context of one GraphQL request: its session and principal (the same dependencies as
REST's), and fresh DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from app.api.deps import PrincipalDep, SessionDep
from app.api.graphql.loaders import Loaders, make_loaders
from app.auth.principal import Principal

T = TypeVar("T")


class GraphContext(BaseContext):
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        super().__init__()
        self.session = session
        self.principal = principal
        # An AsyncSession runs one statement at a time; resolvers run concurrently.
        self.lock = asyncio.Lock()
        self.loaders: Loaders = make_loaders(session, principal, self.lock)

    async def call(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` with the session, once no other resolver is using it."""
        async with self.lock:
            return await work(self.session)


async def get_context(session: SessionDep, principal: PrincipalDep) -> GraphContext:
    return GraphContext(session, principal)
