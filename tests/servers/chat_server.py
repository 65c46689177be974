"""A small, protocol-faithful chat-completion HTTP/1.1 server for tests (stdlib only).

Speaks the dialects of the HF router ("router"), TGI ("tgi"), vLLM ("vllm") and
``transformers serve`` ("transformers") on 127.0.0.1 over real sockets: keep-alive,
Content-Length or chunked request bodies, chunked (or connection-close) SSE streaming.
Replies are scripted with :class:`Reply`, :class:`ChatReply`, :class:`Stream` and
:class:`Fault` steps; with an empty queue a deterministic echo-ish answer is produced.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, TypeAlias

Json: TypeAlias = dict[str, Any]

DIALECTS = ("router", "tgi", "vllm", "transformers")
MODEL_ID = "tiny/vlm"
CREATED = 1_700_000_000
FINGERPRINT = "fp-test"
DONE = "data: [DONE]"
TRANSFORMERS_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "seed",
        "stop",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
        "n",
        "tools",
        "tool_choice",
        "response_format",
        "logit_bias",
        "user",
        "parallel_tool_calls",
        "chat_template_kwargs",  # passed to the chat template (5.24)
        "reasoning_effort",  # accepted and ignored, with a warning (5.24)
    }
)
OPENAI_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    402: "PaymentRequiredError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    413: "RequestEntityTooLargeError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    503: "ServiceUnavailableError",
}
FAULT_KINDS = ("reset", "close", "delay", "redirect", "retry_after", "status", "crash")
SHAPES = ("dialect", "openai", "tgi", "fastapi", "plain")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _usage(prompt: int, completion: int) -> Json:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _words(text: str) -> list[str]:
    """Split into one chunk per word+space; the chunks concatenate back to ``text``."""
    pieces = text.split(" ")
    return [p + " " for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None  # the parsed body (any JSON value); None when empty or not JSON


@dataclass
class Reply:
    """Exact answer: ``body`` as JSON (any JSON value), or ``raw`` bytes."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"
    repeat: int = 1


@dataclass
class ChatReply:
    """A chat.completion in the dialect; streamed (word chunks) if the request asks for it.

    ``usage="auto"`` computes usage from the request; ``None`` omits it.
    """

    content: str | None = "ok"
    tool_calls: list[Any] | None = None
    finish_reason: str = "stop"
    usage: Json | Literal["auto"] | None = "auto"
    reasoning: str | None = None
    reasoning_field: str = "reasoning"
    logprobs: Json | None = None
    provider: str | None = None
    extra_message: Json = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    repeat: int = 1


@dataclass
class Stream:
    """Scripted SSE stream. ``usage=None`` computes usage from the request.

    ``usage_placement``: "final", "last", "every", "none" or a "+"-joined mix ("every+final").
    ``event_lines`` are written verbatim, each followed by "\\n", as the whole body.
    """

    deltas: list[Json] = field(default_factory=list)
    usage: Json | None = None
    usage_placement: str = "final"
    finish_reason: str = "stop"
    done_line: str | None = DONE
    event_lines: list[str] | None = None
    delay_between: float = 0.0
    first_byte_delay: float = 0.0
    stall_after: int | None = None
    reset_after: int | None = None
    close_without_finish: bool = False
    error_after: int | None = None
    error_payload: Json | None = None
    chunk_extra: Json = field(default_factory=dict)
    provider: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = True
    repeat: int = 1


@dataclass
class Fault:
    """reset | close | delay (``seconds``) | redirect (307 to ``target``) |
    retry_after (429, ``Retry-After: value``) | status (``status`` + ``message`` in ``shape``) |
    crash (uvicorn's answer to an unhandled exception, as `transformers serve` gives it: a
    plain-text 500 with no ``Connection: close``, after which the connection is dead: the next
    request sent on it is reset unread)."""

    kind: str
    seconds: float = 0.0
    target: str = "/v1/chat/completions"
    value: str = "1"
    status: int = 500
    message: str = "boom"
    shape: str = "dialect"
    headers: dict[str, str] = field(default_factory=dict)
    repeat: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"unknown body shape {self.shape!r}")


Step: TypeAlias = Reply | ChatReply | Stream | Fault


class _Closed(Exception):
    """The peer closed the connection or the server is stopping."""


class _Conn:
    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop
        self.buf = b""
        self.dead = False  # a "crash" fault was answered on it
        sock.settimeout(10.0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _fill(self) -> None:
        while not self.stop.is_set():
            if select.select([self.sock], [], [], 0.1)[0]:
                data = self.sock.recv(65536)
                if not data:
                    raise _Closed
                self.buf += data
                return
        raise _Closed

    def read_until(self, sep: bytes) -> bytes:
        while (i := self.buf.find(sep)) < 0:
            if len(self.buf) > 1 << 20:
                raise _Closed
            self._fill()
        out, self.buf = self.buf[:i], self.buf[i + len(sep) :]
        return out

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_chunked(self) -> bytes:
        out = b""
        while size := int(self.read_until(b"\r\n").split(b";")[0].strip() or b"0", 16):
            out += self.read_exact(size)
            self.read_exact(2)
        while self.read_until(b"\r\n"):  # trailers
            pass
        return out

    def wait_disconnect(self) -> None:
        """Block until the peer disconnects or the server stops."""
        while not self.stop.is_set():
            if select.select([self.sock], [], [], 0.1)[0]:
                try:
                    if not self.sock.recv(65536):
                        return
                except OSError:
                    return

    def reset(self) -> None:
        """Abort with RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


@dataclass
class _Exchange:
    conn: _Conn
    req: RecordedRequest
    n: int
    http11: bool
    keep_alive: bool


class ChatServer:
    """Real HTTP/1.1 chat-completion server on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        dialect: str = "vllm",
        *,
        served_models: set[str] | None = None,
        provider: str = "together",
        validate: bool = True,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}")
        self.dialect = dialect
        self.served_models = served_models
        self.provider = provider
        self.validate = validate
        self.requests: list[RecordedRequest] = []
        self.connections_opened = 0
        self.url = ""
        self.port = 0
        self._queue: deque[list[Any]] = deque()  # [step, remaining]
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> ChatServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._stop.clear()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._spawn(self._accept_loop, self._listener)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for sock in [*socks, *([self._listener] if self._listener else [])]:
            with contextlib.suppress(OSError):  # wakes up threads blocked on the socket
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=2.0)
        for sock in [*socks, *([self._listener] if self._listener else [])]:
            sock.close()

    def enqueue(self, *steps: Step) -> None:
        with self._lock:
            self._queue.extend([step, max(1, step.repeat)] for step in steps)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self._count = 0
            self.connections_opened = 0

    # ------------------------------------------------------------------ plumbing
    def _spawn(self, target: Any, sock: socket.socket) -> None:
        thread = threading.Thread(target=target, args=(sock,), daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                if not select.select([listener], [], [], 0.1)[0]:
                    continue
                sock, _ = listener.accept()
            except (OSError, ValueError):
                return
            with self._lock:
                self.connections_opened += 1
                self._socks.add(sock)
            self._spawn(self._serve_conn, sock)

    def _serve_conn(self, sock: socket.socket) -> None:
        conn = _Conn(sock, self._stop)
        try:
            while not self._stop.is_set() and self._serve_one(conn):
                pass
        except (_Closed, OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._socks.discard(sock)
            sock.close()

    def _serve_one(self, conn: _Conn) -> bool:
        while conn.buf.startswith(b"\r\n"):
            conn.buf = conn.buf[2:]
        lines = conn.read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        if conn.dead:
            conn.reset()
            return False
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = conn.read_chunked()
        else:
            body = conn.read_exact(int(headers.get("content-length", "0")))
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = RecordedRequest(method, target, headers, body, parsed)
        with self._lock:
            self.requests.append(req)
            self._count += 1
            n = self._count
        http11 = version.strip() == "HTTP/1.1"
        keep = http11 and headers.get("connection", "").lower() != "close"
        return self._route(_Exchange(conn, req, n, http11, keep))

    def _pop(self) -> Step | None:
        with self._lock:
            if not self._queue:
                return None
            entry = self._queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._queue.popleft()
            step: Step = entry[0]
            return step

    # ------------------------------------------------------------------ responses
    def _base_headers(self, ex: _Exchange, provider: str | None = None) -> dict[str, str]:
        hdrs = {"x-request-id": f"req-{ex.n}"}
        if self.dialect == "router":
            hdrs["x-inference-provider"] = provider or self.provider
        return hdrs

    def _head(self, ex: _Exchange, status: int, headers: dict[str, str]) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        ex.conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _send(self, ex: _Exchange, reply: Reply, provider: str | None = None) -> bool:
        if reply.raw is not None:
            data = reply.raw
        else:
            data = b"" if reply.body is None else _dumps(reply.body)
        hdrs = {"content-type": reply.content_type} if reply.content_type else {}
        hdrs |= {"content-length": str(len(data)), **self._base_headers(ex, provider)}
        if not ex.keep_alive:
            hdrs["connection"] = "close"
        self._head(ex, reply.status, {**hdrs, **reply.headers})
        ex.conn.sock.sendall(data)
        return ex.keep_alive

    def _error(
        self, status: int, message: str, shape: str = "dialect", error_type: str | None = None
    ) -> Reply:
        if shape == "dialect":
            shape = {"tgi": "tgi", "transformers": "fastapi"}.get(self.dialect, "openai")
        if shape == "plain":
            return Reply(raw=message.encode(), status=status, content_type="text/plain")
        if shape == "fastapi":
            return Reply({"detail": message}, status)
        if shape == "tgi":
            kind = "overloaded" if status == 429 else "validation" if status < 500 else "generation"
            return Reply({"error": message, "error_type": error_type or kind}, status)
        fallback = "BadRequestError" if status < 500 else "InternalServerError"
        kind = OPENAI_TYPES.get(status, fallback)
        return Reply(
            {
                "error": {
                    "message": message,
                    "type": error_type or kind,
                    "param": None,
                    "code": status,
                }
            },
            status,
        )

    # ------------------------------------------------------------------ routing
    def _route(self, ex: _Exchange) -> bool:
        method, path = ex.req.method, ex.req.path.split("?", 1)[0]
        if method == "POST" and self._is_chat_path(path):
            return self._chat(ex)
        if method == "GET" and path == "/health":
            body = {"status": "ok"} if self.dialect == "transformers" else None
            return self._send(ex, Reply(body, content_type="application/json" if body else ""))
        if method == "GET" and path == "/info" and self.dialect == "tgi":
            return self._send(ex, Reply(self._info()))
        if method == "GET" and path == "/v1/models":
            models = sorted(self.served_models or {MODEL_ID})
            data = [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "tiny"} for m in models
            ]
            return self._send(ex, Reply({"object": "list", "data": data}))
        return self._send(ex, Reply({"detail": "Not Found"}, 404))

    def _is_chat_path(self, path: str) -> bool:
        if self.dialect == "router":
            return path.endswith("/chat/completions")
        return path in ("/v1/chat/completions", "/chat/completions")

    @staticmethod
    def _info() -> Json:
        return {
            "model_id": MODEL_ID,
            "model_sha": None,
            "model_pipeline_tag": "image-text-to-text",
            "max_concurrent_requests": 128,
            "max_best_of": 2,
            "max_stop_sequences": 4,
            "max_input_tokens": 4095,
            "max_total_tokens": 4096,
            "validation_workers": 2,
            "max_client_batch_size": 4,
            "router": "text-generation-router",
            "version": "3.3.0",
            "sha": None,
            "docker_label": None,
        }

    def _chat(self, ex: _Exchange) -> bool:
        step = self._pop()
        while isinstance(step, Fault) and step.kind == "delay":
            self._stop.wait(step.seconds)
            step = self._pop()
        if isinstance(step, Reply):
            return self._send(ex, step)
        if isinstance(step, Fault):
            return self._fault(ex, step)
        body = ex.req.json if isinstance(ex.req.json, dict) else {}
        if self.validate and (err := self._check(ex.req)) is not None:
            return self._send(ex, err)
        if isinstance(step, Stream):
            return self._stream(ex, step, body)
        if step is None:
            images, _, text = self._analyse(body)
            step = ChatReply(content=f"images={images}; text={text}")
        if body.get("stream") is True:
            return self._stream(ex, self._as_stream(step, body), body)
        return self._send(
            ex, Reply(self._completion(ex, step, body), headers=step.headers), step.provider
        )

    def _fault(self, ex: _Exchange, fault: Fault) -> bool:
        if fault.kind == "reset":
            ex.conn.reset()
            return False
        if fault.kind == "close":
            return False
        if fault.kind == "redirect":
            return self._send(
                ex, Reply(None, 307, {"location": fault.target, **fault.headers}, content_type="")
            )
        if fault.kind == "crash":
            ex.conn.dead = True
            return self._send(
                ex, Reply(raw=b"Internal Server Error", status=500, content_type="text/plain")
            )
        if fault.kind == "retry_after":
            reply = self._error(429, "Rate limit reached", "openai", "RateLimitError")
            reply.headers = {"retry-after": fault.value, **fault.headers}
            return self._send(ex, reply)
        reply = self._error(fault.status, fault.message, fault.shape)
        reply.headers = dict(fault.headers)
        return self._send(ex, reply)

    def _check(self, req: RecordedRequest) -> Reply | None:
        """Dialect validation of a chat request; returns the error reply, if any."""
        auth = req.headers.get("authorization", "")
        if self.dialect == "router" and not re.fullmatch(r"Bearer hf_\S+", auth):
            return self._error(401, "Invalid credentials in Authorization header")
        body = req.json
        if not isinstance(body, dict):
            return self._error(
                400 if self.dialect in ("vllm", "router") else 422,
                "Failed to parse the request body as JSON",
            )
        if self.dialect == "transformers":
            extra = [k for k in body if k not in TRANSFORMERS_FIELDS]
            if extra:
                detail = [
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", k],
                        "msg": "Extra inputs are not permitted",
                        "input": body[k],
                    }
                    for k in extra
                ]
                return Reply({"detail": detail}, 422)
        model = body.get("model")
        if self.served_models is not None and model not in self.served_models:
            if self.dialect == "vllm":
                return self._error(404, f"The model `{model}` does not exist.")
            if self.dialect == "router":
                return self._error(
                    400,
                    f"The requested model '{model}' is not supported by "
                    "any provider you have enabled.",
                )
            if self.dialect == "transformers":
                return self._error(500, "Internal Server Error", "plain")
        if self.dialect == "vllm" and body.get("stream_options") and not body.get("stream"):
            return self._error(400, "Stream options can only be defined when `stream=True`.")
        if self.dialect == "tgi":
            if body.get("top_p") == 1.0:
                return self._error(422, "`top_p` must be > 0.0 and < 1.0")
            if body.get("response_format") is not None and body.get("tools") is not None:
                return self._error(
                    422, "Grammar and tools are mutually exclusive", error_type="grammar and tools"
                )
        return None

    # ------------------------------------------------------------------ bodies
    @staticmethod
    def _analyse(body: Json) -> tuple[int, int, str]:
        """(image count, prompt tokens, last user text) of a request body."""
        images = words = 0
        last = ""
        messages = body.get("messages")
        for msg in messages if isinstance(messages, list) else []:
            if not isinstance(msg, dict):
                continue
            content, texts = msg.get("content"), []
            if isinstance(content, str):
                texts.append(content)
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    images += 1
                elif isinstance(part, dict) and part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
            words += sum(len(t.split()) for t in texts)
            if msg.get("role") == "user":
                last = " ".join(texts)
        return images, words + 10 * images, last

    def _auto_usage(self, body: Json, completion: int) -> Json:
        return _usage(self._analyse(body)[1], completion)

    def _envelope(self, ex: _Exchange, body: Json, obj: str) -> Json:
        return {
            "id": f"chatcmpl-{ex.n}",
            "object": obj,
            "created": CREATED,
            "model": body.get("model", MODEL_ID),
            "system_fingerprint": FINGERPRINT,
        }

    def _completion(self, ex: _Exchange, cr: ChatReply, body: Json) -> Json:
        msg: Json = {"role": "assistant", "content": cr.content}
        if self.dialect == "vllm":
            msg["refusal"] = None
        if cr.reasoning is not None:
            msg[cr.reasoning_field] = cr.reasoning
        if cr.tool_calls is not None or self.dialect == "vllm":
            msg["tool_calls"] = cr.tool_calls or []
        msg.update(cr.extra_message)
        out = self._envelope(ex, body, "chat.completion")
        # n choices, as vLLM and the OpenAI API answer (each the same reply here)
        out["choices"] = [
            {"index": i, "message": msg, "logprobs": cr.logprobs, "finish_reason": cr.finish_reason}
            for i in range(body.get("n") or 1)
        ]
        if cr.usage == "auto":
            out["usage"] = self._auto_usage(body, len(_words(cr.content or "")))
        elif cr.usage is not None:
            out["usage"] = cr.usage
        return out

    def _as_stream(self, cr: ChatReply, body: Json) -> Stream:
        """Turn a ChatReply into the dialect's default stream for this request."""
        deltas: list[Json] = []
        if cr.reasoning is not None:
            deltas.append({cr.reasoning_field: cr.reasoning})
        deltas += [{"content": w} for w in _words(cr.content or "")]
        for i, call in enumerate(cr.tool_calls or []):
            deltas.append({"tool_calls": [{"index": i, **call}]})
        deltas = deltas or [{"content": cr.content}]
        deltas[0] = {"role": "assistant", **deltas[0], **cr.extra_message}
        opts = body.get("stream_options")
        opts = opts if isinstance(opts, dict) else {}
        placement = "final" if opts.get("include_usage") is True else "none"
        done: str | None = DONE
        if self.dialect == "transformers":
            placement, done = "last", None
        elif self.dialect == "vllm" and placement == "final" and opts.get("continuous_usage_stats"):
            placement = "every+final"
        if cr.usage is None:
            placement = "none"
        if isinstance(cr.usage, dict):
            usage = cr.usage
        else:
            usage = self._auto_usage(body, len(_words(cr.content or "")))
        return Stream(
            deltas,
            usage,
            placement,
            cr.finish_reason,
            done,
            provider=cr.provider,
            headers=cr.headers,
        )

    def _events(self, ex: _Exchange, st: Stream, body: Json) -> list[bytes]:
        if st.event_lines is not None:
            return [(line + "\n").encode() for line in st.event_lines]
        places = set(st.usage_placement.split("+"))
        deltas = st.deltas or ([] if st.close_without_finish else [{}])
        usage = st.usage if st.usage is not None else self._auto_usage(body, len(deltas))
        events: list[Json] = []
        for i, delta in enumerate(deltas):
            last = i == len(deltas) - 1
            choice: Json = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": st.finish_reason if last and not st.close_without_finish else None,
            }
            if self.dialect == "transformers":
                choice = {k: v for k, v in choice.items() if v is not None}
            chunk = {**self._envelope(ex, body, "chat.completion.chunk"), "choices": [choice]}
            if "every" in places:
                ratio = usage.get("completion_tokens", 0) * (i + 1) // len(deltas)
                chunk["usage"] = usage if last else _usage(usage.get("prompt_tokens", 0), ratio)
            elif "last" in places and last and not st.close_without_finish:
                chunk["usage"] = usage
            elif self.dialect == "tgi":
                chunk["usage"] = None
            events.append({**chunk, **st.chunk_extra})
        if "final" in places and not st.close_without_finish:
            final = {**self._envelope(ex, body, "chat.completion.chunk"), "choices": []}
            events.append({**final, "usage": usage, **st.chunk_extra})
        lines = [b"data: " + _dumps(e) + b"\n\n" for e in events]
        if st.done_line is not None and not st.close_without_finish:
            lines.append(st.done_line.encode() + b"\n\n")
        return lines

    def _stream(self, ex: _Exchange, st: Stream, body: Json) -> bool:
        lines = self._events(ex, st, body)
        if st.first_byte_delay:
            self._stop.wait(st.first_byte_delay)
        chunked = st.chunked and ex.http11
        ctype = "text/event-stream" if self.dialect == "tgi" else "text/event-stream; charset=utf-8"
        hdrs = {
            "content-type": ctype,
            "cache-control": "no-cache",
            **self._base_headers(ex, st.provider),
        }
        if chunked:
            hdrs["transfer-encoding"] = "chunked"
        if not (chunked and ex.keep_alive) or st.close_without_finish:
            hdrs["connection"] = "close"
        self._head(ex, 200, {**hdrs, **st.headers})
        sock = ex.conn.sock

        def write(data: bytes) -> None:
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        for i in range(len(lines) + 1):
            if i == st.reset_after:
                if i:  # let the client read what was sent: an RST discards unread data
                    self._stop.wait(0.05)
                ex.conn.reset()
                return False
            if i == st.stall_after:
                ex.conn.wait_disconnect()
                return False
            if i == st.error_after:
                payload = st.error_payload or {
                    "error": {"message": "boom", "type": "server_error", "code": 500}
                }
                write(b"data: " + _dumps(payload) + b"\n\n")
                break
            if i == len(lines):
                break
            if i and st.delay_between:
                self._stop.wait(st.delay_between)
            write(lines[i])
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        return "connection" not in hdrs and ex.keep_alive
