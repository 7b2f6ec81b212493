"""Stored answers to writes sent with an ``Idempotency-Key``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.idempotency import IdempotencyRecord


async def stored_answer(
    session: AsyncSession, principal_id: uuid.UUID, key: str
) -> IdempotencyRecord | None:
    """The answer stored for the principal's key, if any (however old)."""
    return await session.scalar(
        sa.select(IdempotencyRecord).where(
            col(IdempotencyRecord.principal_id) == principal_id,
            col(IdempotencyRecord.key) == key,
        )
    )


async def forget(session: AsyncSession, stored: IdempotencyRecord) -> None:
    await session.delete(stored)
    await session.flush()


def store_answer(
    session: AsyncSession,
    *,
    principal_id: uuid.UUID,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    session.add(
        IdempotencyRecord(
            principal_id=principal_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response,
        )
    )


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def forget_answers_naming(session: AsyncSession, values: Collection[str]) -> int:
    """Delete every stored answer holding one of ``values`` as a whole JSON string (however
    old, whoever's): one statement. Returns how many went."""
    tokens: set[str] = set()
    for value in values:
        # SQLite keeps the JSON as Python wrote it (non-ASCII escaped); PostgreSQL's jsonb as
        # text writes it unescaped: look for both spellings.
        tokens.update({json.dumps(value), json.dumps(value, ensure_ascii=False)})
    if not tokens:
        return 0
    text = sa.cast(col(IdempotencyRecord.response), sa.Text)
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(
            sa.or_(*(text.like(_like(token), escape="\\") for token in sorted(tokens)))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_answers_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete every answer stored before ``cutoff``: one statement. Returns how many went."""
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
