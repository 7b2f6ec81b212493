"""Measure values without a database: what each kind of measure accepts, how it is stored,
read back and banded."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.curriculum import read_curriculum_year, year_label
from app.domain.errors import DomainError
from app.domain.scales import Band, MeasureKind, NumberRule
from app.domain.values import (
    CLEARED,
    MeasureRule,
    ScaleStep,
    StoredValue,
    band,
    plain,
    read_value,
    shown,
)

KS2 = MeasureRule(
    MeasureKind.NUMBER, NumberRule(Decimal(80), Decimal(120), 0, Decimal(100), Decimal(110))
)
READING_AGE = MeasureRule(MeasureKind.NUMBER, NumberRule(Decimal(4), Decimal(16), 1))
STEPS = (
    ScaleStep(uuid.uuid4(), "WTS", Decimal(1), Band.BELOW),
    ScaleStep(uuid.uuid4(), "EXS", Decimal(2), Band.AT),
    ScaleStep(uuid.uuid4(), "GDS", Decimal(3), Band.ABOVE),
    ScaleStep(uuid.uuid4(), "OLD", Decimal(4), None, archived=True),
)
TA = MeasureRule(MeasureKind.SCALE, steps=STEPS)
TEXT = MeasureRule(MeasureKind.TEXT)
FLAG = MeasureRule(MeasureKind.BOOLEAN)
DAY = MeasureRule(MeasureKind.DATE)


# --- Each kind -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "number"),
    [(104, "104"), (104.0, "104"), ("104", "104"), (" 98 ", "98"), ("100.0", "100"), (80, "80")],
)
def test_a_number_measure_reads_json_numbers_and_numbers_written_as_text(raw, number) -> None:  # type: ignore[no-untyped-def]
    stored = read_value(KS2, raw)
    assert stored == StoredValue(number=Decimal(number))
    assert shown(KS2, stored) == int(number)


def test_a_number_with_decimals_keeps_them_and_reads_back_as_a_number() -> None:
    stored = read_value(READING_AGE, "9.5")
    assert stored.number == Decimal("9.5")
    assert shown(READING_AGE, stored) == 9.5
    assert read_value(READING_AGE, 9.5).number == Decimal("9.5")


@pytest.mark.parametrize(
    ("rule", "raw", "words"),
    [
        (KS2, 79, "between 80 and 120: 79 is not"),
        (KS2, "121", "between 80 and 120"),
        (KS2, 104.5, "whole number"),
        (READING_AGE, "9.55", "at most 1 decimal places"),
        (KS2, True, "not true or false"),
        (KS2, "104a", "must be a number"),
        (KS2, "1,000", "must be a number"),
        (KS2, [104], "must be a number"),
        (KS2, float("nan"), "must be a number"),
        (KS2, float("inf"), "must be a number"),
        (KS2, 1e300, "between 80 and 120"),
        (TA, "XYZ", "no descriptor 'XYZ' on this measure's scale: use one of WTS, EXS, GDS"),
        (TA, "OLD", "descriptor OLD is archived"),
        (TA, 2, "must be a descriptor code"),
        (TA, "00000000-0000-4000-8000-000000000001", "no descriptor"),  # no descriptor has it
        (TEXT, "   ", "blank"),
        (TEXT, "x" * 1001, "at most 1000"),
        (TEXT, "a\x00b", "NUL"),
        (TEXT, 12, "must be text"),
        (FLAG, "maybe", "true or false"),
        (FLAG, 1, "true or false"),
        (DAY, "2025-02-30", "not a date in the calendar"),
        (DAY, "12/10/2025", "YYYY-MM-DD"),
        (DAY, 20251012, "YYYY-MM-DD"),
    ],
)
def test_values_a_measure_does_not_take_are_refused_with_a_reason(rule, raw, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        read_value(rule, raw, field="value")
    assert words in caught.value.message
    assert caught.value.field == "value"


def test_a_scale_value_is_a_descriptor_of_the_measures_own_scale_with_its_number() -> None:
    exs = STEPS[1]
    for raw in ("EXS", " exs ", str(exs.id)):
        stored = read_value(TA, raw)
        assert stored == StoredValue(number=Decimal(2), descriptor_id=exs.id)
        assert shown(TA, stored) == "EXS"
        assert band(TA, stored) is Band.AT


def test_text_is_trimmed_booleans_read_yes_and_no_dates_read_iso() -> None:
    assert read_value(TEXT, "  Good effort  ").text == "Good effort"
    for raw, flag in [(True, True), ("yes", True), ("Y", True), ("TRUE", True), ("n", False)]:
        assert read_value(FLAG, raw).flag is flag
    assert read_value(FLAG, False).flag is False
    assert shown(FLAG, read_value(FLAG, "no")) is False
    assert read_value(DAY, "2025-10-12").value_on == date(2025, 10, 12)
    assert read_value(DAY, datetime(2025, 10, 12, 0, 0)).value_on == date(2025, 10, 12)
    assert shown(DAY, read_value(DAY, "2025-10-12")) == "2025-10-12"


@pytest.mark.parametrize("rule", [KS2, TA, TEXT, FLAG, DAY])
def test_null_clears_a_value_of_any_kind(rule) -> None:  # type: ignore[no-untyped-def]
    assert read_value(rule, None) is CLEARED
    assert CLEARED.cleared
    assert shown(rule, CLEARED) is None and band(rule, CLEARED) is None


def test_numbers_band_by_the_measures_thresholds() -> None:
    assert [band(KS2, read_value(KS2, n)) for n in (99, 100, 109, 110)] == [
        Band.BELOW,
        Band.AT,
        Band.AT,
        Band.ABOVE,
    ]
    assert band(READING_AGE, read_value(READING_AGE, 9)) is None


def test_a_value_read_back_from_the_database_at_four_places_is_the_same_value() -> None:
    assert StoredValue(number=Decimal("104")).same_as(StoredValue(number=Decimal("104.0000")))
    assert not StoredValue(number=Decimal("104")).same_as(StoredValue(number=Decimal("104.5")))
    assert not StoredValue(flag=True).same_as(StoredValue(flag=False))
    assert not CLEARED.same_as(StoredValue(text="x"))


def test_curriculum_years_are_one_year_r_to_13() -> None:
    assert [read_curriculum_year(raw) for raw in ("R", "4", 4, "Y6", "13")] == [0, 4, 4, 6, 13]
    assert [year_label(y) for y in (0, 4, None)] == ["R", "4", None]
    for raw, words in [
        ("3-4", "one year"),
        ("N2", "not a year"),
        (14, "out of range"),
        (True, "R"),
    ]:
        with pytest.raises(DomainError, match=words) as caught:
            read_curriculum_year(raw)
        assert caught.value.field == "curriculum_year"


def test_numbers_are_written_plainly_in_messages() -> None:
    assert [plain(Decimal(x)) for x in ("80.000", "8E+1", "98.500", "0.25")] == [
        "80",
        "80",
        "98.5",
        "0.25",
    ]


# --- Properties ----------------------------------------------------------------------------
@st.composite
def number_rules(draw: st.DrawFn) -> NumberRule:
    decimals = draw(st.integers(0, 4))
    low = draw(st.integers(-10_000, 10_000))
    high = draw(st.integers(low + 1, low + 100_000))
    return NumberRule(Decimal(low), Decimal(high), decimals)


@given(rule=number_rules(), data=st.data())
def test_any_in_range_number_with_the_right_decimals_is_accepted_and_reads_back(  # type: ignore[no-untyped-def]
    rule, data
) -> None:
    step = Decimal(1).scaleb(-rule.decimals)
    units = data.draw(st.integers(0, int((rule.maximum - rule.minimum) / step)))
    number = rule.minimum + units * step
    measure = MeasureRule(MeasureKind.NUMBER, rule)
    as_sent = data.draw(st.sampled_from([str(number), number, float(number)]))
    stored = read_value(measure, as_sent)
    assert stored.number == number
    assert Decimal(str(shown(measure, stored))) == number
    assert read_value(measure, str(shown(measure, stored))).same_as(stored)


@given(rule=number_rules(), beyond=st.integers(1, 10**9), below=st.booleans())
def test_a_number_out_of_range_is_always_refused(rule, beyond, below) -> None:  # type: ignore[no-untyped-def]
    number = rule.minimum - beyond if below else rule.maximum + beyond
    with pytest.raises(DomainError, match="must be between"):
        read_value(MeasureRule(MeasureKind.NUMBER, rule), number)


@given(rule=number_rules(), extra=st.integers(1, 9))
def test_a_number_with_too_many_decimals_is_always_refused(rule, extra) -> None:  # type: ignore[no-untyped-def]
    number = rule.minimum + Decimal(extra).scaleb(-(rule.decimals + 1))
    with pytest.raises(DomainError):
        read_value(MeasureRule(MeasureKind.NUMBER, rule), str(number))


@given(text=st.text(min_size=1, max_size=1000))
def test_text_round_trips_trimmed_or_is_refused(text) -> None:  # type: ignore[no-untyped-def]
    try:
        stored = read_value(TEXT, text)
    except DomainError:
        assert not text.strip() or "\x00" in text
    else:
        assert stored.text == text.strip() == shown(TEXT, stored)


@given(raw=st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans()))
def test_anything_sent_is_stored_in_its_kinds_column_or_refused_never_an_error(raw) -> None:  # type: ignore[no-untyped-def]
    for rule, column in ((KS2, "number"), (TA, "descriptor_id"), (FLAG, "flag"), (DAY, "value_on")):
        try:
            stored = read_value(rule, raw)
        except DomainError as exc:
            assert exc.field == "value" and exc.message
        else:
            set_columns = {k for k, v in stored.columns().items() if v is not None}
            assert column in set_columns
