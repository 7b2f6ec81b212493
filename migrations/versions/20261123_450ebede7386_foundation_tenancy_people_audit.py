"""foundation: tenancy, people, audit

Revision ID: 450ebede7386
Revises:
Create Date: 2026-11-23 16:04:12.846788
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.base

revision: str = "450ebede7386"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("occurred_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_entity_type_entity_id", ["entity_type", "entity_id"], unique=False
        )
        batch_op.create_index(
            "ix_audit_event_school_id_occurred_at", ["school_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_event_trust_id_occurred_at", ["trust_id", "occurred_at"], unique=False
        )

    op.create_table(
        "trust",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust")),
    )
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "user",
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "school",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("urn", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_school_trust_id_trust"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("urn", name=op.f("uq_school_urn")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_trust_id"), ["trust_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "assessment_point",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("academic_year", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_assessment_point_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_point")),
        sa.UniqueConstraint(
            "school_id",
            "academic_year",
            "code",
            name=op.f("uq_assessment_point_school_id_academic_year_code"),
        ),
    )
    with op.batch_alter_table("assessment_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_point_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "integration_client",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(trust_id IS NULL) <> (school_id IS NULL)",
            name=op.f("ck_integration_client_one_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_integration_client_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_integration_client_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_integration_client_client_id")),
    )
    with op.batch_alter_table("integration_client", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_client_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_client_trust_id"), ["trust_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_client_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "role_grant",
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'system_admin' AND trust_id IS NULL AND school_id IS NULL) OR (role IN ('trust_admin', 'trust_analyst') AND trust_id IS NOT NULL AND school_id IS NULL) OR (role IN ('school_leader', 'teacher', 'governor', 'pupil', 'parent') AND school_id IS NOT NULL AND trust_id IS NULL)",
            name=op.f("ck_role_grant_scope_matches_role"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_role_grant_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["trust.id"],
            name=op.f("fk_role_grant_trust_id_trust"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_role_grant_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant")),
    )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_grant_trust_id"), ["trust_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_grant_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grant_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_grant_trust_id"))
        batch_op.drop_index(batch_op.f("ix_role_grant_school_id"))

    op.drop_table("role_grant")
    with op.batch_alter_table("integration_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_client_updated_at"))
        batch_op.drop_index(batch_op.f("ix_integration_client_trust_id"))
        batch_op.drop_index(batch_op.f("ix_integration_client_school_id"))

    op.drop_table("integration_client")
    with op.batch_alter_table("assessment_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_point_updated_at"))

    op.drop_table("assessment_point")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_updated_at"))
        batch_op.drop_index(batch_op.f("ix_school_trust_id"))

    op.drop_table("school")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_updated_at"))

    op.drop_table("user")
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_updated_at"))

    op.drop_table("trust")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_trust_id_occurred_at")
        batch_op.drop_index("ix_audit_event_school_id_occurred_at")
        batch_op.drop_index("ix_audit_event_entity_type_entity_id")

    op.drop_table("audit_event")
