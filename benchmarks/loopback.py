"""A minimal, fast OpenAI-compatible chat-completion server for benchmarks (stdlib only).

It runs in its own process (so that it does not compete with the client for the GIL) as one
asyncio event loop on 127.0.0.1, speaks HTTP/1.1 with keep-alive, and answers every POST with
pre-built bytes: a ``chat.completion`` (a few hundred bytes, with usage), or, when the body asks
for ``"stream": true``, an SSE stream of ``stream_chunks`` content chunks, a finishing chunk, a
usage chunk and ``[DONE]``, one HTTP chunk per event, the way vLLM and TGI send them. The
request body is read in full but not parsed, so the server's own cost per request stays a small,
constant part of every contender's time.

The parent reads how many TCP connections the server has accepted and sets the stream length
through shared memory, so neither needs an extra request that would itself open a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import re
import socket
from multiprocessing.sharedctypes import Synchronized
from typing import Any

MODEL = "tiny/vlm"
ANSWER = "A small red square."
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:\s*close", re.IGNORECASE)
_STREAM = re.compile(rb'"stream"\s*:\s*true')


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def completion_bytes() -> bytes:
    """The full HTTP response to a non-streamed request."""
    body = _dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": MODEL,
            "system_fingerprint": "fp-bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER, "tool_calls": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36},
        }
    )
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def stream_bytes(chunks: int) -> bytes:
    """The full HTTP response to a streamed request: ``chunks`` content deltas, then the end."""
    envelope = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "system_fingerprint": "fp-bench",
    }

    def choice(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    events = [
        {**envelope, "choices": [choice({"role": "assistant", "content": "tok "}, None)]},
        *({**envelope, "choices": [choice({"content": "tok "}, None)]} for _ in range(chunks - 1)),
        {**envelope, "choices": [choice({}, "stop")]},
        {
            **envelope,
            "choices": [],
            "usage": {
                "prompt_tokens": 30,
                "completion_tokens": chunks,
                "total_tokens": 30 + chunks,
            },
        },
    ]
    lines = [b"data: " + _dumps(event) + b"\n\n" for event in events] + [b"data: [DONE]\n\n"]
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + b"".join(b"%x\r\n%s\r\n" % (len(line), line) for line in lines) + b"0\r\n\r\n"


def _chunked_body_end(buf: bytearray, start: int) -> int | None:
    """Where a complete chunked body starting at ``start`` ends, or None if incomplete."""
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            end = buf.find(b"\r\n\r\n", eol)
            return None if end < 0 else end + 4
        pos = eol + 2 + size + 2
        if pos > len(buf):
            return None


class _Protocol(asyncio.Protocol):
    def __init__(self, state: _State) -> None:
        self.state = state
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.state.connections.get_lock():
            self.state.connections.value += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (head_end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buf[: head_end + 2])
            body_start = head_end + 4
            if _CHUNKED.search(head):
                end = _chunked_body_end(self.buf, body_start)
                if end is None:
                    return
            else:
                match = _CONTENT_LENGTH.search(head)
                end = body_start + (int(match.group(1)) if match else 0)
                if len(self.buf) < end:
                    return
            body = bytes(self.buf[body_start:end])
            del self.buf[:end]
            self._answer(head, body)

    def _answer(self, head: bytes, body: bytes) -> None:
        assert self.transport is not None
        if not head.startswith(b"POST "):
            self.transport.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        elif _STREAM.search(body):
            self.transport.write(self.state.stream())
        else:
            self.transport.write(self.state.completion)
        if _CLOSE.search(head):
            self.transport.close()


class _State:
    def __init__(self, connections: Synchronized[int], chunks: Synchronized[int]) -> None:
        self.connections = connections
        self.chunks = chunks
        self.completion = completion_bytes()
        self._streams: dict[int, bytes] = {}

    def stream(self) -> bytes:
        chunks = self.chunks.value
        if chunks not in self._streams:
            self._streams[chunks] = stream_bytes(chunks)
        return self._streams[chunks]


def _serve(sock: socket.socket, connections: Synchronized[int], chunks: Synchronized[int]) -> None:
    async def main() -> None:
        state = _State(connections, chunks)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(state), sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class LoopbackServer:
    """The server in a child process. ``url`` is ``http://127.0.0.1:PORT`` (no ``/v1``)."""

    def __init__(self, stream_chunks: int = 2000) -> None:
        context = multiprocessing.get_context("fork")
        self._connections: Synchronized[int] = context.Value("q", 0)
        self._chunks: Synchronized[int] = context.Value("q", stream_chunks)
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._process = context.Process(
            target=_serve, args=(self._sock, self._connections, self._chunks), daemon=True
        )

    @property
    def connections_opened(self) -> int:
        return int(self._connections.value)

    @property
    def stream_chunks(self) -> int:
        return int(self._chunks.value)

    @stream_chunks.setter
    def stream_chunks(self, value: int) -> None:
        self._chunks.value = value

    def reset_connections(self) -> None:
        self._connections.value = 0

    def __enter__(self) -> LoopbackServer:
        self._process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.terminate()
        self._process.join(timeout=5)
        self._sock.close()
