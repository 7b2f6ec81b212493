"""Measure values: what a value sent for a measure means, and how it is stored and read back.

A measure is one of the school's data columns, and its kind says what a value may be:

- number: a number within the measure's range, with no more decimal places than it allows
  (a KS2 scaled score 80-120 in whole numbers; a reading age with one decimal). JSON numbers
  and numbers written as text ("104", "98.5") are both read; true/false are not numbers.
- scale: one of the descriptors of the measure's own scale, by its code ("EXS") or its id.
  The value keeps the descriptor and a copy of its numeric value, so reports can average it.
  An archived descriptor is no longer given.
- text: 1 to 1000 characters (trimmed).
- boolean: true or false; "yes"/"no", "Y"/"N" and "true"/"false" as text are read too.
- date: a date written YYYY-MM-DD.

Sending null clears a value (the clearing is kept in the history). Pure rules: no I/O.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from app.domain.errors import DomainError
from app.domain.scales import Band, MeasureKind, NumberRule

MAX_TEXT_LENGTH = 1000
# The stored number column keeps four decimal places (Numeric 12,4).
STORED_PLACES = Decimal("0.0001")

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TRUE = frozenset({"true", "yes", "y"})
_FALSE = frozenset({"false", "no", "n"})
_LISTED_CODES = 12  # descriptor codes named in a refusal


@dataclass(frozen=True, slots=True)
class ScaleStep:
    """A descriptor of a measure's scale, as values need it."""

    id: uuid.UUID
    code: str
    value: Decimal
    band: Band | None = None
    archived: bool = False


@dataclass(frozen=True, slots=True)
class MeasureRule:
    """What a measure accepts: its kind, and for numbers its range and decimals, for scales
    its scale's descriptors in order (archived ones included, so old values still read)."""

    kind: MeasureKind
    number: NumberRule | None = None
    steps: tuple[ScaleStep, ...] = ()
    records_working_year: bool = False
    _by_code: Mapping[str, ScaleStep] = field(init=False, repr=False, compare=False)
    _by_id: Mapping[uuid.UUID, ScaleStep] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {step.code: step for step in self.steps})
        object.__setattr__(self, "_by_id", {step.id: step for step in self.steps})

    def step(self, descriptor_id: uuid.UUID | None) -> ScaleStep | None:
        return None if descriptor_id is None else self._by_id.get(descriptor_id)


class MeasureLike(Protocol):
    """A measure as stored (its kind, and for numbers its range, decimals and thresholds)."""

    @property
    def kind(self) -> str: ...
    @property
    def minimum(self) -> Decimal | None: ...
    @property
    def maximum(self) -> Decimal | None: ...
    @property
    def decimals(self) -> int | None: ...
    @property
    def expected_from(self) -> Decimal | None: ...
    @property
    def above_from(self) -> Decimal | None: ...
    @property
    def records_working_year(self) -> bool: ...


class StepLike(Protocol):
    """A descriptor as stored."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def code(self) -> str: ...
    @property
    def value(self) -> Decimal: ...
    @property
    def band(self) -> str | None: ...
    @property
    def archived(self) -> bool: ...
    @property
    def position(self) -> int: ...


def measure_rule(measure: MeasureLike, descriptors: Iterable[StepLike] = ()) -> MeasureRule:
    """The rule a measure's values follow (``descriptors``: its scale's, for scale measures)."""
    kind = MeasureKind(measure.kind)
    number = None
    if kind is MeasureKind.NUMBER and measure.minimum is not None and measure.maximum is not None:
        number = NumberRule(
            Decimal(measure.minimum),
            Decimal(measure.maximum),
            measure.decimals or 0,
            None if measure.expected_from is None else Decimal(measure.expected_from),
            None if measure.above_from is None else Decimal(measure.above_from),
        )
    steps = tuple(
        ScaleStep(
            id=d.id,
            code=d.code,
            value=Decimal(d.value),
            band=None if d.band is None else Band(d.band),
            archived=d.archived,
        )
        for d in sorted(descriptors, key=lambda d: d.position)
    )
    return MeasureRule(
        kind=kind,
        number=number,
        steps=steps if kind is MeasureKind.SCALE else (),
        records_working_year=measure.records_working_year,
    )


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A value in the columns it is stored in: one of them set, or none (cleared). Scale
    values set both ``descriptor_id`` and ``number`` (the descriptor's value)."""

    number: Decimal | None = None
    descriptor_id: uuid.UUID | None = None
    text: str | None = None
    flag: bool | None = None
    value_on: date | None = None

    @classmethod
    def of(cls, row: Any) -> StoredValue:
        """A stored row (a mapping, or an object with the value columns) as a value."""
        get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
        return cls(
            number=get("number"),
            descriptor_id=get("descriptor_id"),
            text=get("text"),
            flag=get("flag"),
            value_on=get("value_on"),
        )

    @property
    def cleared(self) -> bool:
        return (
            self.number is None
            and self.descriptor_id is None
            and self.text is None
            and self.flag is None
            and self.value_on is None
        )

    def columns(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "descriptor_id": self.descriptor_id,
            "text": self.text,
            "flag": self.flag,
            "value_on": self.value_on,
        }

    def same_as(self, other: StoredValue) -> bool:
        """Whether two stored values are the same value. Numbers compare at the stored
        precision (four places), since a database may hand them back as 104.0000."""
        return (
            _stored_places(self.number) == _stored_places(other.number)
            and self.descriptor_id == other.descriptor_id
            and self.text == other.text
            and self.flag == other.flag
            and self.value_on == other.value_on
        )


CLEARED = StoredValue()


def _stored_places(number: Decimal | None) -> Decimal | None:
    return None if number is None else Decimal(number).quantize(STORED_PLACES)


def plain(number: Decimal) -> str:
    """A number as people write it: 80, not 80.000 or 8E+1."""
    try:
        if number == number.to_integral_value():
            return str(number.quantize(Decimal(1)))
        return format(number.normalize(), "f")
    except InvalidOperation:  # too many digits to write out: say it as it came
        return str(number)


# --- Reading a value -----------------------------------------------------------------------
def read_value(rule: MeasureRule, raw: Any, *, field: str = "value") -> StoredValue:
    """The value ``raw`` (as sent in JSON, or as read from a file cell) stored for a measure
    following ``rule``; None clears. Raises DomainError naming ``field`` and saying why."""
    if raw is None:
        return CLEARED
    try:
        match rule.kind:
            case MeasureKind.NUMBER:
                return StoredValue(number=_read_number(rule, raw))
            case MeasureKind.SCALE:
                step = _read_step(rule, raw)
                return StoredValue(number=step.value, descriptor_id=step.id)
            case MeasureKind.TEXT:
                return StoredValue(text=_read_text(raw))
            case MeasureKind.BOOLEAN:
                return StoredValue(flag=_read_flag(raw))
            case MeasureKind.DATE:
                return StoredValue(value_on=_read_date(raw))
    except DomainError as exc:
        raise DomainError(exc.message, field=field) from None
    raise DomainError(f"measures of kind {rule.kind} take no values", field=field)


def _read_number(rule: MeasureRule, raw: Any) -> Decimal:
    wanted = "must be a number, such as 104 or 98.5"
    if isinstance(raw, bool):
        raise DomainError(f"{wanted}, not true or false")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))  # 98.5 is 98.5, not its nearest binary fraction
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) > 40 or not _NUMBER.fullmatch(text):
            raise DomainError(f"{wanted}: {_quote(raw)} is not")
        number = Decimal(text)
    else:
        raise DomainError(wanted)
    if not number.is_finite():
        raise DomainError(wanted)
    if rule.number is None:
        raise DomainError("this measure has no range set: a leader must set one first")
    places = rule.number.decimals
    try:
        rule.number.check_value(number)
    except DomainError as exc:
        if not rule.number.minimum <= number <= rule.number.maximum:
            raise DomainError(
                f"must be between {plain(rule.number.minimum)} and "
                f"{plain(rule.number.maximum)}: {plain(number)} is not"
            ) from None
        raise DomainError(
            "must be a whole number" if places == 0 else f"at most {places} decimal places"
        ) from exc
    return number.quantize(Decimal(1).scaleb(-places))


def _read_step(rule: MeasureRule, raw: Any) -> ScaleStep:
    if not isinstance(raw, str) or not raw.strip():
        raise DomainError(f"must be a descriptor code of the measure's scale: {_codes(rule)}")
    text = raw.strip()
    step = rule._by_code.get(text)
    if step is None:
        folded = [s for s in rule.steps if s.code.casefold() == text.casefold()]
        step = folded[0] if len(folded) == 1 else None
    if step is None:
        try:
            step = rule._by_id.get(uuid.UUID(text))
        except ValueError:
            step = None
    if step is None:
        raise DomainError(f"no descriptor {_quote(text)} on this measure's scale: {_codes(rule)}")
    if step.archived:
        raise DomainError(f"descriptor {step.code} is archived: {_codes(rule)}")
    return step


def _codes(rule: MeasureRule) -> str:
    codes = [step.code for step in rule.steps if not step.archived]
    if not codes:
        return "the scale has no descriptors in use"
    listed = ", ".join(codes[:_LISTED_CODES])
    return f"use one of {listed}" + (", ..." if len(codes) > _LISTED_CODES else "")


def _read_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise DomainError("must be text")
    text = raw.strip()
    if not text:
        raise DomainError("is blank: send null to clear a value")
    if "\x00" in text:
        raise DomainError("must not contain the NUL character")
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainError(f"is {len(text)} characters: at most {MAX_TEXT_LENGTH} allowed")
    return text


def _read_flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise DomainError(f"must be true or false (yes/no, Y/N): {_quote(raw)} is not")


def _read_date(raw: Any) -> date:
    if isinstance(raw, datetime):  # a spreadsheet's date cell
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _DATE.fullmatch(raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise DomainError(f"{_quote(raw)} is not a date in the calendar") from None
    raise DomainError(f"must be a date written YYYY-MM-DD: {_quote(raw)} is not")


def _quote(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return repr(text[:40] + "..." if len(text) > 40 else text)


# --- Reading back ----------------------------------------------------------------------------
def shown(rule: MeasureRule, stored: StoredValue) -> int | float | str | bool | None:
    """The value as a client reads it back, typed by the measure's kind: a number, a
    descriptor's code, text, true/false, or a date written YYYY-MM-DD; None if cleared."""
    if stored.descriptor_id is not None:
        step = rule.step(stored.descriptor_id)
        return step.code if step is not None else None
    if stored.number is not None:
        number = Decimal(stored.number)
        if number == number.to_integral_value():
            return int(number)
        return float(plain(number))
    if stored.text is not None:
        return stored.text
    if stored.flag is not None:
        return stored.flag
    if stored.value_on is not None:
        return stored.value_on.isoformat()
    return None


def band(rule: MeasureRule, stored: StoredValue) -> Band | None:
    """below / at / above expected, where the measure says: a number against the measure's
    thresholds, a scale value by its descriptor's band. Other values have none."""
    if stored.descriptor_id is not None:
        step = rule.step(stored.descriptor_id)
        return step.band if step is not None else None
    if stored.number is not None and rule.number is not None:
        return rule.number.band(Decimal(stored.number))
    return None
