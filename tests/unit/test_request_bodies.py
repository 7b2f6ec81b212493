"""Request bodies: a JSON body found free of NUL holds no text with NUL, whatever its
encoding, so its rows need not each be searched again."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.api.schemas.base import json_nul_free

texts = st.text(alphabet=st.sampled_from(["\x00", "a", "\\", "u", "0", "\u00e9", "\U0001f600"]))
documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), texts),
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(texts, inner)),
    max_leaves=10,
)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *_texts(item)]]
    return []


@given(documents, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_a_body_found_free_of_nul_holds_no_text_with_nul(
    document: Any, ascii_only: bool, encoding: str
) -> None:
    body = json.dumps(document, ensure_ascii=ascii_only).encode(encoding)
    texts = _texts(json.loads(body))
    if json_nul_free(body):
        assert not any("\x00" in text for text in texts)
    elif encoding == "utf-8":
        # Vouched for short of that only if some text spells the escape out itself.
        assert any("\x00" in text or "\\" in text for text in texts)
