"""Engines and sessions. One AsyncSession per request, committed at the request boundary."""

from __future__ import annotations

import math
import socket
from typing import Any

from sqlalchemy import event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import func as sa_func
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option: this session's transaction will write (see _prepare_sqlite).
WRITES = "markbook_writes"

# PostgreSQL SQLSTATE classes and codes of a database that is there but not answering now:
# connection exceptions (08), insufficient resources such as too many connections (53),
# and a server shutting down or starting up (57P01-57P03).
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03"})
_QUERY_CANCELED = "57014"


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """SQLite as a real transactional store: foreign keys on, WAL, and a BEGIN we control.

    ``synchronous=FULL``: in WAL mode NORMAL may lose the last commits on power loss (the WAL
    is synced only at checkpoints); FULL syncs the WAL at every commit, so a write the API
    acknowledged survives a crash of the machine, at the cost of one fsync per commit.

    pysqlite opens transactions lazily and never for SELECT; emitting BEGIN ourselves gives
    every session one transaction from its first statement, as on PostgreSQL. A session that
    will write (``WRITES`` in its connection's execution options) begins IMMEDIATE: it waits
    for the write lock up front, because a transaction that has read and then finds another
    writer committed in the meantime cannot take the lock at all (SQLITE_BUSY_SNAPSHOT).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo)
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def database_unavailable(exc: BaseException) -> bool:
    """Is ``exc`` the database faltering (unreachable, locked, out of connections, shutting
    down) rather than a mistake in the request? Such a request may succeed if retried."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.TimeoutError):
        # OperationalError: SQLite busy or unopenable, a lost connection; TimeoutError: the
        # pool had no connection to give in time.
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        state = _sqlstate(exc)
        return exc.connection_invalidated or (
            state is not None
            and (state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_CODES)
        )
    # asyncpg raises these unwrapped when it cannot connect at all.
    return isinstance(exc, ConnectionError | socket.gaierror)


def statement_timed_out(exc: BaseException) -> bool:
    """Did PostgreSQL cancel a statement (its statement_timeout, see limit_statement_time)?"""
    return isinstance(exc, sa_exc.DBAPIError) and _sqlstate(exc) == _QUERY_CANCELED


async def limit_statement_time(session: AsyncSession, seconds: float) -> None:
    """On PostgreSQL, cut off every further statement of the session's transaction that runs
    longer than ``seconds`` (SET LOCAL statement_timeout), so a query the caller gave up on
    stops on the server too. SQLite has no such setting; its statements run in this process."""
    if session.bind.dialect.name != "postgresql":
        return
    milliseconds = max(1, math.ceil(seconds * 1000))
    await session.execute(
        select(sa_func.set_config("statement_timeout", f"{milliseconds}ms", True))
    )


async def begin_writing(session: AsyncSession) -> None:
    """From here on the session's transaction writes. On SQLite, a transaction that has only
    read (signing in: the account, then ~0.2 s of argon2) ends and a new one begins IMMEDIATE,
    waiting for the write lock: a read transaction that then writes after another writer has
    committed could not take the lock at all (SQLITE_BUSY_SNAPSHOT). Nothing to do elsewhere."""
    if session.bind.dialect.name != "sqlite":
        return
    if session.in_transaction():
        await session.commit()  # nothing written yet: this only gives up the read snapshot
    await session.connection(execution_options={WRITES: True})
