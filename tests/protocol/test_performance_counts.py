"""Performance that can be counted rather than timed, so that it holds on a busy machine.

- Connections: sequential streams on one instance reuse one TCP connection (a client that
  dropped streams before their end, or made a client per call, opens one per stream).
- Memory: sequential calls retain no Python heap per call (tracemalloc; a client that kept,
  say, every request body or response in a list would retain kilobytes per call).

Timings are in ``benchmarks/run.py``.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import tracemalloc
from collections.abc import Callable

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.pngs import tiny_png
from tests.protocol.conftest import make_model
from tests.servers.chat_server import ChatServer

STREAMS = 100
CALLS = 2_000
WARM_UP = 200
RETAINED_BYTES_PER_CALL = 64
"""Allowed heap growth per call: far below the 1 KB a retained request or answer would cost,
far above what the interpreter's own free lists and caches settle to."""

pytestmark = pytest.mark.parametrize("dialect", ["vllm"])


def _question() -> list[BaseMessage]:
    data = base64.b64encode(tiny_png(8, 8)).decode()
    return [
        HumanMessage(
            content=[
                {"type": "text", "text": "What is this?"},
                {"type": "image", "base64": data, "mime_type": "image/png"},
            ]
        )
    ]


# ---------------------------------------------------------------- connections


def test_sequential_streams_use_one_connection(server: ChatServer) -> None:
    model = make_model(server)
    for _ in range(STREAMS):
        chunks = list(model.stream("hi"))
        assert "".join(str(chunk.content) for chunk in chunks) == "images=0; text=hi"
    assert len(server.requests) == STREAMS
    assert server.connections_opened == 1


async def test_sequential_async_streams_use_one_connection(server: ChatServer) -> None:
    model = make_model(server)
    for _ in range(STREAMS):
        chunks = [chunk async for chunk in model.astream("hi")]
        assert "".join(str(chunk.content) for chunk in chunks) == "images=0; text=hi"
    assert len(server.requests) == STREAMS
    assert server.connections_opened == 1


# ---------------------------------------------------------------- memory


def _retained_per_call(call: Callable[[], object], server: ChatServer) -> float:
    """Bytes of Python heap still held after ``CALLS`` sequential calls, per call.

    The server runs in this process and records every request; those records are cleared
    after each call so that only the client's retention is counted.
    """

    def one() -> None:
        call()
        server.requests.clear()

    for _ in range(WARM_UP):  # pools, caches and lazily built state settle first
        one()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(CALLS):
            one()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / CALLS


def test_sequential_invokes_retain_no_memory(server: ChatServer) -> None:
    model = make_model(server)
    question = _question()
    assert model.invoke(question).content == "images=1; text=What is this?"
    retained = _retained_per_call(lambda: model.invoke(question), server)
    assert retained < RETAINED_BYTES_PER_CALL, f"{retained:.0f} bytes retained per invoke"


def test_sequential_async_invokes_retain_no_memory(server: ChatServer) -> None:
    model = make_model(server)
    question = _question()
    loop = asyncio.new_event_loop()
    try:

        def ainvoke() -> object:
            return loop.run_until_complete(model.ainvoke(question))

        retained = _retained_per_call(ainvoke, server)
    finally:
        loop.close()
    assert retained < RETAINED_BYTES_PER_CALL, f"{retained:.0f} bytes retained per ainvoke"


def test_memory_check_sees_a_leak_of_1kb_per_call(server: ChatServer) -> None:
    """The check above can fail: the same measurement of a model that keeps 1 KB per call."""
    kept: list[bytes] = []

    class Leaky(ChatHuggingFaceVLM):
        def invoke(self, *args: object, **kwargs: object) -> AIMessage:  # type: ignore[override]
            kept.append(bytes(1024))
            return super().invoke(*args, **kwargs)  # type: ignore[arg-type]

    model = make_model(server)
    leaky = Leaky(**{name: getattr(model, name) for name in model.model_fields_set})
    question = _question()
    retained = _retained_per_call(lambda: leaky.invoke(question), server)
    assert retained > 1024 > 10 * RETAINED_BYTES_PER_CALL
