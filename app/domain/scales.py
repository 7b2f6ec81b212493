"""Scales and their descriptors, and the measures (data columns) that use them: pure rules.

A scale is the school's own way of describing attainment or depth of learning: an ordered list
of descriptors, each with a code, a label, a numeric value and, optionally, a band (below, at
or above what is expected). Values rise with position, so "higher on the scale" always means
"a higher value", and reports can average and compare them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.domain.errors import DomainError

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class ScaleKind(StrEnum):
    DEPTH = "depth"  # how deeply an objective is learnt: judged per objective
    ATTAINMENT = "attainment"  # where a pupil is overall, e.g. working towards / expected
    PROGRESS = "progress"
    OTHER = "other"


class MeasureKind(StrEnum):
    SCALE = "scale"  # a descriptor of one of the school's scales
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"


class Band(StrEnum):
    BELOW = "below"
    AT = "at"
    ABOVE = "above"


@dataclass(frozen=True, slots=True)
class DescriptorRule:
    code: str
    value: Decimal
    band: Band | None = None
    colour: str | None = None


def check_descriptors(descriptors: Sequence[DescriptorRule], *, field: str = "descriptors") -> None:
    """A scale's descriptors, in position order: at least two, codes unique, values strictly
    increasing, colours as #RRGGBB, and bands (where given) never going down the scale."""
    if len(descriptors) < 2:
        raise DomainError("a scale needs at least two descriptors", field=field)
    seen: dict[str, int] = {}
    for index, descriptor in enumerate(descriptors):
        where = f"{field}.{index}"
        if descriptor.code in seen:
            raise DomainError(
                f"code {descriptor.code} is also descriptor {seen[descriptor.code]}",
                field=f"{where}.code",
            )
        seen[descriptor.code] = index
        if descriptor.colour is not None and not _COLOUR.fullmatch(descriptor.colour):
            raise DomainError("colour must look like #1A7F37", field=f"{where}.colour")
        if index and descriptor.value <= descriptors[index - 1].value:
            raise DomainError(
                "values must increase with position: "
                f"{descriptor.value} is not above {descriptors[index - 1].value}",
                field=f"{where}.value",
            )
    order = [_BAND_ORDER[d.band] for d in descriptors if d.band is not None]
    if order != sorted(order):
        raise DomainError("bands must not go down the scale (below, at, above)", field=field)


_BAND_ORDER = {Band.BELOW: 0, Band.AT: 1, Band.ABOVE: 2}


def check_secure_from(
    kind: ScaleKind, descriptors: Sequence[DescriptorRule], secure_from: str | None
) -> None:
    """A depth scale names the descriptor from which an objective counts as secure; other
    kinds of scale do not."""
    if kind is not ScaleKind.DEPTH:
        if secure_from is not None:
            raise DomainError("only a depth scale has a secure point", field="secure_from")
        return
    if secure_from is None:
        raise DomainError(
            "a depth scale must say from which descriptor learning is secure", field="secure_from"
        )
    if secure_from not in {d.code for d in descriptors}:
        raise DomainError(f"no descriptor {secure_from} on this scale", field="secure_from")


def is_secure(value: Decimal, secure_value: Decimal | None) -> bool:
    """Whether a judgement counts as secure: its descriptor's value is at or above the value of
    the descriptor its depth scale is secure from (``secure_value``). On a scale with no secure
    point (not a depth scale), nothing is secure."""
    return secure_value is not None and value >= secure_value


# --- Number measures -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NumberRule:
    """A number column: a range, a precision, and optional thresholds for expected and above,
    such as KS2 scaled scores (80-120, 100 expected, 110 high) or standardised scores
    (70-141, 85 and 115)."""

    minimum: Decimal
    maximum: Decimal
    decimals: int = 0
    expected_from: Decimal | None = None
    above_from: Decimal | None = None

    def check(self) -> None:
        if not 0 <= self.decimals <= 4:
            raise DomainError("decimals must be between 0 and 4", field="decimals")
        if self.minimum >= self.maximum:
            raise DomainError("minimum must be below maximum", field="maximum")
        for name, threshold in (
            ("expected_from", self.expected_from),
            ("above_from", self.above_from),
        ):
            if threshold is not None and not self.minimum <= threshold <= self.maximum:
                raise DomainError("must lie between minimum and maximum", field=name)
        if self.above_from is not None and self.expected_from is None:
            raise DomainError("give expected_from as well", field="expected_from")
        if (
            self.above_from is not None
            and self.expected_from is not None
            and self.above_from <= self.expected_from
        ):
            raise DomainError("must be above expected_from", field="above_from")

    def check_value(self, value: Decimal) -> None:
        if not self.minimum <= value <= self.maximum:
            raise DomainError(f"must be between {self.minimum} and {self.maximum}")
        if value != round(value, self.decimals):
            raise DomainError(f"at most {self.decimals} decimal places")

    def band(self, value: Decimal) -> Band | None:
        """below / at / above expected, when the column says where expected starts."""
        if self.expected_from is None:
            return None
        if self.above_from is not None and value >= self.above_from:
            return Band.ABOVE
        return Band.AT if value >= self.expected_from else Band.BELOW
