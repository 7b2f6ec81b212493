"""reports: templates with versions; school report threshold

Revision ID: bad5c34ced17
Revises: 55e4f3c760d8
Create Date: 2026-11-29 21:00:11.231005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.base

revision: str = "bad5c34ced17"
down_revision: str | Sequence[str] | None = "55e4f3c760d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_template",
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(trust_id IS NULL) <> (school_id IS NULL)", name=op.f("ck_report_template_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_report_template_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_report_template_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_template")),
        sa.UniqueConstraint("school_id", "code", name=op.f("uq_report_template_school_id_code")),
        sa.UniqueConstraint("trust_id", "code", name=op.f("uq_report_template_trust_id_code")),
    )
    op.create_index(
        op.f("ix_report_template_school_id"), "report_template", ["school_id"], unique=False
    )
    op.create_index(
        op.f("ix_report_template_trust_id"), "report_template", ["trust_id"], unique=False
    )
    op.create_index(
        op.f("ix_report_template_updated_at"), "report_template", ["updated_at"], unique=False
    )
    op.create_table(
        "report_template_version",
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("saved_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["report_template.id"],
            name=op.f("fk_report_template_version_template_id_report_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("template_id", "version", name=op.f("pk_report_template_version")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("report_threshold", sa.Integer(), server_default="6", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_school_report_threshold_at_least_3"), "report_threshold >= 3"
        )


def downgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_school_report_threshold_at_least_3"), type_="check")
        batch_op.drop_column("report_threshold")
    op.drop_table("report_template_version")
    op.drop_index(op.f("ix_report_template_updated_at"), table_name="report_template")
    op.drop_index(op.f("ix_report_template_trust_id"), table_name="report_template")
    op.drop_index(op.f("ix_report_template_school_id"), table_name="report_template")
    op.drop_table("report_template")
