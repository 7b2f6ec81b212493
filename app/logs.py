"""What Markbook's logs may say about a failure: where it happened and what kind it was, never
the data it happened to (no pupil in a log line).

An exception's message can quote anything: SQLAlchemy's quotes the statement's parameters,
PostgreSQL's quotes the key that clashed (``Key (upn)=(A123...) already exists``), a parser's
quotes the input. So failures are logged by their type, their database error code and their
stack frames (file, line, function, source line), without messages. Access logs carry the
method, the path and the status: no query string, since some carry file names (a file named
after a pupil) and filters, and no client address.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

ACCESS_LOGGER = "uvicorn.access"
# Loggers that log tracebacks of exceptions they did not raise (uvicorn's "Exception in ASGI
# application", asyncio's "Task exception was never retrieved"): logged redacted as ours are.
# (SQLAlchemy's engine hides statement parameters itself: hide_parameters.)
_TRACEBACK_LOGGERS = ("uvicorn.error", "asyncio")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _kind(exc: BaseException) -> str:
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    # Database error codes say what went wrong without the data: SQLSTATE 23505, SQLITE_BUSY.
    code = getattr(exc, "sqlstate", None) or getattr(exc, "sqlite_errorname", None)
    return f"{kind} [{code}]" if isinstance(code, str) else kind


def describe(exc: BaseException) -> str:
    """The kinds of an exception and its causes, e.g. ``sqlalchemy.exc.IntegrityError <-
    asyncpg.exceptions.UniqueViolationError [23505]``; never their messages."""
    return " <- ".join(_kind(e) for e in _chain(exc))


def redacted_traceback(exc: BaseException) -> str:
    """A traceback without messages: each exception of the chain (innermost first, as Python
    prints them) by its kind and its frames."""
    parts = []
    for link in reversed(list(_chain(exc))):
        frames = "".join(traceback.format_list(traceback.extract_tb(link.__traceback__)))
        parts.append(f"Traceback (most recent call last):\n{frames}{_kind(link)}")
    return "\n\nDuring or because of the above, another exception:\n\n".join(parts)


class RedactTracebacks(logging.Filter):
    """Logs a record's exception as the redacted traceback, and its message without its
    arguments (a message such as ``"failed: %s", exc`` would quote the exception)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            record.msg = f"{record.msg}\n{redacted_traceback(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class AccessWithoutQuery(logging.Filter):
    """uvicorn's access line (client, method, path with query, HTTP version, status) with
    neither the query string nor the client's address (a pupil's or parent's home, say)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            _client, method, path, version, status = args
            record.args = ("-", method, path.partition("?")[0], version, status)
        return True


# Loggers that write out statements with their parameters, or rows, when enabled (by a root
# logger turned down to DEBUG, say): SQLAlchemy (statements at INFO, rows at DEBUG) and
# aiosqlite (each call with its parameters at DEBUG). Held at WARNING unless configured;
# sql_echo (SQLAlchemy's own echo) still shows statements, their parameters hidden.
QUIET_LOGGERS = ("sqlalchemy.engine", "aiosqlite")


def install() -> None:
    """Put the filters on the loggers that need them (once; harmless to call again)."""
    for name in QUIET_LOGGERS:
        if (quiet := logging.getLogger(name)).level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)
    for name, kind in [(ACCESS_LOGGER, AccessWithoutQuery)] + [
        (name, RedactTracebacks) for name in _TRACEBACK_LOGGERS
    ]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
