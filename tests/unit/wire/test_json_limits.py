"""JSON from servers: nesting is bounded, whatever the strings hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_hf_vlm._wire.json_limits import MAX_DEPTH, JSONTooDeepError, loads, too_deep

TRICKY_TEXT = st.text(alphabet='[]{}"\\ aé\n', max_size=6)
VALUES = st.recursive(
    st.none() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@settings(max_examples=500, deadline=None, database=None)
@given(VALUES, st.integers(0, 4), st.booleans())
def test_too_deep_measures_the_nesting_outside_strings(
    value: Any, limit: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert too_deep(text, limit) == (depth(value) > limit)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5000, 100_000])
def test_loads_refuses_deep_nesting(levels: int) -> None:
    with pytest.raises(JSONTooDeepError, match=f"more than {MAX_DEPTH} levels"):
        loads("[" * levels + "]" * levels)
    with pytest.raises(JSONTooDeepError):
        loads(b'{"a": ' + b"[" * levels + b"]" * levels + b"}")


def test_loads_takes_what_fits() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert depth(loads(text)) == MAX_DEPTH
    assert loads(b'{"t": "\\u00e9[[["}') == {"t": "é[[["}


def test_invalid_utf8_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="utf-8"):
        loads(b'{"t": "\xff"}')
