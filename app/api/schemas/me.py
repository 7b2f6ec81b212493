"""Who the caller is: the answer of /v1/me."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.api.schemas.base import Output
from app.domain.roles import ClientScope, Role


class GrantView(Output):
    role: Role
    trust_id: uuid.UUID | None
    school_id: uuid.UUID | None
    pupil_id: uuid.UUID | None = Field(
        default=None,
        description="Pupil and parent grants: the pupil whose record the grant opens "
        "(GET /v1/pupils/{pupil_id}/record).",
    )
    pupil_name: str | None = Field(
        default=None, description="That pupil's name as they go by it (preferred, else legal)."
    )


class Me(Output):
    """Who the caller is and what they may reach."""

    kind: Literal["user", "client"] = Field(description="A person, or an integration client.")
    id: uuid.UUID
    name: str
    email: str | None
    roles: list[GrantView]
    scopes: list[ClientScope]
    trust_ids: list[uuid.UUID] = Field(description="Trusts the caller can see.")
    school_ids: list[uuid.UUID] = Field(description="Schools the caller can see.")
    everything: bool = Field(description="True for system administrators.")
