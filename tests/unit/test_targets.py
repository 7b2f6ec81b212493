"""A target's words (app.domain.targets.check_target_text) and a working year in words, as
properties."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.curriculum import year_in_words
from app.domain.errors import DomainError
from app.domain.targets import MAX_TEXT_LENGTH, TargetStatus, check_target_text, closing

# Printable text with no control, separator-line or bidirectional characters.
plain = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf"),
    ),
    min_size=1,
    max_size=MAX_TEXT_LENGTH,
).filter(lambda text: text.strip())


@given(plain)
def test_plain_words_are_kept_trimmed_and_nfc(text: str) -> None:
    stored = check_target_text(text)
    assert stored == unicodedata.normalize("NFC", text).strip()
    assert check_target_text(stored) == stored  # storing twice changes nothing


@given(plain, st.sampled_from(["\n", "\t", "\x07", "\u2028", "\u202e", "\u2066"]), st.data())
def test_a_control_or_bidirectional_character_anywhere_is_refused(
    text: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(text)))
    with pytest.raises(DomainError) as refused:
        check_target_text(text[:at] + bad + text[at:])
    assert refused.value.field == "text"


@given(st.integers(MAX_TEXT_LENGTH + 1, MAX_TEXT_LENGTH * 2))
def test_words_over_the_limit_are_refused(length: int) -> None:
    with pytest.raises(DomainError, match="at most"):
        check_target_text("a" * length)


@pytest.mark.parametrize("blank", ["", "   ", "\u3000"])
def test_blank_words_are_refused(blank: str) -> None:
    with pytest.raises(DomainError):
        check_target_text(blank)


@given(st.sampled_from(list(TargetStatus)), st.dates())
def test_only_an_open_target_has_no_closing_date(status: TargetStatus, today: date) -> None:
    assert closing(status, today) == (None if status is TargetStatus.OPEN else today)


@given(st.integers(1, 13))
def test_a_working_year_reads_as_year_n_and_reception_as_reception(year: int) -> None:
    assert year_in_words(year) == f"Year {year}"
    assert year_in_words(0) == "Reception" and year_in_words(None) is None
