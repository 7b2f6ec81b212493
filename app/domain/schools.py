"""Schools and trusts as the DfE describes them."""

from __future__ import annotations

import re
from enum import StrEnum

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
