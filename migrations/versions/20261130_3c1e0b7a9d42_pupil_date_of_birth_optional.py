"""pupil: date of birth optional (a OneRoster set without demographics.csv has none)

Revision ID: 3c1e0b7a9d42
Revises: fd84291669f9
Create Date: 2026-11-30 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1e0b7a9d42"
down_revision: str | Sequence[str] | None = "fd84291669f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pupil", schema=None) as batch_op:
        batch_op.alter_column("date_of_birth", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    # A birth date cannot be made up: refuse rather than invent one or drop the pupils.
    missing = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM pupil WHERE date_of_birth IS NULL"))
        .scalar_one()
    )
    if missing:
        raise RuntimeError(
            f"{missing} pupils have no date of birth: give them one before downgrading"
        )
    with op.batch_alter_table("pupil", schema=None) as batch_op:
        batch_op.alter_column("date_of_birth", existing_type=sa.Date(), nullable=False)
