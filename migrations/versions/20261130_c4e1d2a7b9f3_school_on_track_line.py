"""school: the pupil's page's on-track line (its template, whether pupils see it, its words)

Revision ID: c4e1d2a7b9f3
Revises: 3c1e0b7a9d42
Create Date: 2026-11-30 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c4e1d2a7b9f3"
down_revision: str | Sequence[str] | None = "3c1e0b7a9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "on_track_template", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("on_track_for_pupils", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("on_track_words", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("on_track_words")
        batch_op.drop_column("on_track_for_pupils")
        batch_op.drop_column("on_track_template")
