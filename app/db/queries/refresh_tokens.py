"""Refresh tokens: looked up by hash, rotated, revoked by family or by holder."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db.people import RefreshToken


async def by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(
        sa.select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash)
    )


async def take(session: AsyncSession, token_id: uuid.UUID, now: datetime) -> bool:
    """Revoke one token if nobody has yet; False if it was already revoked (by a refresh that
    ran at the same time, or before). One conditional UPDATE, so two refreshes racing with the
    same token cannot both succeed."""
    result = await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.id) == token_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def forget_expired(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Drop a person's expired refresh tokens (kept until then to catch a copied one)."""
    await session.execute(
        sa.delete(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.expires_at) < now)
        .execution_options(synchronize_session=False)
    )
