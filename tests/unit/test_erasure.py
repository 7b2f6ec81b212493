"""Erasing a pupil from records that mention them (app.domain.erasure): nothing that mentions
them is left, and nothing that does not is lost."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.domain.erasure import Marks, mentions, scrub

MARKS = Marks.of(
    keys=["9b1f0c7e-0000-4000-8000-000000000001", "A801200025977", "MIS-77"],
    names=["Zoe", "Quill", None, ""],
)
_mark = st.sampled_from(
    ["A801200025977", "mis-77", "Zoe", "QUILL", "9b1f0c7e-0000-4000-8000-000000000001"]
)
_text = st.text(alphabet="abcdefghij -_.0123456789", max_size=12)
_mentioning = st.builds(lambda a, m, b: f"{a} {m} {b}", _text, _mark, _text)
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), _text, _mentioning)
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_text, _mentioning), inner, max_size=4),
    ),
    max_leaves=20,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


@given(_json)
def test_nothing_left_mentions_the_pupil(value: Any) -> None:
    cleaned = scrub(value, MARKS)
    assert not mentions(cleaned, MARKS)
    assert scrub(cleaned, MARKS) == cleaned


@given(st.lists(st.one_of(_text, st.dictionaries(_text, _text, max_size=3)), max_size=6))
def test_what_does_not_mention_the_pupil_is_kept_as_it_was(value: list[Any]) -> None:
    assert scrub(value, MARKS) == value


@given(st.lists(_text, max_size=5), _mentioning)
def test_an_entry_naming_the_pupil_is_dropped_whole(others: list[str], row: str) -> None:
    rows = [{"key": key} for key in others] + [{"key": "x", "errors": [{"reason": row}]}]
    assert scrub(rows, MARKS) == [{"key": key} for key in others]


def test_names_are_whole_words_and_keys_anywhere() -> None:
    assert mentions("zoe_quill.xml", MARKS)  # an underscore separates words in a file name
    assert not mentions("Zoey Quillon", MARKS)  # other names that begin alike
    assert mentions("row 3: A801200025977 is taken", MARKS)
    assert mentions({"n": json.loads('"mis-77"')}, MARKS)
    assert scrub({"detail": "UPN A801200025977 refused", "status": 422}, MARKS) == {
        "detail": None,
        "status": 422,
    }
    assert not mentions("anything", Marks.of(keys=[None], names=[" "]))
