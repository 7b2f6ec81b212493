"""Report templates: stored, versioned report definitions owned by a trust or a school.

A template's ``definition`` is the same flat report definition an ad hoc report sends (see
``app.domain.reports``). Every change makes a new version; ``report_template_version`` keeps
each one, so a report run from an old version gives what it gave then. Templates are archived,
never deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db.base import UTCDateTime, created_at_field, id_field, updated_at_field
from app.db.curriculum import ONE_OWNER, Owner, _owner_columns


class ReportTemplate(Owner, table=True):
    __tablename__ = "report_template"
    __table_args__ = (
        sa.CheckConstraint(ONE_OWNER, name="one_owner"),
        sa.UniqueConstraint("trust_id", "code"),
        sa.UniqueConstraint("school_id", "code"),
    )
    id: uuid.UUID = id_field()
    trust_id: uuid.UUID | None = _owner_columns()[0]
    school_id: uuid.UUID | None = _owner_columns()[1]
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    version: int = Field(default=1)
    definition: dict[str, Any] = Field(sa_type=sa.JSON, nullable=False)
    archived: bool = False
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ReportTemplateVersion(SQLModel, table=True):
    """Each version of a template's definition, as it was saved."""

    __tablename__ = "report_template_version"
    template_id: uuid.UUID = Field(
        foreign_key="report_template.id", ondelete="CASCADE", primary_key=True
    )
    version: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_type=sa.JSON, nullable=False)
    saved_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    saved_by: uuid.UUID | None = Field(
        default=None, description="The user or client that saved it; null: the starter pack."
    )
