from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.schools import check_urn


@given(st.integers(min_value=100000, max_value=999999))
def test_six_digit_urns_are_accepted(number):
    assert check_urn(str(number)) == str(number)


@pytest.mark.parametrize(
    "urn",
    [
        "",
        "12345",
        "1234567",
        "012345",
        "12345a",
        " 123456",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "1\uff12\uff13\uff14\uff15\uff16",
        "123456\n",
    ],
)
def test_anything_else_is_not_a_urn(urn):
    with pytest.raises(DomainError) as raised:
        check_urn(urn)
    assert raised.value.field == "urn"
