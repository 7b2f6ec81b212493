"""Engines and sessions. One AsyncSession per request, committed at the request boundary."""

from __future__ import annotations

import math
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
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

from app.settings import get_settings

_T = TypeVar("_T")

# Execution option: this session's transaction will write (see _prepare_sqlite).
WRITES = "markbook_writes"

# How long a request waits for a pooled connection (and, on SQLite, for the write lock)
# before it is answered 503, unless create_engine is told otherwise.
DEFAULT_WAIT_SECONDS = 30.0
# PostgreSQL connections are replaced after this long, so none outlives a server's or a
# proxy's idle cut-off unnoticed (there is no ping on checkout: see retry_lost_connection).
RECYCLE_SECONDS = 1800
# Seen in pg_stat_activity: which connections are the service's (and, on a read replica,
# READ_APPLICATION_NAME: the connections of reports and GraphQL).
APPLICATION_NAME = "markbook"
READ_APPLICATION_NAME = "markbook-read"

# PostgreSQL SQLSTATE classes and codes of a database that is there but not answering now:
# connection exceptions (08), a transaction rolled back by a deadlock or a serialisation
# failure (40, worth retrying), insufficient resources such as too many connections (53), a
# lock not available (55P03), a server shutting down or starting up (57P01-57P03).
_UNAVAILABLE_CLASSES = ("08", "40", "53")
_UNAVAILABLE_CODES = frozenset({"55P03", "57P01", "57P02", "57P03"})
_QUERY_CANCELED = "57014"
# SQLite result codes (sqlite3's sqlite_errorname) of a database busy, locked, unopenable or
# failing to read or write its files; "no such table" and the like (SQLITE_ERROR) are bugs.
_SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def _prepare_sqlite(engine: AsyncEngine, wait_seconds: float) -> None:
    """SQLite as a real transactional store: foreign keys on, WAL, and a BEGIN we control.

    ``synchronous=FULL``: in WAL mode NORMAL may lose the last commits on power loss (the WAL
    is synced only at checkpoints); FULL syncs the WAL at every commit, so a write the API
    acknowledged survives a crash of the machine, at the cost of one fsync per commit.

    pysqlite opens transactions lazily and never for SELECT; emitting BEGIN ourselves gives
    every session one transaction from its first statement, as on PostgreSQL. A session that
    will write (``WRITES`` in its connection's execution options) begins IMMEDIATE: it waits
    for the write lock up front, because a transaction that has read and then finds another
    writer committed in the meantime cannot take the lock at all (SQLITE_BUSY_SNAPSHOT).
    Waiting for it is bounded by ``wait_seconds`` (busy_timeout), as waiting for the pool is.
    """
    busy_ms = max(1, math.ceil(wait_seconds * 1000))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_engine(
    url: str,
    *,
    echo: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    pool_size: int = 10,
    max_overflow: int = 10,
    pgbouncer: bool = False,
    application_name: str = APPLICATION_NAME,
) -> AsyncEngine:
    """The service's engine. ``hide_parameters``: SQLAlchemy's error messages (and its echo)
    quote a statement's parameters, pupils' names and UPNs among them; they never reach a log.
    A request waits ``wait_seconds`` at most for a connection (then 503, see
    database_unavailable). On PostgreSQL a checkout costs no round trip: no pre-ping, but
    connections are recycled after ``RECYCLE_SECONDS``, one that dies in use is discarded, and
    the first statement of a request is retried once on a fresh connection when the pooled
    one was found dead (retry_lost_connection), so the service recovers by itself.

    ``pgbouncer``: the URL is a PgBouncer in transaction mode, which may give each transaction
    another server connection. A prepared statement lives on one server connection, so none
    is cached (SQLAlchemy's cache and asyncpg's are off) and each has a unique name (no clash
    with one another client left on the same server connection); reads run in a transaction
    too (see ``reading``), so a statement's prepare and its execution reach the same server."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=wait_seconds,
        )
        _prepare_sqlite(engine, wait_seconds)
        return engine
    connect_args: dict[str, Any] = {"server_settings": {"application_name": application_name}}
    if pgbouncer:
        parsed = parsed.update_query_dict({"prepared_statement_cache_size": "0"})
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    engine = create_async_engine(
        parsed,
        echo=echo,
        hide_parameters=True,
        pool_recycle=RECYCLE_SECONDS,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=wait_seconds,
        connect_args=connect_args,
    )
    return engine


def _through_pgbouncer(engine: AsyncEngine) -> bool:
    """Was ``engine`` made for PgBouncer (its URL turns the statement cache off)?"""
    return engine.url.query.get("prepared_statement_cache_size") == "0"


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The engine for requests that only read. On PostgreSQL its statements run without a
    transaction (autocommit): a READ COMMITTED transaction gives each statement its own
    snapshot anyway, so BEGIN and COMMIT would be two round trips bought for nothing. SQLite
    keeps its (in-process, free) transaction, which gives a read one snapshot; so does an
    engine behind PgBouncer in transaction mode (a statement's prepare and execution must reach
    the same server). The pool is shared with ``engine``."""
    if engine.dialect.name != "postgresql" or _through_pgbouncer(engine):
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def retry_lost_connection(
    session: AsyncSession, statement: Callable[[], Awaitable[_T]]
) -> _T:
    """Run a request's first ``statement``; if the pooled connection it was given turns out
    dead (a server restart, a proxy's idle cut-off), run it once more on a fresh one. What
    pre-ping did on every checkout, paid for only when a connection was lost. Only for a
    first statement: nothing of the transaction is lost by starting it again."""
    try:
        return await statement()
    except sa_exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    await session.rollback()
    return await statement()


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def database_unavailable(exc: BaseException) -> bool:
    """Is ``exc`` the database faltering (unreachable, busy or locked, out of connections, a
    connection lost, the server restarting) rather than a mistake in the request or a bug?
    Such a request may succeed if retried: REST answers 503 with Retry-After, GraphQL
    SERVICE_UNAVAILABLE. The one place that decides it."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True  # the pool had no connection to give in time
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True  # the connection died under the statement; the pool discarded it
        state = _sqlstate(exc)
        if state is not None:
            return state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_CODES
        sqlite_code = getattr(exc.orig, "sqlite_errorname", None)
        if isinstance(sqlite_code, str):
            return sqlite_code.startswith(_SQLITE_UNAVAILABLE)
        # A driver error with no code (a connection lost or refused, or asyncpg's client
        # state broken by a connection killed under it): transient when SQLAlchemy sorts it
        # as operational or as the interface's.
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    # The driver's own errors, unwrapped where db.queries.bulk talks to it directly (COPY,
    # bulk reads): by their SQLSTATE, as above.
    if isinstance(exc, asyncpg.PostgresError) and isinstance(exc.sqlstate, str):
        state = exc.sqlstate
        if state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE_CODES:
            return True
    # asyncpg raises these unwrapped when it cannot connect at all; and a connection lost
    # in a way SQLAlchemy did not wrap.
    return isinstance(exc, ConnectionError | socket.gaierror) or _asyncpg_connection_lost(exc)


def _asyncpg_connection_lost(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.ConnectionDoesNotExistError | asyncpg.CannotConnectNowError)


def statement_timed_out(exc: BaseException) -> bool:
    """Did PostgreSQL cancel a statement (its statement_timeout, see tune_for_reports)?"""
    return isinstance(exc, sa_exc.DBAPIError) and _sqlstate(exc) == _QUERY_CANCELED


async def tune_for_reports(session: AsyncSession, *, time_limit: float | None = None) -> None:
    """PostgreSQL, for the rest of the session's transaction: a report's statement joins and
    aggregates hundreds of thousands of rows at once. Compiling it (JIT) costs seconds more
    than it saves, and the default work_mem would send its hashes and sorts to disk. With
    ``time_limit`` (seconds), every further statement that runs longer is cut off
    (statement_timeout), so a query the caller gave up on stops on the server too. All in one
    statement, once a transaction: asked again within it, nothing is sent. SQLite has none of
    these settings; its statements run in this process."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if session.in_transaction() and session.info.get(_TUNED) is session.get_transaction():
        return
    settings = [
        sa_func.set_config("jit", "off", True),
        sa_func.set_config("work_mem", f"{get_settings().report_work_mem_mb}MB", True),
    ]
    if time_limit is not None:
        milliseconds = max(1, math.ceil(time_limit * 1000))
        settings.append(sa_func.set_config("statement_timeout", f"{milliseconds}ms", True))
    await session.execute(select(*settings))
    session.info[_TUNED] = session.get_transaction()


_TUNED = "markbook.tuned_for_reports"  # session.info: the transaction tuned last


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
