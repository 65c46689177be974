"""Fuzzing the pure parsers: a mutated answer or stream gives a valid message or a package
error, nothing else. (tests/protocol/test_fuzz_wire.py sends some through a real server.)"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm._wire.json_limits import loads
from langchain_hf_vlm._wire.sse import DONE, MalformedEventError, SSEDecoder
from langchain_hf_vlm.errors import MalformedResponseError
from tests.support.fuzz_answers import answer_bytes, assert_valid, stream_bytes

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@FUZZ
@given(answer_bytes())
def test_a_mutated_answer_is_a_message_or_a_malformed_response(data: bytes) -> None:
    try:
        body = loads(data)  # as the transport parses answers
    except ValueError:
        return  # not JSON, or nested too deeply: the transport's APIError (see the wire fuzz)
    try:
        result = chat_result(body)
    except MalformedResponseError:
        return
    for generation in result.generations:
        assert isinstance(generation.message, AIMessage)
        assert_valid(generation.message)


def _stream(data: bytes, piece: int) -> AIMessageChunk | None:
    decoder = SSEDecoder(max_event_bytes=1 << 16)
    assembler = StreamAssembler()
    chunks = []
    events: list[Any] = []
    for start in range(0, len(data), piece):
        events += decoder.feed(data[start : start + piece])
        if DONE in events:
            break
    else:
        events += decoder.close()
    for event in events:
        if event is DONE:
            break
        chunks += [chunk.message for chunk in assembler.feed(event)]
    chunks.append(assembler.final().message)
    first, *rest = chunks
    merged = first + rest if rest else first
    assert isinstance(merged, AIMessageChunk)
    return merged


@FUZZ
@given(stream_bytes(), st.integers(1, 70))
def test_a_mutated_stream_is_a_message_or_a_package_error(data: bytes, piece: int) -> None:
    try:
        merged = _stream(data, piece)
    except (MalformedEventError, MalformedResponseError):
        return
    assert merged is not None
    assert_valid(merged)


def test_non_finite_numbers_in_the_answer_keep_it_serializable() -> None:
    body = {
        "choices": [{"message": {"content": "hi"}, "logprobs": {"x": math.nan}}],
        "usage": {"prompt_tokens": math.inf},
    }
    message = chat_result(body).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.usage_metadata is None
    assert_valid(message)
