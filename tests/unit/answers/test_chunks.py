"""Stream chunks (``_answers.chunks.StreamAssembler``) -> the chunks the user gets, and their sum."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm.errors import MalformedResponseError
from tests.support.wire_answers import RID, answer, call, chunk, stream

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


def test_a_text_chunk_is_the_message_langchain_validates() -> None:
    """Text chunks are made without validating their id and metadata (assigned afterwards):
    the message must be the one the validated constructor gives, down to its set fields."""
    assembler = StreamAssembler()
    (out,) = assembler.feed(chunk({"role": "assistant", "content": "Hel"}))
    validated = AIMessageChunk(
        content="Hel", id=RID, response_metadata={"model_provider": "huggingface"}
    )
    assert out.message == validated
    assert out.message.model_fields_set == validated.model_fields_set
    assert out.message.model_dump() == validated.model_dump()
    assert dumpd(out.message) == dumpd(validated)
    assert out == ChatGenerationChunk(message=validated)


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
