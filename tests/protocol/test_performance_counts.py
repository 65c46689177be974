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
import json
import random
import tracemalloc
from collections.abc import Callable

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from tests.servers.chat_server import ChatServer
from tests.support.loopback import make_model
from tests.support.pngs import tiny_png

STREAMS = 100
WARM_UP = 100
FIRST_WINDOW = 500
CALLS = 1_000
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
    async with make_model(server) as model:
        for _ in range(STREAMS):
            chunks = [chunk async for chunk in model.astream("hi")]
            assert "".join(str(chunk.content) for chunk in chunks) == "images=0; text=hi"
    assert len(server.requests) == STREAMS
    assert server.connections_opened == 1


# ---------------------------------------------------------------- memory


def _retained_per_call(call: Callable[[], object], server: ChatServer) -> float:
    """Growth of the Python heap per call over ``CALLS`` sequential calls.

    Measured as a slope: from the end of a first window of calls to the end of a second, so
    that one-off state (pools, caches, lazily built objects: about 20 KB in all, however many
    calls) is not mistaken for retention. The server runs in this process and records every
    request; those records are cleared after each call so that only the client is counted.
    """

    def run(calls: int) -> int:
        for _ in range(calls):
            call()
            server.requests.clear()
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    run(WARM_UP)
    tracemalloc.start()
    try:
        settled = run(FIRST_WINDOW)
        final = run(CALLS)
    finally:
        tracemalloc.stop()
    return (final - settled) / CALLS


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
        loop.run_until_complete(model.aclose())
        loop.close()
    assert retained < RETAINED_BYTES_PER_CALL, f"{retained:.0f} bytes retained per ainvoke"


def test_memory_check_sees_a_leak_of_1kb_per_call(server: ChatServer) -> None:
    """The check above can fail: the same measurement of calls that each keep 1 KB."""
    model = make_model(server)
    question = _question()
    kept: list[bytes] = []

    def leaky_invoke() -> object:
        kept.append(bytes(1024))
        return model.invoke(question)

    retained = _retained_per_call(leaky_invoke, server)
    assert retained > 1024 > 10 * RETAINED_BYTES_PER_CALL


# ---------------------------------------------------------------- payload


def test_large_image_goes_out_as_exact_json(server: ChatServer) -> None:
    """Large data URIs are copied into the body rather than JSON-encoded: the body is still
    exactly the JSON of the request, whatever else it contains."""
    big = base64.b64encode(tiny_png(8, 8) + random.Random(0).randbytes(300_000)).decode()
    question = HumanMessage(
        content=[
            {"type": "text", "text": 'Quotes " and \\ backslashes, é, \u2028, \x00.'},
            {"type": "image", "base64": big, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{big}"}},
            {"type": "image", "url": "https://example.com/a.png"},
        ]
    )
    make_model(server).invoke([question])
    sent = server.requests[-1]
    assert isinstance(sent.json, dict)
    assert sent.body == json.dumps(sent.json, ensure_ascii=False, separators=(",", ":")).encode()
    parts = sent.json["messages"][0]["content"]
    assert parts[0]["text"] == 'Quotes " and \\ backslashes, é, \u2028, \x00.'
    assert [part["image_url"]["url"] for part in parts[1:]] == [
        f"data:image/png;base64,{big}",
        f"data:image/png;base64,{big}",
        "https://example.com/a.png",
    ]
