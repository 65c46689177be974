"""Fuzzing over a real socket: mutated answers and streams, served by the loopback server,
give the caller a valid message or one of the package's errors, nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from langchain_core.exceptions import ModelError
from langchain_core.messages import HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.errors import InvalidContentError
from tests.servers.chat_server import ChatServer, Reply
from tests.support.fuzz_answers import answer_bytes, assert_valid, stream_bytes
from tests.support.loopback import make_model

WIRE = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PACKAGE_ERRORS = (ModelError, InvalidContentError)


@pytest.fixture(scope="module")
def server() -> Iterator[ChatServer]:
    with ChatServer("vllm", validate=False) as srv:
        yield srv


@pytest.fixture
def model(server: ChatServer) -> ChatHuggingFaceVLM:
    """One model for all of a test's examples; the dialect is guessed, as for any local server."""
    return make_model(server, timeout=2, backend="auto")


@WIRE
@given(answer_bytes())
def test_a_mutated_answer_over_the_wire(
    server: ChatServer, model: ChatHuggingFaceVLM, data: bytes
) -> None:
    server.reset()
    server.enqueue(Reply(raw=data))
    try:
        message = model.invoke([HumanMessage("hi")])
    except PACKAGE_ERRORS:
        return
    assert_valid(message)


@WIRE
@given(stream_bytes())
def test_a_mutated_stream_over_the_wire(
    server: ChatServer, model: ChatHuggingFaceVLM, data: bytes
) -> None:
    server.reset()
    server.enqueue(Reply(raw=data, content_type="text/event-stream"))
    try:
        chunks = list(model.stream([HumanMessage("hi")]))
    except PACKAGE_ERRORS:
        return
    first, *rest = chunks
    assert_valid(first + rest if rest else first)
