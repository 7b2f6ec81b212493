"""Stored answers to writes sent with an ``Idempotency-Key``."""

from __future__ import annotations

import uuid
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
