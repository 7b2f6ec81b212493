"""Schools and trusts as the DfE describes them."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Protocol

from app.domain.errors import DomainError

_URN = re.compile(r"[1-9][0-9]{5}")


class Phase(StrEnum):
    NURSERY = "nursery"
    PRIMARY = "primary"
    MIDDLE_DEEMED_PRIMARY = "middle_deemed_primary"
    MIDDLE_DEEMED_SECONDARY = "middle_deemed_secondary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SIXTEEN_PLUS = "16_plus"
    SPECIAL = "special"
    ALTERNATIVE_PROVISION = "alternative_provision"


def check_urn(urn: str) -> str:
    """A DfE unique reference number: six digits, as Get Information About Schools issues them."""
    if not _URN.fullmatch(urn):
        raise DomainError("URN must be six digits (100000-999999)", field="urn")
    return urn


class _School(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def trust_id(self) -> uuid.UUID | None: ...


class _Owned(Protocol):
    @property
    def school_id(self) -> uuid.UUID | None: ...
    @property
    def trust_id(self) -> uuid.UUID | None: ...


def school_uses(school: _School, definition: _Owned) -> bool:
    """Whether a definition (a subject, framework, objective, scale or measure) is one the
    school uses: its own, or its trust's."""
    return definition.school_id == school.id or (
        definition.trust_id is not None and definition.trust_id == school.trust_id
    )
