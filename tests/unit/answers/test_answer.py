"""A whole wire answer (``_answers.answer.chat_result``) -> exactly what the user gets back."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.exceptions import ModelError
from langchain_core.messages import AIMessage

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm.errors import MalformedResponseError
from tests.support.wire_answers import RID, USAGE, USAGE_METADATA, answer, body


def test_plain_answer() -> None:
    result = chat_result(
        body({"content": "A cat on a mat."}, usage=USAGE), inference_provider="together"
    )
    (generation,) = result.generations
    message = generation.message
    assert isinstance(message, AIMessage)
    assert message.content == "A cat on a mat."
    assert message.id == RID
    assert message.tool_calls == []
    assert message.invalid_tool_calls == []
    assert message.additional_kwargs == {}
    assert message.usage_metadata == USAGE_METADATA
    assert message.response_metadata == {
        "model_name": "Qwen/Qwen2.5-VL-7B-Instruct",
        "finish_reason": "stop",
        "id": RID,
        "system_fingerprint": "3.2.0-native",
        "logprobs": None,
        "model_provider": "huggingface",
        "inference_provider": "together",
    }
    assert generation.generation_info == {"finish_reason": "stop"}
    assert result.llm_output == {
        "model_name": "Qwen/Qwen2.5-VL-7B-Instruct",
        "id": RID,
        "token_usage": USAGE,
    }


def test_no_inference_provider_key_without_header_and_logprobs_kept() -> None:
    logprobs = {"content": [{"token": "A", "logprob": -0.1, "top_logprobs": []}]}
    raw = body({"content": "A"})
    raw["choices"][0]["logprobs"] = logprobs
    result = chat_result(raw)
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    assert "inference_provider" not in message.response_metadata
    assert message.response_metadata["logprobs"] == logprobs
    assert result.generations[0].generation_info == {"finish_reason": "stop", "logprobs": logprobs}
    assert message.usage_metadata is None


def test_null_content_becomes_empty_string() -> None:
    assert answer({"content": None}).content == ""


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param({"id": RID, "choices": []}, "has no choices", id="empty"),
        pytest.param({"id": RID}, "has no choices", id="missing"),
        pytest.param({"choices": None}, "has no choices", id="null"),
        pytest.param({"choices": "text"}, "choices of type str, not a list", id="string"),
        pytest.param({"choices": {"0": {}}}, "choices of type dict, not a list", id="object"),
        pytest.param({"choices": [None]}, "choice 0 is null, not an object", id="null-choice"),
        pytest.param({"choices": ["hi"]}, "choice 0 is str, not an object", id="string-choice"),
        pytest.param(
            {"choices": [{"message": "hi"}]}, "choice 0: message is str", id="string-message"
        ),
        pytest.param(
            {"choices": [{"message": {"content": 42}}]},
            "choice 0: message.content is int, not text",
            id="number-content",
        ),
        pytest.param(
            {"choices": [{"message": {"content": [1, 2]}}]},
            "choice 0: message.content is list, not text",
            id="list-of-numbers-content",
        ),
        pytest.param(
            {"choices": [{"message": {"tool_calls": [None]}}]},
            r"choice 0: message.tool_calls\[0\] is null, not an object",
            id="null-tool-call",
        ),
        pytest.param(
            {"choices": [{"message": {"tool_calls": {"a": 1}}}]},
            "choice 0: message.tool_calls is dict, not a list",
            id="tool-calls-object",
        ),
        pytest.param(
            {"choices": [{"message": {"tool_calls": [{"function": "f"}]}}]},
            r"tool_calls\[0\].function is str, not an object",
            id="string-function",
        ),
        pytest.param([1, 2], "answer is list, not an object", id="list-body"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_malformed_response(body: Any, problem: str) -> None:
    with pytest.raises(MalformedResponseError, match=problem) as info:
        chat_result(body, request_id="req-7")
    assert isinstance(info.value, ModelError)
    assert info.value.request_id == "req-7"
    assert "(request id req-7)" in str(info.value)


def test_an_unforeseen_shape_is_a_malformed_response_too() -> None:
    body = {"choices": [{"message": {"tool_calls": [{"index": [], "function": {"name": 3}}]}}]}
    with pytest.raises(MalformedResponseError, match="could not be read"):
        chat_result(body)


def test_content_as_a_list_of_blocks_is_kept() -> None:
    blocks = [{"type": "text", "text": "A cat."}]
    assert answer({"content": blocks}).content == blocks


def test_an_id_that_is_not_text_is_dropped() -> None:
    body = {"id": 42, "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    message = chat_result(body).generations[0].message
    assert (message.content, message.id) == ("hi", None)


@pytest.mark.parametrize("key", ["reasoning", "reasoning_content"])
def test_reasoning_under_either_key(key: str) -> None:
    message = answer({"content": "Two cats.", key: "I count the cats."})
    assert message.additional_kwargs == {"reasoning_content": "I count the cats."}
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "I count the cats."},
        {"type": "text", "text": "Two cats."},
    ]


def test_refusal_is_kept() -> None:
    message = answer({"content": None, "refusal": "I can't help with that."})
    assert message.additional_kwargs == {"refusal": "I can't help with that."}


def test_one_generation_per_choice() -> None:
    raw = body({"content": "one"})
    raw["choices"].append(
        {"index": 1, "message": {"role": "assistant", "content": "two"}, "finish_reason": "length"}
    )
    result = chat_result(raw)
    assert [g.message.content for g in result.generations] == ["one", "two"]
    assert [g.generation_info for g in result.generations] == [
        {"finish_reason": "stop"},
        {"finish_reason": "length"},
    ]
