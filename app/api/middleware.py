"""ASGI middleware: request ids, and caps on request bodies: their size and how deeply their
JSON nests."""

from __future__ import annotations

import json
import re
import uuid
from itertools import accumulate
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import context
from app.api.problems import log, problem_response, unexpected_response
from app.logs import describe, redacted_traceback

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# No request Markbook takes nests JSON past a dozen levels; parsers (and pydantic) recurse, and
# about 1,000 levels exhaust Python's stack.
MAX_JSON_DEPTH = 64
_STARTS_JSON = re.compile(rb"[ \t\r\n]*[\[{]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")


def json_deeper_than(body: bytes, limit: int) -> bool:
    """Whether ``body``, read as JSON, nests objects and arrays more than ``limit`` deep
    (brackets inside strings do not count). In C for the most part: some 60 ms for a 15 MB
    sync body, against 550 ms to parse it."""
    encoding = json.detect_encoding(body)
    if encoding != "utf-8":  # as json.loads reads it: UTF-16, UTF-32, a byte order mark
        body = body.decode(encoding, errors="replace").encode()
    if b'\\"' in body:  # escaped backslashes, then escaped quotes, are not string ends
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Brackets and quotes only. Strings without brackets become "" and go; any left are cut out.
    structure = body.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    brackets = structure.translate(_BRACKETS)
    # Each pass removes the innermost pairs: nothing is left after ``limit`` passes unless
    # something nests deeper (or the brackets do not balance: then count exactly).
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    steps = structure.translate(_BRACKETS)
    return max(accumulate(1 if step == ord("[") else -1 for step in steps), default=0) > limit


class RequestIdMiddleware:
    """Every request gets an id (the caller's X-Request-ID if sane), echoed in the response,
    carried in logs, problems and audit events. The outermost of ours: an exception nothing
    else answered is answered here (500, or 503 if the database faltered), logged redacted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = context.request_id.set(request_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here rather than let out: past this point Starlette re-raises it to the
            # server, whose log would print its message (pupils' data, a statement's
            # parameters) with the traceback.
            if not started:
                response = await unexpected_response(Request(scope, receive), exc)
                await response(scope, receive, send_with_id)
            else:
                log.error(
                    "error after the response began %s [request_id=%s]\n%s",
                    describe(exc),
                    request_id,
                    redacted_traceback(exc),
                )
        finally:
            context.request_id.reset(token)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413, whether or not Content-Length is given, and
    JSON nested deeper than ``MAX_JSON_DEPTH`` with 422, on every route: any body that opens
    with ``{`` or ``[`` whatever its declared type, since some routes read raw bodies."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        # Read the body here, counting, so an undeclared (chunked) body is capped too.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        # JSON, or what json.loads would read as JSON (UTF-16 or 32, a byte order mark).
        if _STARTS_JSON.match(body) or json.detect_encoding(body[:4]) != "utf-8":
            if json_deeper_than(body, MAX_JSON_DEPTH):
                await self._too_deep(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _too_deep(self, scope: Scope, receive: Receive, send: Send) -> None:
        request: Any = Request(scope, receive)
        reason = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        response = problem_response(
            request,
            status=422,
            slug="validation-error",
            title="Invalid input",
            detail=f"body: {reason}",
            errors=[{"field": "body", "reason": reason}],
            max_depth=MAX_JSON_DEPTH,
        )
        await response(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request: Any = Request(scope, receive)
        response = problem_response(
            request,
            status=413,
            slug="payload-too-large",
            title="Request body too large",
            detail=f"the request body is over the limit of {self.max_bytes} bytes",
            max_bytes=self.max_bytes,
        )
        await response(scope, receive, send)
