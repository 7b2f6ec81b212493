"""targets: pupils' targets (set by teachers, closed by them or achieved by a judgement)

Revision ID: fd84291669f9
Revises: 8f4f56d598da
Create Date: 2026-11-30 07:49:29.446216
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = "fd84291669f9"
down_revision: str | Sequence[str] | None = "8f4f56d598da"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pupil_target",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("pupil_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("objective_id", sa.Uuid(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("due_point_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("set_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'achieved')", name=op.f("ck_pupil_target_status")
        ),
        sa.CheckConstraint(
            "objective_id IS NOT NULL OR text IS NOT NULL",
            name=op.f("ck_pupil_target_objective_or_text"),
        ),
        sa.ForeignKeyConstraint(
            ["due_point_id"],
            ["assessment_point.id"],
            name=op.f("fk_pupil_target_due_point_id_assessment_point"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objective.id"],
            name=op.f("fk_pupil_target_objective_id_objective"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupil.id"],
            name=op.f("fk_pupil_target_pupil_id_pupil"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_pupil_target_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_pupil_target_subject_id_subject"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil_target")),
    )
    with op.batch_alter_table("pupil_target", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pupil_target_pupil_id_status", ["pupil_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_pupil_target_school_id_updated_at", ["school_id", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pupil_target", schema=None) as batch_op:
        batch_op.drop_index("ix_pupil_target_school_id_updated_at")
        batch_op.drop_index("ix_pupil_target_pupil_id_status")

    op.drop_table("pupil_target")
