"""Reading an uploaded file (CTF XML, a OneRoster zip, a score spreadsheet, a framework) is
pure CPU work that would hold the event loop, and with it every other request, for as long as
it takes. So it runs in a worker thread, and one file at a time per process: that bounds the
memory all uploads together may take to one file's worth, and leaves the thread that holds
the GIL alternating with the event loop (every few milliseconds) rather than with a crowd of
other parsers."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, to_thread

P = ParamSpec("P")
T = TypeVar("T")

# One limiter per event loop (tests run several loops in one process; a limiter belongs to
# the loop it was made on).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(1)
    return limiter


async def read_file(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` run off the event loop, after any other work given here."""
    return await to_thread.run_sync(
        functools.partial(function, *args, **kwargs), limiter=_limiter()
    )
