"""Administrative statements on the PostgreSQL test server (CREATE/DROP DATABASE)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

T = TypeVar("T")
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-admin")


def in_own_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking code that starts its own event loop (asyncio.run, Alembic's env.py) away
    from the loop pytest-asyncio keeps for the tests."""
    return _thread.submit(function, *args).result()


async def _execute(server_url: str, statement: str) -> None:
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def admin_execute(server_url: str, statement: str) -> None:
    in_own_thread(asyncio.run, _execute(server_url, statement))
