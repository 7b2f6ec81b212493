"""Engines and sessions. One AsyncSession per request, committed at the request boundary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option: this session's transaction will write (see _prepare_sqlite).
WRITES = "markbook_writes"


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """SQLite as a real transactional store: foreign keys on, WAL, and a BEGIN we control.

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
        cursor.execute("PRAGMA synchronous=NORMAL")
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
