"""Pupils as the DfE describes them: UPNs, National Curriculum year groups, characteristics.

Pure rules, no I/O; the roster services and the file importers (CTF, OneRoster) share them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum.gb.upn import calc_check_digit

from app.domain.errors import DomainError

# Characters a UPN may use: the DfE leaves out I, O and S so they are not misread as 1, 0, 5.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(rf"[{_UPN_LETTERS}][0-9]{{11}}[0-9{_UPN_LETTERS}]")


@dataclass(frozen=True, slots=True)
class Upn:
    """A unique pupil number: a check letter, the LA number (3 digits), the school's DfE
    establishment number (4), the year of issue (2) and a serial (3). A *temporary* UPN, given
    while the permanent one is not known, ends in a letter instead of the last serial digit.
    """

    value: str
    temporary: bool


def is_temporary_upn(upn: str | None) -> bool:
    """Whether a (checked) UPN is a temporary one: it ends in a letter (see ``Upn``)."""
    return upn is not None and upn[-1:].isalpha()


def check_upn(raw: str) -> Upn:
    """Validate a UPN the DfE way: 13 characters, the check letter recomputed and compared.

    The check letter is the sum of characters 2-13 weighted 2-13 (letters by their place in
    the UPN alphabet), modulo 23, as a letter of that alphabet. The LA number is not matched
    against a list: local authorities are reorganised and new numbers issued, and a stale list
    would refuse real pupils.
    """
    value = raw.strip().upper()
    if len(value) != 13:
        raise DomainError("UPN must be 13 characters", field="upn")
    if not _UPN.fullmatch(value):
        raise DomainError(
            "UPN must be a letter, 11 digits and a digit or letter (not I, O or S)", field="upn"
        )
    expected = calc_check_digit(value[1:])
    if value[0] != expected:
        raise DomainError(
            f"UPN check letter is wrong: {value[0]} given, {expected} expected", field="upn"
        )
    return Upn(value, temporary=is_temporary_upn(value))


def make_upn(body: str) -> str:
    """The full UPN for the 12 characters after the check letter (tests and demo data)."""
    return calc_check_digit(body) + body


class YearGroup(StrEnum):
    """National Curriculum year groups: nursery (N1, N2), reception (R), years 1 to 13."""

    N1 = "N1"
    N2 = "N2"
    R = "R"
    Y1 = "1"
    Y2 = "2"
    Y3 = "3"
    Y4 = "4"
    Y5 = "5"
    Y6 = "6"
    Y7 = "7"
    Y8 = "8"
    Y9 = "9"
    Y10 = "10"
    Y11 = "11"
    Y12 = "12"
    Y13 = "13"

    @property
    def rank(self) -> int:
        """Order: N1 is -2, N2 -1, R 0, then the year number."""
        return _YEAR_RANK[self]

    @classmethod
    def parse(cls, raw: str | int) -> YearGroup:
        """Read a year group as MIS files write it: 'R', 'N2', '7', '07', 'Y7', 'Year 7'."""
        if isinstance(raw, str) and raw in _BY_CODE:
            return _BY_CODE[raw]  # as stored: most rows of a sync
        text = str(raw).strip().upper().removeprefix("YEAR").removeprefix("Y").strip()
        if text.isdigit():
            text = str(int(text))
        try:
            return cls(text)
        except ValueError:
            raise DomainError(
                f"unknown year group {str(raw)!r}: use N1, N2, R or 1-13", field="year_group"
            ) from None


_YEAR_RANK = {group: index - 2 for index, group in enumerate(YearGroup)}
_BY_CODE = {group.value: group for group in YearGroup}


class SenStatus(StrEnum):
    """Special educational needs, as in the school census: N none, K SEN support, E an
    education, health and care plan."""

    NONE = "N"
    SUPPORT = "K"
    EHC_PLAN = "E"


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


_ETHNICITY = re.compile(r"[A-Z]{4}")


def check_ethnicity(raw: str) -> str:
    """A DfE ethnicity code: four letters, main (WBRI, ABAN, ...) or extended (WIRT, ...)."""
    value = raw.strip().upper()
    if not _ETHNICITY.fullmatch(value):
        raise DomainError(
            "ethnicity must be a DfE code of four letters, e.g. WBRI", field="ethnicity"
        )
    return value


# Unicode's Bidi_Control characters: the marks (ALM, LRM, RLM) and the embeddings, overrides
# and isolates that can make a name display as something else than what is stored.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Control characters (C0, DEL, C1), lone surrogates, and line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def check_name(raw: str, *, field: str) -> str:
    """A pupil's name as stored: NFC-normalised, so the same name typed on two systems (a
    precomposed "é" or "e" and a combining accent) is stored, matched and sorted as one.

    Control characters (tabs, line breaks, NUL ...) and bidirectional controls are refused: a
    name never needs them, and an override can make a name read differently on screen from
    what is stored (a spoofed name in a class list). Joiners (ZWJ, ZWNJ), which some scripts
    need, are kept.
    """
    return check_plain_text(raw, field=field, what="a name")


def check_plain_text(raw: str, *, field: str, what: str) -> str:
    """Text people read (a name, a target), NFC-normalised, refusing control characters and
    bidirectional controls as ``check_name`` explains; ``what`` names it in the refusal."""
    if raw.isascii() and raw.isprintable():
        return raw  # most names: already NFC, and printable ASCII holds no control character
    value = unicodedata.normalize("NFC", raw)
    for character in value:
        if character in _BIDI_CONTROLS:
            raise DomainError(
                f"{what} may not hold a bidirectional control character (U+{ord(character):04X})",
                field=field,
            )
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            raise DomainError(
                f"{what} may not hold a control character (U+{ord(character):04X})", field=field
            )
    return value


def check_dates(
    *,
    date_of_birth: date | None,
    joined_on: date | None,
    left_on: date | None,
    today: date,
) -> None:
    """Dates a pupil record can really have: a birth date from 1990 on and not after
    ``today``, born before joining, and joined before leaving."""
    if date_of_birth is not None and not date(1990, 1, 1) <= date_of_birth <= date(2099, 12, 31):
        raise DomainError("date of birth is not plausible for a pupil", field="date_of_birth")
    if date_of_birth is not None and date_of_birth > today:
        raise DomainError(
            f"date of birth {date_of_birth.isoformat()} is in the future", field="date_of_birth"
        )
    if joined_on is not None and left_on is not None and left_on < joined_on:
        raise DomainError("left before joining", field="left_on")
    if date_of_birth is not None and joined_on is not None and joined_on <= date_of_birth:
        raise DomainError("joined before being born", field="joined_on")
