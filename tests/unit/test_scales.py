"""Scale and number-column rules without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.scales import (
    Band,
    DescriptorRule,
    NumberRule,
    ScaleKind,
    check_descriptors,
    check_secure_from,
    is_secure,
)

DEPTH = [
    DescriptorRule("B", Decimal(1)),
    DescriptorRule("D", Decimal(2)),
    DescriptorRule("S", Decimal(3)),
    DescriptorRule("G", Decimal(4)),
]


def test_a_four_step_depth_scale_is_valid_and_secure_from_its_third_step() -> None:
    check_descriptors(DEPTH)
    check_secure_from(ScaleKind.DEPTH, DEPTH, "S")
    secure_value = next(d.value for d in DEPTH if d.code == "S")
    assert [is_secure(d.value, secure_value) for d in DEPTH] == [False, False, True, True]


@pytest.mark.parametrize(
    ("descriptors", "field", "words"),
    [
        (DEPTH[:1], "descriptors", "at least two"),
        ([DEPTH[0], DescriptorRule("B", Decimal(2))], "descriptors.1.code", "also descriptor 0"),
        ([DEPTH[1], DEPTH[0]], "descriptors.1.value", "increase"),
        ([DEPTH[0], DescriptorRule("X", Decimal(1))], "descriptors.1.value", "increase"),
        (
            [DescriptorRule("A", Decimal(1), colour="red"), DEPTH[1]],
            "descriptors.0.colour",
            "#1A7F37",
        ),
        (
            [DescriptorRule("A", Decimal(1), Band.AT), DescriptorRule("B", Decimal(2), Band.BELOW)],
            "descriptors",
            "bands",
        ),
    ],
)
def test_bad_scales_name_the_descriptor(descriptors, field, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError, match=words) as caught:
        check_descriptors(descriptors)
    assert caught.value.field == field


def test_only_depth_scales_have_a_secure_point() -> None:
    with pytest.raises(DomainError):
        check_secure_from(ScaleKind.DEPTH, DEPTH, None)
    with pytest.raises(DomainError):
        check_secure_from(ScaleKind.DEPTH, DEPTH, "Z")
    with pytest.raises(DomainError):
        check_secure_from(ScaleKind.ATTAINMENT, DEPTH, "S")
    check_secure_from(ScaleKind.ATTAINMENT, DEPTH, None)


values = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


@given(st.lists(values, min_size=2, max_size=10, unique=True))
def test_any_strictly_increasing_values_make_a_scale(raw) -> None:  # type: ignore[no-untyped-def]
    ordered = sorted(raw)
    check_descriptors([DescriptorRule(f"C{i}", v) for i, v in enumerate(ordered)])
    if ordered != raw:
        with pytest.raises(DomainError, match="increase"):
            check_descriptors([DescriptorRule(f"C{i}", v) for i, v in enumerate(raw)])


@given(st.lists(values, min_size=2, max_size=10, unique=True), st.data())
def test_secure_is_monotonic_up_the_scale(raw, data) -> None:  # type: ignore[no-untyped-def]
    scale = [DescriptorRule(f"C{i}", v) for i, v in enumerate(sorted(raw))]
    secure_from = data.draw(st.sampled_from(scale)).code
    secure_value = next(d.value for d in scale if d.code == secure_from)
    flags = [is_secure(d.value, secure_value) for d in scale]
    assert flags == sorted(flags)  # never secure and then not again


KS2 = NumberRule(Decimal(80), Decimal(120), 0, Decimal(100), Decimal(110))
STANDARDISED = NumberRule(Decimal(70), Decimal(141), 0, Decimal(85), Decimal(115))


def test_scaled_scores_band_at_100_and_110() -> None:
    KS2.check()
    assert [KS2.band(Decimal(v)) for v in (99, 100, 109, 110, 120)] == [
        Band.BELOW,
        Band.AT,
        Band.AT,
        Band.ABOVE,
        Band.ABOVE,
    ]
    with pytest.raises(DomainError, match="between 80 and 120"):
        KS2.check_value(Decimal(121))
    with pytest.raises(DomainError, match="decimal"):
        KS2.check_value(Decimal("100.5"))


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (NumberRule(Decimal(10), Decimal(5)), "maximum"),
        (NumberRule(Decimal(0), Decimal(40), 5), "decimals"),
        (NumberRule(Decimal(0), Decimal(40), 0, Decimal(41)), "expected_from"),
        (NumberRule(Decimal(0), Decimal(40), 0, None, Decimal(30)), "expected_from"),
        (NumberRule(Decimal(0), Decimal(40), 0, Decimal(32), Decimal(32)), "above_from"),
    ],
)
def test_bad_number_columns_name_the_field(rule: NumberRule, field: str) -> None:
    with pytest.raises(DomainError) as caught:
        rule.check()
    assert caught.value.field == field


@given(st.integers(70, 141))
def test_standardised_bands_follow_the_thresholds(score: int) -> None:
    band = STANDARDISED.band(Decimal(score))
    assert band == (Band.ABOVE if score >= 115 else Band.AT if score >= 85 else Band.BELOW)
