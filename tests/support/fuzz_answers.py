"""Hypothesis strategies: valid chat-completion answers (JSON and SSE), then mutated.

Mutations are what servers and proxies get wrong: a value of the wrong type anywhere in the
tree, a key dropped, huge or non-finite numbers, deep nesting, truncated or junk bytes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st
from langchain_core.messages import BaseMessage

USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}
TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
ANSWERS: list[dict[str, Any]] = [
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "tiny/vlm",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A cat on a mat."},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": USAGE,
    },
    {
        "id": "chatcmpl-2",
        "model": "tiny/vlm",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "reasoning": "thinking",
                    "tool_calls": [TOOL_CALL, {**TOOL_CALL, "id": "0"}],
                },
                "finish_reason": "tool_calls",
            },
            {"index": 1, "message": {"content": "two"}, "finish_reason": "length"},
        ],
    },
]
CHUNKS: list[dict[str, Any]] = [
    {"id": "c1", "model": "tiny/vlm", "choices": [{"index": 0, "delta": {"role": "assistant"}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]},
    {
        "id": "c1",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, **TOOL_CALL}]},
            }
        ],
    },
    {"id": "c1", "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
    {"id": "c1", "choices": [], "usage": USAGE},
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "0", "null", "[DONE]", "lots", "{", "\x00"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            paths += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            paths += _paths(value, (*prefix, index))
    return paths


def _replace(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return tree


def _delete(tree: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return tree
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return tree


@st.composite
def mutated_tree(draw: st.DrawFn, template: Any) -> Any:
    """``template`` with one to three nodes replaced, removed, or nested deeply."""
    tree = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(tree)))
        action = draw(st.sampled_from(["replace", "replace", "delete", "nest"]))
        if action == "replace":
            tree = _replace(tree, path, draw(JSON_VALUES))
        elif action == "delete":
            tree = _delete(tree, path)
        else:
            depth = draw(st.sampled_from([2, 50, 900]))
            value: Any = "deep"
            for _ in range(depth):
                value = [value] if draw(st.booleans()) else {"k": value}
            tree = _replace(tree, path, value)
    return tree


def dumps(tree: Any) -> bytes:
    return json.dumps(tree, allow_nan=True).encode()


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with junk inserted, or with a byte changed."""
    action = draw(st.sampled_from(["truncate", "insert", "flip", "deep", "same"]))
    if action == "same" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if action == "truncate":
        return data[:at]
    if action == "insert":
        junk = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"\n", b"\n\n", b"\r"]))
        return data[:at] + junk + data[at:]
    if action == "deep":
        depth = draw(st.sampled_from([1000, 100_000]))
        return data[:at] + b"[" * depth + b"]" * depth + data[at:]
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


@st.composite
def answer_bytes(draw: st.DrawFn) -> bytes:
    """A non-streamed answer body, mutated as a tree, and a third of the time as bytes too
    (which mostly makes it not JSON)."""
    data = dumps(draw(mutated_tree(draw(st.sampled_from(ANSWERS)))))
    return draw(mutated_bytes(data)) if draw(st.integers(0, 2)) == 0 else data


@st.composite
def stream_bytes(draw: st.DrawFn) -> bytes:
    """An SSE body: chunks (some mutated), maybe ``[DONE]``, then byte-level damage."""
    chunks = draw(st.lists(st.sampled_from(CHUNKS), min_size=1, max_size=6))
    events = []
    for chunk in chunks:
        if draw(st.integers(0, 3)) == 0:
            chunk = draw(mutated_tree(chunk))
        events.append(b"data: " + dumps(chunk) + b"\n\n")
    if draw(st.booleans()):
        events.append(b"data: [DONE]\n\n")
    return draw(mutated_bytes(b"".join(events)))


def assert_valid(message: BaseMessage) -> None:
    """What a caller may rely on: text or blocks, sane usage, parsed tool calls, and a message
    that serializes (tracing does)."""
    assert isinstance(message.content, (str, list))
    assert isinstance(message.text, str)
    usage = getattr(message, "usage_metadata", None)
    if usage is not None:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            assert isinstance(usage[key], int) and usage[key] >= 0
    for call in getattr(message, "tool_calls", []):
        assert isinstance(call["args"], dict)
    json.loads(message.model_dump_json())
