"""A chat-completion server that misbehaves on command (stdlib only, 127.0.0.1, own thread).

The first path segment names the misbehaviour: a model with ``base_url=f"{server.url}/<case>"``
posts to ``/<case>/v1/chat/completions`` and gets that case. Each case is one thing real servers,
proxies or attackers do: hang after ``[DONE]``, ping forever, trickle bytes, send gigabytes,
a gzip bomb, echo the token, loop redirects, or answer JSON of the wrong shape. Huge bodies are
generated while they are sent, never held in memory here.

Run ``python -m tests.servers.hostile_server`` to list the cases.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

Json = dict[str, Any]
MB = 1 << 20
GB = 1 << 30
TRICKLE_SECONDS = 0.5
PING_SECONDS = 0.2
WORDS = ["Hello ", "brave ", "new ", "world"]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _chunk(delta: Json | None = None, finish: str | None = None, **extra: Any) -> Json:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "model": "tiny/vlm",
        "choices": choices,
        **extra,
    }


def _event(payload: Any) -> bytes:
    return b"data: " + (payload if isinstance(payload, bytes) else _dumps(payload)) + b"\n\n"


def content_events(finish: str | None = "stop") -> list[bytes]:
    """The words as SSE events; the last carries ``finish`` as its finish reason."""
    events = [_event(_chunk({"role": "assistant", "content": WORDS[0]}))]
    events += [_event(_chunk({"content": word})) for word in WORDS[1:-1]]
    events.append(_event(_chunk({"content": WORDS[-1]}, finish)))
    return events


DONE = b"data: [DONE]\n\n"
USAGE = {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11}


def completion(message: Any = None, **fields: Any) -> Json:
    """A chat.completion with ``message`` (default: the words) in its one choice."""
    body: Json = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "model": "tiny/vlm",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(WORDS)}
                if message is None
                else message,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    body.update(fields)
    return body


class _Gone(Exception):
    """The client went away or the server is stopping."""


class _Exchange:
    """One request on one connection, with the writes a case needs."""

    def __init__(self, sock: socket.socket, stop: threading.Event, path: str, headers: Json):
        self.sock = sock
        self.stop = stop
        self.path = path
        self.headers = headers
        self.chunked = False

    def send(self, data: bytes) -> None:
        if self.stop.is_set():
            raise _Gone
        try:
            self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
        except OSError:
            raise _Gone from None

    def head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} Status"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def respond(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        headers = {
            "content-type": content_type,
            "content-length": str(len(body)),
            "x-request-id": "req-hostile",
        }
        self.send(self.head(status, headers) + body)

    def start_stream(self, headers: dict[str, str] | None = None) -> None:
        """A 200 with chunked SSE headers (and ``headers``); later ``send`` calls write chunks."""
        all_headers = {
            "content-type": "text/event-stream",
            "transfer-encoding": "chunked",
            "x-request-id": "req-hostile",
            **(headers or {}),
        }
        self.send(self.head(200, all_headers))
        self.chunked = True

    def end_stream(self) -> None:
        self.chunked = False
        self.send(b"0\r\n\r\n")

    def wait(self, seconds: float) -> None:
        """Sleep, noticing a client that hung up meanwhile."""
        if self.stop.wait(seconds):
            raise _Gone
        if select.select([self.sock], [], [], 0)[0]:
            try:
                if not self.sock.recv(1, socket.MSG_PEEK):
                    raise _Gone
            except OSError:
                raise _Gone from None

    def stream_bytes(self, parts: Iterator[bytes]) -> None:
        for part in parts:
            self.send(part)

    def hold(self) -> None:
        """Keep the connection open, sending nothing, until the client hangs up."""
        while True:
            self.wait(0.1)


Case = Callable[[_Exchange], None]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


def _filler(total: int, unit: bytes = b"a" * MB) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = unit[: total - sent]
        sent += len(piece)
        yield piece


# ---------------------------------------------------------------- streams and [DONE]


@case("done-then-hang")
def _done_then_hang(ex: _Exchange) -> None:
    """A complete stream, then the connection stays open: no end of the chunked body."""
    ex.start_stream()
    ex.stream_bytes(iter([*content_events(), DONE]))
    ex.hold()


@case("done-then-pings")
def _done_then_pings(ex: _Exchange) -> None:
    """A complete stream, then ``: ping`` comments forever."""
    ex.start_stream()
    ex.stream_bytes(iter([*content_events(), DONE]))
    while True:
        ex.wait(PING_SECONDS)
        ex.send(b": ping\n\n")


@case("pings-forever")
def _pings_forever(ex: _Exchange) -> None:
    """Keep-alive comments and never a data event."""
    ex.start_stream()
    while True:
        ex.send(b": ping\n\n")
        ex.wait(PING_SECONDS)


@case("content-then-pings")
def _content_then_pings(ex: _Exchange) -> None:
    """Two words, then keep-alive comments forever: a stream that stalled behind pings."""
    ex.start_stream()
    ex.stream_bytes(iter(content_events(None)[:2]))
    while True:
        ex.wait(PING_SECONDS)
        ex.send(b": ping\n\n")


@case("sse-trickle")
def _sse_trickle(ex: _Exchange) -> None:
    """A valid stream, one byte every 0.5 s (plus the chunked framing)."""
    ex.start_stream()
    for byte in b"".join(content_events()) + DONE:
        ex.send(bytes([byte]))
        ex.wait(TRICKLE_SECONDS)
    ex.end_stream()


@case("body-trickle")
def _body_trickle(ex: _Exchange) -> None:
    """A non-streamed answer, one byte every 0.5 s."""
    body = _dumps(completion())
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    ex.send(ex.head(200, headers))
    for byte in body:
        ex.send(bytes([byte]))
        ex.wait(TRICKLE_SECONDS)


@case("header-trickle")
def _header_trickle(ex: _Exchange) -> None:
    """The status line and headers, one byte every 0.5 s (a valid answer would follow)."""
    body = _dumps(completion())
    head = ex.head(200, {"content-type": "application/json", "content-length": str(len(body))})
    for byte in head + b"x-padding: " + b"p" * 100_000:
        ex.send(bytes([byte]))
        ex.wait(TRICKLE_SECONDS)


@case("openrouter-midstream-error")
def _openrouter_error(ex: _Exchange) -> None:
    """OpenRouter: content, then an error chunk that also carries choices, then [DONE]."""
    ex.start_stream()
    ex.stream_bytes(iter(content_events(None)[:2]))
    error = _chunk({"content": ""}, "error", error={"code": 400, "message": "Token limit reached"})
    ex.stream_bytes(iter([_event(error), DONE]))
    ex.end_stream()


@case("snowflake")
def _snowflake(ex: _Exchange) -> None:
    """Snowflake Cortex: content, a usage chunk with empty choices, [DONE]; no finish_reason."""
    ex.start_stream()
    ex.stream_bytes(iter([*content_events(None), _event(_chunk(usage=USAGE)), DONE]))
    ex.end_stream()


@case("no-done-no-finish")
def _no_done_no_finish(ex: _Exchange) -> None:
    """Content, then the body ends: no finish reason and no [DONE]."""
    ex.start_stream()
    ex.stream_bytes(iter(content_events(None)))
    ex.end_stream()


# ---------------------------------------------------------------- size


@case("huge-body")
def _huge_body(ex: _Exchange) -> None:
    """A 2 GB non-streamed answer (one huge content string)."""
    prefix = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"'
    total = 2 * GB
    headers = {"content-type": "application/json", "content-length": str(total)}
    ex.send(ex.head(200, headers) + prefix)
    ex.stream_bytes(_filler(total - len(prefix)))


@case("gzip-bomb")
def _gzip_bomb(ex: _Exchange) -> None:
    """About 8 MB of gzip that inflates to 8 GB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    unit = b"a" * MB
    first = compressor.compress(b'{"choices":[{"message":{"content":"' + unit)
    first += compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)  # same every time
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    ex.start_stream(headers)
    ex.send(first)
    for _ in range(8 * 1024 - 1):
        ex.send(block)
    ex.send(compressor.flush())  # the CRC is wrong: nobody should read this far
    ex.end_stream()


@case("gigabyte-sse-line")
def _gigabyte_sse_line(ex: _Exchange) -> None:
    """One SSE data line of 1 GB."""
    ex.start_stream()
    ex.send(b'data: {"choices":[{"index":0,"delta":{"content":"')
    ex.stream_bytes(_filler(GB))
    ex.end_stream()


@case("error-500-gigabyte")
def _error_500_gigabyte(ex: _Exchange) -> None:
    """A 500 whose JSON body is 1 GB: the message first, then padding."""
    prefix = b'{"error":{"message":"the server fell over","type":"server_error","pad":"'
    headers = {
        "content-type": "application/json",
        "content-length": str(GB),
        "x-request-id": "req-500",
    }
    ex.send(ex.head(500, headers) + prefix)
    ex.stream_bytes(_filler(GB - len(prefix)))


# ---------------------------------------------------------------- secrets, redirects


def _echo(ex: _Exchange, status: int) -> None:
    auth = ex.headers.get("authorization", "")
    body = {
        "error": {
            "message": f"Rejected request with header Authorization: {auth}",
            "request_headers": dict(ex.headers),
        }
    }
    ex.respond(status, _dumps(body))


@case("echo-auth-401")
def _echo_401(ex: _Exchange) -> None:
    _echo(ex, 401)


@case("echo-auth-503")
def _echo_503(ex: _Exchange) -> None:
    _echo(ex, 503)


@case("echo-auth-stream-error")
def _echo_stream_error(ex: _Exchange) -> None:
    """A mid-stream error event that quotes the Authorization header."""
    ex.start_stream()
    ex.stream_bytes(iter(content_events(None)[:2]))
    auth = ex.headers.get("authorization", "")
    ex.send(_event({"error": {"message": f"bad header {auth}", "code": 500}}))
    ex.end_stream()


@case("redirect-loop")
def _redirect_loop(ex: _Exchange) -> None:
    ex.send(ex.head(307, {"location": ex.path, "content-length": "0", "x-request-id": "req-loop"}))


@case("llama-context-overflow")
def _llama_overflow(ex: _Exchange) -> None:
    """llama.cpp's llama-server, prompt over the context."""
    body = {
        "error": {
            "code": 400,
            "message": "request (10027 tokens) exceeds the available context size (2048 tokens), "
            "try increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 10027,
            "n_ctx": 2048,
        }
    }
    ex.respond(400, _dumps(body))


# ---------------------------------------------------------------- malformed answers

MALFORMED: dict[str, bytes] = {
    "no-choices": _dumps({"id": "x", "object": "chat.completion"}),
    "empty-choices": _dumps(completion(choices=[])),
    "null-choice": _dumps(completion(choices=[None])),
    "string-choice": _dumps(completion(choices=["hello"])),
    "content-42": _dumps(completion({"role": "assistant", "content": 42})),
    "usage-1e400": _dumps(completion()).replace(b'"prompt_tokens":7', b'"prompt_tokens":1e400'),
    "usage-nan": _dumps(completion()).replace(b'"prompt_tokens":7', b'"prompt_tokens":NaN'),
    "usage-lots": _dumps(completion()).replace(b'"prompt_tokens":7', b'"prompt_tokens":"lots"'),
    "deep-nesting": b'{"choices":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "not-json": b"<html>502 Bad Gateway</html>",
    "json-list": b"[1, 2, 3]",
}
MALFORMED_STREAMS: dict[str, list[bytes]] = {
    "stream-null-choice": [*content_events(None)[:2], _event(_chunk() | {"choices": [None]})],
    "stream-string-choice": [*content_events(None)[:2], _event(_chunk() | {"choices": ["x"]})],
    "stream-content-42": [*content_events(None)[:2], _event(_chunk({"content": 42}))],
    "stream-deep-nesting": [
        *content_events(None)[:2],
        _event(b"[" * 100_000 + b"]" * 100_000),
    ],
    "stream-not-json": [*content_events(None)[:2], b"data: {not json\n\n"],
    "stream-usage-nan": [
        *content_events(),
        _event(_dumps(_chunk(usage=USAGE)).replace(b'"prompt_tokens":7', b'"prompt_tokens":NaN')),
        DONE,
    ],
}


def _malformed(body: bytes) -> Case:
    def answer(ex: _Exchange) -> None:
        ex.respond(200, body)

    return answer


def _malformed_stream(events: list[bytes]) -> Case:
    def answer(ex: _Exchange) -> None:
        ex.start_stream()
        ex.stream_bytes(iter(events))
        ex.end_stream()

    return answer


for _name, _body in MALFORMED.items():
    CASES[_name] = _malformed(_body)
for _name, _events in MALFORMED_STREAMS.items():
    CASES[_name] = _malformed_stream(_events)


# ---------------------------------------------------------------- the server


class HostileServer:
    """Serves :data:`CASES` on 127.0.0.1 from a background thread (one thread per connection)."""

    def __init__(self) -> None:
        self.url = ""
        self.requests = 0
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> HostileServer:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        with self._lock:
            socks = [*self._socks, *([self._listener] if self._listener else [])]
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                if not select.select([self._listener], [], [], 0.1)[0]:
                    continue
                sock, _ = self._listener.accept()
            except (OSError, ValueError):
                return
            with self._lock:
                self._socks.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = self._recv(sock)
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    buffer += self._recv(sock)
                buffer = buffer[length:]
                self.requests += 1
                name = path.strip("/").split("/", 1)[0]
                handler = CASES.get(name)
                exchange = _Exchange(sock, self._stop, path, headers)
                if handler is None:
                    exchange.respond(404, _dumps({"error": f"no case {name!r}"}))
                    continue
                handler(exchange)
                if exchange.chunked:
                    exchange.end_stream()
        except (_Gone, OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._socks.discard(sock)
            sock.close()

    def _recv(self, sock: socket.socket) -> bytes:
        while not self._stop.is_set():
            if select.select([sock], [], [], 0.1)[0]:
                data = sock.recv(65536)
                if not data:
                    raise _Gone
                return data
        raise _Gone


if __name__ == "__main__":
    for name, handler in CASES.items():
        doc = (handler.__doc__ or "").strip().splitlines()
        print(f"{name:28} {doc[0] if doc else ''}")
    with HostileServer() as server:
        print(f"serving on {server.url} for 60 s")
        time.sleep(60)
