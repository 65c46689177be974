"""Wire answers and stream chunks -> exactly what the user gets back."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from langchain_core.exceptions import ModelError
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm.errors import MalformedResponseError

RID = "chatcmpl-42"
USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 30,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 64},
    "completion_tokens_details": {"reasoning_tokens": 12},
}
USAGE_METADATA = {
    "input_tokens": 120,
    "output_tokens": 30,
    "total_tokens": 150,
    "input_token_details": {"cache_read": 64},
    "output_token_details": {"reasoning": 12},
}


def body(message: dict[str, Any], finish_reason: str = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": RID,
        "object": "chat.completion",
        "created": 1700000000,
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "system_fingerprint": "3.2.0-native",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        **extra,
    }


def answer(message: dict[str, Any], **extra: Any) -> AIMessage:
    result = chat_result(body(message, **extra))
    (generation,) = result.generations
    assert isinstance(generation.message, AIMessage)
    return generation.message


def call(name: str, arguments: Any, call_id: Any = "call_x") -> dict[str, Any]:
    raw: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not ...:
        raw["id"] = call_id
    return raw


# ---------------------------------------------------------------- chat_result


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


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('{"city": "Paris", "days": 3}', id="string-args"),
        pytest.param({"city": "Paris", "days": 3}, id="object-args-tgi-before-3.2"),
    ],
)
def test_tool_call_arguments_as_string_or_object(arguments: Any) -> None:
    message = answer({"content": None, "tool_calls": [call("get_weather", arguments, "call_1")]})
    assert message.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Paris", "days": 3},
            "id": "call_1",
            "type": "tool_call",
        }
    ]
    assert message.invalid_tool_calls == []
    assert message.content == ""


def test_tool_call_with_finish_reason_stop_is_parsed() -> None:
    # TGI: one call, id "0", finish_reason "stop", object arguments (before 3.2).
    message = answer(
        {"content": "", "tool_calls": [call("get_weather", {"city": "Oslo"}, "0")]},
        finish_reason="stop",
    )
    assert message.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Oslo"},
            "id": f"call_{RID}_0",
            "type": "tool_call",
        }
    ]
    assert message.response_metadata["finish_reason"] == "stop"


def test_empty_arguments_mean_no_arguments() -> None:
    message = answer({"tool_calls": [call("now", ""), call("today", None, "call_y")]})
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("now", {}, "call_x"),
        ("today", {}, "call_y"),
    ]


def test_null_arguments_mean_no_arguments() -> None:
    # vLLM's hermes parser, for a model that wrote "arguments": null (as langchain-core's
    # parse_tool_call and ChatOpenAI read it)
    message = answer({"tool_calls": [call("now", "null"), call("today", " null ", "call_y")]})
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("now", {}, "call_x"),
        ("today", {}, "call_y"),
    ]
    assert message.invalid_tool_calls == []


@pytest.mark.parametrize(
    ("server_ids", "expected"),
    [
        pytest.param([...], [f"call_{RID}_0"], id="missing"),
        pytest.param([""], [f"call_{RID}_0"], id="empty"),
        pytest.param(["0"], [f"call_{RID}_0"], id="tgi-zero"),
        pytest.param([None], [f"call_{RID}_0"], id="null"),
        pytest.param(
            ["0", "0", "0"], [f"call_{RID}_0", f"call_{RID}_1", f"call_{RID}_2"], id="zeros"
        ),
        pytest.param(["call_a", "call_a"], ["call_a", f"call_{RID}_1"], id="repeated"),
        pytest.param(["call_a", "call_b"], ["call_a", "call_b"], id="kept"),
    ],
)
def test_tool_call_ids_are_unique(server_ids: list[Any], expected: list[str]) -> None:
    raw_calls = [call("f", {"i": i}, server_id) for i, server_id in enumerate(server_ids)]
    message = answer({"tool_calls": raw_calls})
    assert [c["id"] for c in message.tool_calls] == expected
    assert [c["args"] for c in message.tool_calls] == [{"i": i} for i in range(len(server_ids))]


def test_tool_call_ids_without_response_id_are_unique() -> None:
    raw = body({"tool_calls": [call("f", "{}", "0"), call("g", "{}", "0")]})
    del raw["id"]
    ids = [c["id"] for c in chat_result(raw).generations[0].message.tool_calls]  # type: ignore[attr-defined]
    assert len(set(ids)) == 2
    assert all(i and i.startswith("call_") for i in ids)


@pytest.mark.parametrize(
    ("name", "arguments", "text"),
    [
        pytest.param(
            "notify_error",
            {"error": "No tool fits the request."},
            "No tool fits the request.",
            id="notify_error-object",
        ),
        pytest.param(
            "notify_error",
            '{"_name": "notify_error", "error": "Cannot see the image."}',
            "Cannot see the image.",
            id="notify_error-string",
        ),
        pytest.param(
            "no_tool", {"_name": "no_tool", "content": "Hello there!"}, "Hello there!", id="no_tool"
        ),
        pytest.param("no_tool", "just text, not JSON", "just text, not JSON", id="no_tool-raw"),
    ],
)
def test_tgi_pseudo_tools_become_text(name: str, arguments: Any, text: str) -> None:
    message = answer({"content": None, "tool_calls": [call(name, arguments, "0")]})
    assert message.content == text
    assert message.tool_calls == []
    assert message.invalid_tool_calls == []


def test_pseudo_tool_text_follows_existing_content() -> None:
    message = answer({"content": "Hmm.", "tool_calls": [call("no_tool", {"content": "Hi"}, "0")]})
    assert message.content == "Hmm.\nHi"


@pytest.mark.parametrize(
    ("arguments", "error_fragment"),
    [
        pytest.param('{"city": "Par', "Unterminated string", id="truncated"),
        pytest.param("city=Paris", "Expecting value", id="not-json"),
        pytest.param("[1, 2]", "arguments are not a JSON object", id="json-list"),
    ],
)
def test_invalid_arguments_go_to_invalid_tool_calls(arguments: str, error_fragment: str) -> None:
    message = answer(
        {"tool_calls": [call("get_weather", arguments, "call_bad"), call("ok", "{}", "call_ok")]}
    )
    assert message.tool_calls == [{"name": "ok", "args": {}, "id": "call_ok", "type": "tool_call"}]
    (invalid,) = message.invalid_tool_calls
    assert invalid["name"] == "get_weather"
    assert invalid["args"] == arguments
    assert invalid["id"] == "call_bad"
    assert invalid["type"] == "invalid_tool_call"
    assert invalid["error"] is not None
    assert error_fragment in invalid["error"]


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


# ---------------------------------------------------------------- streaming


def chunk(
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    *,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": RID,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "vlm",
        "system_fingerprint": "fp_1",
        "choices": (
            [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}]
            if choices
            else []
        ),
    }
    if usage is not None:
        data["usage"] = usage
    return data


def stream(
    chunks: Iterable[dict[str, Any]], *, provider: str | None = None
) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    """Feed the chunks; return the yielded messages (final one last) and their sum."""
    assembler = StreamAssembler(inference_provider=provider)
    messages: list[AIMessageChunk] = []
    for raw in chunks:
        for generation in assembler.feed(raw):
            assert isinstance(generation.message, AIMessageChunk)
            messages.append(generation.message)
    final = assembler.final().message
    assert isinstance(final, AIMessageChunk)
    messages.append(final)
    merged = sum(messages[1:], messages[0])
    assert isinstance(merged, AIMessageChunk)
    return messages, merged


SMALL_USAGE = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
SMALL_USAGE_METADATA = {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}
TEXT_STREAMS = {
    "usage-in-separate-final-chunk": [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"content": "!"}, "stop"),
        chunk(usage=SMALL_USAGE, choices=False),
    ],
    "usage-on-finishing-chunk": [
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"content": "!"}, "stop", usage=SMALL_USAGE),
    ],
    "cumulative-usage-on-every-chunk": [
        chunk(
            {"role": "assistant", "content": "Hel"},
            usage={"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        ),
        chunk(
            {"content": "lo"},
            usage={"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        ),
        chunk({"content": "!"}, usage=SMALL_USAGE),
        chunk({}, "stop", usage=SMALL_USAGE),
        chunk(usage=SMALL_USAGE, choices=False),
    ],
}


@pytest.mark.parametrize("chunks", TEXT_STREAMS.values(), ids=TEXT_STREAMS.keys())
def test_text_stream_merges_to_one_answer(chunks: list[dict[str, Any]]) -> None:
    messages, merged = stream(chunks, provider="nebius")
    assert merged.content == "Hello!"
    assert merged.id == RID
    assert merged.usage_metadata == SMALL_USAGE_METADATA
    assert merged.response_metadata == {
        "model_name": "vlm",
        "finish_reason": "stop",
        "id": RID,
        "system_fingerprint": "fp_1",
        "model_provider": "huggingface",
        "inference_provider": "nebius",
    }
    assert merged.tool_calls == []
    # Only the final chunk carries the finish reason, model name and usage.
    for message in messages[:-1]:
        assert "finish_reason" not in message.response_metadata
        assert "model_name" not in message.response_metadata
        assert message.usage_metadata is None
    assert messages[-1].chunk_position == "last"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(42, "a stream chunk is int, not an object", id="number"),
        pytest.param([{}], "a stream chunk is list, not an object", id="list"),
        pytest.param({"choices": [None]}, "choice is null, not an object", id="null-choice"),
        pytest.param({"choices": ["x"]}, "choice is str, not an object", id="string-choice"),
        pytest.param({"choices": "x"}, "choices of type str, not a list", id="string-choices"),
        pytest.param({"choices": [{"delta": "x"}]}, "delta is str, not an object", id="delta"),
        pytest.param(
            {"choices": [{"delta": {"content": 42}}]}, "delta.content is int", id="content"
        ),
        pytest.param(
            {"choices": [{"delta": {"tool_calls": [7]}}]},
            r"delta.tool_calls\[0\] is int",
            id="tool-call",
        ),
    ],
)
def test_a_stream_chunk_of_the_wrong_shape_is_a_malformed_response(raw: Any, problem: str) -> None:
    assembler = StreamAssembler(request_id="req-9")
    assert assembler.feed(chunk({"content": "Hel"}))
    with pytest.raises(MalformedResponseError, match=problem) as info:
        assembler.feed(raw)
    assert info.value.request_id == "req-9"


def test_stream_without_finish_reason_and_usage() -> None:
    assembler = StreamAssembler()
    list(assembler.feed(chunk({"content": "partial"})))
    assert not assembler.finished
    final = assembler.final()
    assert final.message.response_metadata["finish_reason"] is None
    assert final.message.usage_metadata is None  # type: ignore[attr-defined]
    assert final.generation_info == {"finish_reason": None}
    list(assembler.feed(chunk({}, "length")))
    assert assembler.finished
    assert assembler.final().generation_info == {"finish_reason": "length"}


def test_streamed_reasoning() -> None:
    _, merged = stream(
        [
            chunk({"role": "assistant", "reasoning": "Count "}),
            chunk({"reasoning_content": "the cats."}),
            chunk({"content": "Two."}, "stop"),
        ]
    )
    assert merged.additional_kwargs == {"reasoning_content": "Count the cats."}
    assert merged.content == "Two."


def test_chunks_for_other_choices_are_ignored() -> None:
    other = chunk({"content": "ignored"})
    other["choices"][0]["index"] = 1
    _, merged = stream([chunk({"content": "kept"}), other, chunk({}, "stop")])
    assert merged.content == "kept"


def test_streamed_logprobs_are_kept() -> None:
    logprobs = {"content": [{"token": "Hi", "logprob": -0.5, "top_logprobs": []}]}
    first = chunk({"content": "Hi"}, "stop")
    first["choices"][0]["logprobs"] = logprobs
    assembler = StreamAssembler()
    (generation,) = assembler.feed(first)
    assert generation.generation_info == {"logprobs": logprobs}
    assert assembler.final().generation_info == {"finish_reason": "stop", "logprobs": logprobs}


def tool_delta(
    index: int, *, call_id: Any = ..., name: Any = ..., args: Any = ...
) -> dict[str, Any]:
    raw: dict[str, Any] = {"index": index, "type": "function", "function": {}}
    if call_id is not ...:
        raw["id"] = call_id
    if name is not ...:
        raw["function"]["name"] = name
    if args is not ...:
        raw["function"]["arguments"] = args
    return {"tool_calls": [raw]}


def split(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


WEATHER_ARGS = '{"city": "Paris", "unit": "celsius"}'
TIME_ARGS = '{"tz": "Europe/Paris"}'


def openai_style() -> list[dict[str, Any]]:
    """id and name on the first fragment only, args spread over many."""
    pieces = split(WEATHER_ARGS)
    return [
        chunk(
            {"role": "assistant", **tool_delta(0, call_id="call_w", name="get_weather", args="")}
        ),
        *(chunk(tool_delta(0, args=piece)) for piece in pieces),
        chunk({}, "tool_calls"),
    ]


def tgi_style() -> list[dict[str, Any]]:
    """The same id "0" and the name repeated on every fragment; finish_reason stop."""
    pieces = split(WEATHER_ARGS, 7)
    return [
        *(chunk(tool_delta(0, call_id="0", name="get_weather", args=piece)) for piece in pieces),
        chunk({}, "stop"),
    ]


def parallel_interleaved() -> list[dict[str, Any]]:
    weather, time_ = split(WEATHER_ARGS, 9), split(TIME_ARGS, 9)
    chunks = [
        chunk(tool_delta(0, call_id="call_w", name="get_weather", args="")),
        chunk(tool_delta(1, call_id="call_t", name="get_time", args="")),
    ]
    for i in range(max(len(weather), len(time_))):
        if i < len(weather):
            chunks.append(chunk(tool_delta(0, args=weather[i])))
        if i < len(time_):
            chunks.append(chunk(tool_delta(1, args=time_[i])))
    return [*chunks, chunk({}, "tool_calls")]


@pytest.mark.parametrize(
    ("chunks", "calls"),
    [
        pytest.param(
            openai_style(), [call("get_weather", WEATHER_ARGS, "call_w")], id="id-on-first-only"
        ),
        pytest.param(tgi_style(), [call("get_weather", WEATHER_ARGS, "0")], id="id-0-repeated"),
        pytest.param(
            parallel_interleaved(),
            [call("get_weather", WEATHER_ARGS, "call_w"), call("get_time", TIME_ARGS, "call_t")],
            id="parallel-interleaved",
        ),
    ],
)
def test_streamed_tool_calls_equal_the_non_streamed_answer(
    chunks: list[dict[str, Any]], calls: list[dict[str, Any]]
) -> None:
    _, merged = stream(chunks)
    expected = answer({"content": None, "tool_calls": calls})
    assert merged.tool_calls == expected.tool_calls
    assert merged.invalid_tool_calls == []
    assert merged.content == ""
    assert merged.response_metadata["finish_reason"] == chunks[-1]["choices"][0]["finish_reason"]
    assert merged.response_metadata["model_name"] == "vlm"
    # The exact tool calls, not just "the same as chat_result".
    names = [c["function"]["name"] for c in calls]
    args = [json.loads(c["function"]["arguments"]) for c in calls]
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == list(
        zip(names, args, strict=True)
    )
    assert len({c["id"] for c in merged.tool_calls}) == len(calls)


def test_name_and_arguments_of_one_call_in_one_delta() -> None:
    # vLLM 0.32 (hermes parser): the call's id and name, then its arguments, as two entries
    # with the same index in a single delta
    name_then_args = {
        "tool_calls": [
            {"id": "chatcmpl-tool-1", "type": "function", "index": 0, "function": {"name": "f"}},
            {"index": 0, "function": {"arguments": '{"city": "Paris"}'}},
        ]
    }
    messages, merged = stream([chunk(name_then_args), chunk({}, "tool_calls")])
    assert merged.tool_calls == [
        {"name": "f", "args": {"city": "Paris"}, "id": "chatcmpl-tool-1", "type": "tool_call"}
    ]
    assert merged.invalid_tool_calls == []
    assert len(messages[0].tool_call_chunks) == 1


def test_tgi_stream_ids_are_replaced_like_the_non_streamed_ones() -> None:
    _, merged = stream(tgi_style())
    assert [c["id"] for c in merged.tool_calls] == [f"call_{RID}_0"]


def test_streamed_object_arguments() -> None:
    _, merged = stream(
        [chunk(tool_delta(0, call_id="0", name="f", args={"a": 1})), chunk({}, "stop")]
    )
    assert merged.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": f"call_{RID}_0", "type": "tool_call"}
    ]


def test_invalid_streamed_arguments_end_up_in_invalid_tool_calls() -> None:
    _, merged = stream(
        [
            chunk(tool_delta(0, call_id="call_b", name="get_weather", args="city")),
            chunk(tool_delta(0, args="=Paris")),
            chunk({}, "tool_calls"),
        ]
    )
    assert merged.tool_calls == []
    assert [(c["name"], c["args"], c["id"]) for c in merged.invalid_tool_calls] == [
        ("get_weather", "city=Paris", "call_b")
    ]


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param(["null"], id="whole"),
        pytest.param(["nu", "ll"], id="split"),
        pytest.param(["", " null", ""], id="blank-pieces"),
    ],
)
def test_streamed_null_arguments_mean_no_arguments(pieces: list[str]) -> None:
    chunks = [
        chunk(tool_delta(0, call_id="chatcmpl-tool-1", name="now", args=pieces[0])),
        *(chunk(tool_delta(0, args=piece)) for piece in pieces[1:]),
        chunk({}, "tool_calls"),
    ]
    _, merged = stream(chunks)
    expected = answer({"tool_calls": [call("now", "".join(pieces), "chatcmpl-tool-1")]})
    assert (
        merged.tool_calls
        == expected.tool_calls
        == [{"name": "now", "args": {}, "id": "chatcmpl-tool-1", "type": "tool_call"}]
    )
    assert merged.invalid_tool_calls == []


@pytest.mark.parametrize(
    ("pieces", "args"),
    [
        pytest.param(["nu", "ll", "x"], "nullx", id="more-after-null"),
        pytest.param(["nul", "l_"], "null_", id="diverges"),
        pytest.param(["nu"], "nu", id="cut-short"),
    ],
)
def test_streamed_text_that_only_starts_like_null_is_kept(pieces: list[str], args: str) -> None:
    chunks = [
        chunk(tool_delta(0, call_id="call_n", name="now", args=pieces[0])),
        *(chunk(tool_delta(0, args=piece)) for piece in pieces[1:]),
        chunk({}, "tool_calls"),
    ]
    _, merged = stream(chunks)
    assert merged.tool_calls == []
    assert [(c["name"], c["args"], c["id"]) for c in merged.invalid_tool_calls] == [
        ("now", args, "call_n")
    ]


def test_null_inside_streamed_arguments_is_a_value() -> None:
    chunks = [
        chunk(tool_delta(0, call_id="call_n", name="f", args='{"a": ')),
        chunk(tool_delta(0, args="null")),
        chunk(tool_delta(0, args="}")),
        chunk({}, "tool_calls"),
    ]
    _, merged = stream(chunks)
    assert [c["args"] for c in merged.tool_calls] == [{"a": None}]


@pytest.mark.parametrize(
    ("name", "pieces"),
    [
        ("notify_error", ['{"error": "No', ' suitable tool."}']),
        ("no_tool", ['{"_name": "no_tool", ', '"content": "No', ' suitable tool."}']),
    ],
)
def test_streamed_pseudo_tool_becomes_text_in_the_final_chunk(name: str, pieces: list[str]) -> None:
    chunks = [
        chunk(tool_delta(0, call_id="0", name=name, args=pieces[0])),
        *(chunk(tool_delta(0, args=piece)) for piece in pieces[1:]),
        chunk({}, "stop"),
    ]
    messages, merged = stream(chunks)
    assert len(messages) == 1  # nothing is yielded before the final chunk
    assert messages[-1].content == "No suitable tool."
    assert merged.content == "No suitable tool."
    assert merged.tool_calls == []
    assert merged.tool_call_chunks == []
    assert merged.invalid_tool_calls == []
