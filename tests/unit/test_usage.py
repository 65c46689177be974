"""A server's ``usage`` to the ``usage_metadata`` the caller reads, whole and streamed."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler

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
