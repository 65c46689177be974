"""Token usage (``_answers.usage``): counts to ``UsageMetadata``; bad counts dropped, the answer kept."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.usage import usage_metadata
from tests.support.wire_answers import RID, USAGE, USAGE_METADATA, chunk, stream


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


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
            {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
        ),
        (
            {"prompt_tokens": 5, "completion_tokens": 7},
            {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
        ),
        (
            {
                "prompt_tokens": 5,
                "completion_tokens": 7,
                "total_tokens": 12,
                "prompt_tokens_details": None,
                "completion_tokens_details": None,
            },
            {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
        ),
        (USAGE, USAGE_METADATA),
        (None, None),
        ({}, None),
    ],
)
def test_usage_metadata(usage: dict[str, Any] | None, expected: dict[str, Any] | None) -> None:
    assert usage_metadata(usage) == expected
