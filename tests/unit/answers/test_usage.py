"""Token usage (``_answers.usage``): a server's ``usage`` to the ``usage_metadata`` the caller reads,
whole and streamed; bad counts dropped, the answer kept."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm._answers.usage import read_usage
from tests.support.wire_answers import RID, chunk, stream


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        pytest.param({"prompt_tokens": float("inf"), "completion_tokens": 3}, "inf", id="1e400"),
        pytest.param({"prompt_tokens": float("nan"), "completion_tokens": 3}, "nan", id="nan"),
        pytest.param({"prompt_tokens": "lots", "completion_tokens": 3}, "'lots'", id="text"),
        pytest.param({"prompt_tokens": -1, "completion_tokens": 3}, "-1", id="negative"),
        pytest.param({"prompt_tokens": 1.5, "completion_tokens": 3}, "1.5", id="fraction"),
        pytest.param({"total_tokens": True}, "True", id="bool"),
        pytest.param({"prompt_tokens": 10**30}, "1000000", id="huge"),
        pytest.param("lots", "it is str, not an object", id="usage-text"),
        pytest.param([1, 2], "it is list, not an object", id="usage-list"),
    ],
)
def test_bad_usage_is_dropped_and_the_answer_kept(usage: Any, problem: str) -> None:
    body = {
        "id": RID,
        "choices": [{"message": {"content": "A cat."}, "finish_reason": "stop"}],
        "usage": usage,
    }
    message = chat_result(body).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.content == "A cat."
    assert message.usage_metadata is None
    assert message.response_metadata["usage_error"].startswith("usage dropped: ")
    assert problem in message.response_metadata["usage_error"]
    chunks = [chunk({"content": "A cat."}, "stop"), {**chunk(choices=False), "usage": usage}]
    _, merged = stream(chunks)
    assert merged.content == "A cat."
    assert merged.usage_metadata is None
    assert problem in merged.response_metadata["usage_error"]


def test_a_bad_usage_detail_is_dropped_and_the_counts_kept() -> None:
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": 7,
        "total_tokens": 12.0,
        "prompt_tokens_details": {"cached_tokens": "some"},
        "completion_tokens_details": "none",
    }
    body = {"choices": [{"message": {"content": "hi"}}], "usage": usage}
    message = chat_result(body).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.usage_metadata == {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}
    assert message.response_metadata["usage_error"] == (
        "usage details dropped: prompt_tokens_details.cached_tokens='some' is not a token count"
    )


COUNTS = {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}
CASES = [
    pytest.param(
        {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}, COUNTS, id="all"
    ),
    pytest.param({"prompt_tokens": 5, "completion_tokens": 7}, COUNTS, id="no-total"),
    pytest.param(
        {
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "total_tokens": 12,
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        },
        COUNTS,
        id="null-details",
    ),
    pytest.param(
        {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 12},
        },
        {
            "input_tokens": 120,
            "output_tokens": 30,
            "total_tokens": 150,
            "input_token_details": {"cache_read": 64},
            "output_token_details": {"reasoning": 12},
        },
        id="details",
    ),
    pytest.param(None, None, id="null"),
    pytest.param({}, None, id="empty"),
]


@pytest.mark.parametrize(("usage", "expected"), CASES)
def test_usage_of_a_whole_answer(usage: dict[str, Any] | None, expected: Any) -> None:
    body = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}], "usage": usage}
    message = chat_result(body).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.usage_metadata == expected
    assert "usage_error" not in message.response_metadata


@pytest.mark.parametrize(("usage", "expected"), CASES)
def test_usage_of_a_stream(usage: dict[str, Any] | None, expected: Any) -> None:
    assembler = StreamAssembler()
    assembler.feed({"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]})
    assembler.feed({"choices": [], "usage": usage})
    message = assembler.final().message
    assert isinstance(message, AIMessage)
    assert message.usage_metadata == expected
    assert "usage_error" not in message.response_metadata


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
        {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 0},
        {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        {"prompt_tokens": 2**63 - 1, "completion_tokens": 0, "total_tokens": 2**63 - 1},
        {"prompt_tokens": 2**63, "completion_tokens": 0, "total_tokens": 1},
        {"prompt_tokens": 10, "completion_tokens": -3, "total_tokens": 7},
        {"prompt_tokens": True, "completion_tokens": 3, "total_tokens": 4},
        {"prompt_tokens": 10.0, "completion_tokens": 3, "total_tokens": 13},
        {"prompt_tokens": 10, "completion_tokens": 3},
        {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "extra": 1},
        {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "prompt_tokens_details": None,
        },
        {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "prompt_tokens_details": {},
        },
        {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
        {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 4},
        },
        {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    ],
)
def test_the_usual_usage_reads_as_any_mapping_does(usage: dict[str, Any]) -> None:
    """A plain dict of three counts takes a short path; any other mapping the general one:
    both read the same."""
    assert read_usage(usage) == read_usage(MappingProxyType(usage))
