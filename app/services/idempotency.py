"""Idempotency keys: a retried request gets the answer the first one got, not a second run.

A client sends ``Idempotency-Key`` with a write. The first request with a key runs, and its
answer is stored in the same transaction as its changes, so either both are stored or neither.
A retry with the same key and the same request (method, path, query and body) gets the stored
answer; the same key with a different request is refused (422), as it is almost certainly a
client bug. Keys belong to the principal that sent them and are forgotten after a day.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.idempotency import IdempotencyRecord
from app.errors import InvalidInput

KEY_LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidInput.at(
            "header.idempotency-key", "must be 1-255 visible ASCII characters (a UUID is ideal)"
        )
    return key


async def replay(
    session: AsyncSession, *, principal: Principal, key: str, request_fingerprint: str
) -> Replay | None:
    """The stored answer for this key, or None if the request should run."""
    stored = await session.scalar(
        sa.select(IdempotencyRecord).where(
            col(IdempotencyRecord.principal_id) == principal.id,
            col(IdempotencyRecord.key) == key,
        )
    )
    if stored is None:
        return None
    if stored.created_at < utcnow() - KEY_LIFETIME:
        await session.delete(stored)
        await session.flush()
        return None
    if stored.fingerprint != request_fingerprint:
        raise InvalidInput.at(
            "header.idempotency-key",
            "this key was used for a different request; use a new key for a new request",
        )
    return Replay(stored.status_code, stored.response)


def remember(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str,
    request_fingerprint: str,
    status_code: int,
    body: dict[str, Any],
) -> None:
    session.add(
        IdempotencyRecord(
            principal_id=principal.id,
            key=key,
            fingerprint=request_fingerprint,
            status_code=status_code,
            response=body,
        )
    )


async def once(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    request_fingerprint: str,
    run: Callable[[], Awaitable[dict[str, Any]]],
    status_code: int = 200,
) -> tuple[int, dict[str, Any], bool]:
    """Run a write at most once per ``Idempotency-Key``: with no key, just run it; with a key
    seen before (for the same request), the stored answer; else run it and store its answer
    in the same transaction. Check access before calling this, so that a replay is never
    shown to a caller who could not make the request. Returns (status, answer, replayed)."""
    if key is None:
        return status_code, await run(), False
    check_key(key)
    stored = await replay(
        session, principal=principal, key=key, request_fingerprint=request_fingerprint
    )
    if stored is not None:
        return stored.status_code, stored.body, True
    answer = await run()
    remember(
        session,
        principal=principal,
        key=key,
        request_fingerprint=request_fingerprint,
        status_code=status_code,
        body=answer,
    )
    return status_code, answer, False
