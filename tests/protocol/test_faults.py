"""Fault injection over real sockets: retries, timeouts, broken streams, cancellation, secrets.

Every test checks what the caller gets, how many requests the server saw, and that no output
was lost or duplicated. The loopback server misbehaves on command (see ``Fault``/``Stream``).
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelError
from langchain_core.load import dumpd
from langchain_core.messages import HumanMessage

from langchain_hf_vlm import (
    ChatHuggingFaceVLM,
    IncompleteStreamError,
)
from langchain_hf_vlm._wire import retry as retry_module
from langchain_hf_vlm._wire.sender import ChatSender, PreparedRequest
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from tests.servers.chat_server import ChatReply, ChatServer, Fault, Reply, Step, Stream
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.polling import aeventually, eventually

TOKEN = "hf_SuperSecretFaultToken123"
WORDS = ["Hello ", "brave ", "new ", "world"]
DELTAS: list[dict[str, Any]] = [{"role": "assistant", "content": WORDS[0]}] + [
    {"content": w} for w in WORDS[1:]
]


@pytest.fixture
def server(vllm: ChatServer) -> ChatServer:
    """vLLM dialect: no auth required, OpenAI-shaped errors."""
    return vllm


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain exponential backoff in milliseconds instead of half-seconds."""
    monkeypatch.setattr(retry_module, "_BASE_DELAY", 0.002)


def _model(server: ChatServer, **fields: Any) -> ChatHuggingFaceVLM:
    fields.setdefault("max_retries", 2)
    return make_model(server, **fields)


def _ask(text: str = "hi") -> list[HumanMessage]:
    return [HumanMessage(content=text)]


def _echo(text: str = "hi") -> str:
    """The loopback server's default answer to ``_ask(text)``."""
    return f"images=0; text={text}"


def _chat_requests(server: ChatServer) -> list[Any]:
    return [r for r in server.requests if r.path.endswith("/chat/completions")]


def _open_connections(server: ChatServer) -> int:
    with server._lock:
        return len(server._socks)


def _collect(model: ChatHuggingFaceVLM, text: str = "hi") -> tuple[list[str], BaseException | None]:
    """Stream and return (text pieces yielded to the caller, the error raised, if any)."""
    pieces: list[str] = []
    try:
        for chunk in model.stream(_ask(text)):
            pieces.append(chunk.text)
    except Exception as exc:  # returned to the test for inspection
        return pieces, exc
    return pieces, None


# ---------------------------------------------------------------- retries on HTTP statuses


def test_429_with_retry_after_then_success(server: ChatServer) -> None:
    server.enqueue(Fault("retry_after", value="0"))
    answer = _model(server).invoke(_ask())
    assert answer.content == _echo()
    assert len(_chat_requests(server)) == 2
    assert server.requests[0].json == server.requests[1].json  # the same request, resent


def test_429_with_http_date_retry_after_then_success(server: ChatServer) -> None:
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    server.enqueue(Fault("retry_after", value=past))
    assert _model(server).invoke(_ask()).content == _echo()
    assert len(_chat_requests(server)) == 2


def test_503_then_success(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("status", status=503, message="warming up"))
    assert _model(server).invoke(_ask()).content == _echo()
    assert len(_chat_requests(server)) == 2


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_retried(server: ChatServer, fast_backoff: None, status: int) -> None:
    server.enqueue(Fault("status", status=status, message="gateway"))
    assert _model(server).invoke(_ask()).content == _echo()
    assert len(_chat_requests(server)) == 2


def test_503_then_success_when_streaming(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("status", status=503, message="warming up"), Stream(DELTAS))
    pieces, error = _collect(_model(server))
    assert error is None
    assert "".join(pieces) == "".join(WORDS)
    assert len(_chat_requests(server)) == 2


def test_500_is_not_retried(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("status", status=500, message="kaboom"))
    with pytest.raises(APIError, match="kaboom") as info:
        _model(server).invoke(_ask())
    assert info.value.status_code == 500
    assert len(_chat_requests(server)) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, InvalidRequestError), (401, AuthenticationError), (404, NotFoundError)],
)
def test_client_errors_are_never_retried(
    server: ChatServer, fast_backoff: None, status: int, error: type[Exception]
) -> None:
    server.enqueue(Fault("status", status=status, message=f"client error {status}", repeat=3))
    with pytest.raises(error, match=f"client error {status}"):
        _model(server).invoke(_ask())
    assert len(_chat_requests(server)) == 1
    with pytest.raises(error):
        list(_model(server).stream(_ask()))
    assert len(_chat_requests(server)) == 2


def test_retries_exhausted_raise_the_last_error(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(
        Fault("status", status=503, message="first"),
        Fault("status", status=502, message="second"),
        Fault("status", status=504, message="third"),
        Fault("status", status=503, message="never reached"),
    )
    with pytest.raises(APIError, match="third") as info:
        _model(server, max_retries=2).invoke(_ask())
    assert info.value.status_code == 504
    assert len(_chat_requests(server)) == 3  # max_retries + 1


def test_rate_limit_exhausted_is_a_rate_limit_error(server: ChatServer) -> None:
    server.enqueue(Fault("retry_after", value="0", repeat=4))
    with pytest.raises(RateLimitError) as info:
        _model(server, max_retries=3).invoke(_ask())
    assert info.value.retry_after == 0
    assert len(_chat_requests(server)) == 4


def test_max_retries_zero_sends_once(server: ChatServer) -> None:
    server.enqueue(Fault("retry_after", value="0"))
    with pytest.raises(RateLimitError):
        _model(server, max_retries=0).invoke(_ask())
    assert len(_chat_requests(server)) == 1


class _Abort(Exception):
    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


def _abort_on_retry(error: ModelError, delay: float, attempt: int) -> None:
    raise _Abort(delay)


def _prepared(server: ChatServer, stream: bool = False) -> PreparedRequest:
    body: dict[str, Any] = {"model": "tiny/vlm", "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
    return PreparedRequest(
        f"{server.url}/v1/chat/completions",
        {"content-type": "application/json"},
        json.dumps(body).encode(),
        stream,
    )


def test_retry_after_is_capped(server: ChatServer) -> None:
    server.enqueue(Fault("retry_after", value="3600"))
    with pytest.raises(_Abort) as info:
        ChatSender(timeout=5, max_retries=2).post(_prepared(server), on_retry=_abort_on_retry)
    assert info.value.delay == retry_module.MAX_RETRY_AFTER == 60.0


def test_retry_after_http_date_is_honoured(server: ChatServer) -> None:
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.enqueue(Fault("retry_after", value=soon))
    with pytest.raises(_Abort) as info:
        ChatSender(timeout=5, max_retries=2).post(_prepared(server), on_retry=_abort_on_retry)
    assert 25 <= info.value.delay <= 30


def test_backoff_grows_exponentially_with_jitter(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("status", status=503, repeat=3))
    waits: list[tuple[float, int]] = []
    answer = ChatSender(timeout=5, max_retries=3).post(
        _prepared(server), on_retry=lambda error, delay, attempt: waits.append((delay, attempt))
    )
    assert answer.body["choices"][0]["message"]["content"] == _echo()
    assert [attempt for _, attempt in waits] == [1, 2, 3]
    base = retry_module._BASE_DELAY
    for delay, attempt in waits:
        full = base * 2 ** (attempt - 1)
        assert full / 2 <= delay <= full
    assert len(_chat_requests(server)) == 4


# ---------------------------------------------------------------- dropped connections


def test_reset_before_any_response_is_retried(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("reset"))
    assert _model(server).invoke(_ask()).content == _echo()
    assert len(_chat_requests(server)) == 2


def test_close_before_any_response_is_retried_when_streaming(
    server: ChatServer, fast_backoff: None
) -> None:
    server.enqueue(Fault("reset"), Fault("close"), Stream(DELTAS))
    pieces, error = _collect(_model(server))
    assert error is None
    assert "".join(pieces) == "".join(WORDS)
    assert len(_chat_requests(server)) == 3


def test_reset_exhausted_is_a_connection_error(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("reset", repeat=3))
    with pytest.raises(APIConnectionError):
        _model(server).invoke(_ask())
    assert len(_chat_requests(server)) == 3


def test_reset_mid_stream_keeps_partial_and_is_not_retried(
    server: ChatServer, fast_backoff: None
) -> None:
    server.enqueue(Stream(DELTAS, reset_after=2), Stream(DELTAS))
    pieces, error = _collect(_model(server))
    assert isinstance(error, IncompleteStreamError)
    assert error.partial_text == "Hello brave "
    assert "".join(pieces) == error.partial_text  # delivered once, nothing duplicated
    assert isinstance(error.__cause__, APIConnectionError)
    assert len(_chat_requests(server)) == 1


async def test_reset_mid_astream_keeps_partial_and_is_not_retried(
    server: ChatServer, fast_backoff: None
) -> None:
    server.enqueue(Stream(DELTAS, reset_after=3), Stream(DELTAS))
    pieces: list[str] = []
    async with _model(server) as model:
        with pytest.raises(IncompleteStreamError) as info:
            async for chunk in model.astream(_ask()):
                pieces.append(chunk.text)
    assert info.value.partial_text == "Hello brave new "
    assert "".join(pieces) == info.value.partial_text
    assert len(_chat_requests(server)) == 1


def test_stream_closed_without_finish_is_incomplete(server: ChatServer) -> None:
    server.enqueue(Stream(DELTAS, close_without_finish=True))
    pieces, error = _collect(_model(server))
    assert isinstance(error, IncompleteStreamError)
    assert "without a finish" in str(error)
    assert error.partial_text == "".join(WORDS) == "".join(pieces)
    assert len(_chat_requests(server)) == 1


# ---------------------------------------------------------------- timeouts


# A slow server here takes 60 s (its waits end when the test's server stops): the model's
# timeout of 1 s, not the server, must end every attempt, however busy the machine.


def test_slow_first_byte_times_out_and_is_retried(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Fault("delay", seconds=60, repeat=3))
    with pytest.raises(APITimeoutError) as info:
        _model(server, timeout=1).invoke(_ask())
    assert info.value.phase == "first_byte"
    assert "first byte" in str(info.value)
    assert len(_chat_requests(server)) == 3


def test_slow_first_byte_then_success(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Stream(DELTAS, first_byte_delay=60), Stream(DELTAS))
    pieces, error = _collect(_model(server, timeout=1))
    assert error is None
    assert "".join(pieces) == "".join(WORDS)  # the abandoned attempt contributed nothing
    assert len(_chat_requests(server)) == 2


def test_stall_mid_stream_is_incomplete_between_chunks(
    server: ChatServer, fast_backoff: None
) -> None:
    server.enqueue(Stream(DELTAS, stall_after=2), Stream(DELTAS))
    pieces, error = _collect(_model(server, timeout=1))
    assert isinstance(error, IncompleteStreamError)
    assert isinstance(error.__cause__, APITimeoutError)
    assert error.__cause__.phase == "between_chunks"
    assert "next chunk" in str(error)
    assert error.partial_text == "Hello brave " == "".join(pieces)
    assert len(_chat_requests(server)) == 1


# ---------------------------------------------------------------- malformed answers


def test_malformed_sse_line_before_output(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Stream(event_lines=["data: {not json", ""]), Stream(DELTAS))
    pieces, error = _collect(_model(server))
    assert isinstance(error, IncompleteStreamError)
    assert "malformed stream event" in str(error) and "not json" in str(error)
    assert pieces == []
    assert len(_chat_requests(server)) == 1


def test_malformed_sse_line_after_output_keeps_partial(server: ChatServer) -> None:
    good = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "tiny/vlm",
        "choices": [{"index": 0, "delta": DELTAS[0], "finish_reason": None}],
    }
    server.enqueue(Stream(event_lines=[f"data: {json.dumps(good)}", "", "data: {oops", ""]))
    pieces, error = _collect(_model(server))
    assert isinstance(error, IncompleteStreamError)
    assert "malformed stream event" in str(error)
    assert error.partial_text == "Hello " == "".join(pieces)
    assert len(_chat_requests(server)) == 1


def test_http_200_with_error_body(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Reply({"error": {"message": "model overloaded", "type": "server_error"}}))
    with pytest.raises(APIError, match="model overloaded"):
        _model(server).invoke(_ask())
    assert len(_chat_requests(server)) == 1


def test_http_200_with_error_body_when_streaming(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Reply({"error": {"message": "model overloaded", "type": "server_error"}}))
    pieces, error = _collect(_model(server))
    assert isinstance(error, ModelError)
    assert "model overloaded" in str(error)
    assert pieces == []
    assert len(_chat_requests(server)) == 1


def test_error_event_mid_stream_keeps_partial(server: ChatServer, fast_backoff: None) -> None:
    server.enqueue(Stream(DELTAS, error_after=3), Stream(DELTAS))
    pieces, error = _collect(_model(server))
    assert isinstance(error, IncompleteStreamError)
    assert error.status_code == 500
    assert error.server_message == "boom"
    assert error.partial_text == "Hello brave new " == "".join(pieces)
    assert len(_chat_requests(server)) == 1


# ---------------------------------------------------------------- redirects and secrets


def test_redirect_to_another_host_drops_the_token(server: ChatServer) -> None:
    with ChatServer("vllm") as other:
        target = f"http://localhost:{other.port}/v1/chat/completions"
        server.enqueue(Fault("redirect", target=target))
        answer = _model(server, api_key=TOKEN).invoke(_ask())
        assert answer.content == _echo()
        assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert len(_chat_requests(server)) == 1
        assert len(_chat_requests(other)) == 1
        assert "authorization" not in other.requests[0].headers
        assert TOKEN not in repr(other.requests[0])


def test_redirect_on_the_same_host_keeps_the_token(server: ChatServer) -> None:
    """Control for the test above: the header is only dropped across hosts."""
    server.enqueue(Fault("redirect", target="/chat/completions"))
    assert _model(server, api_key=TOKEN).invoke(_ask()).content == _echo()
    assert [r.headers.get("authorization") for r in _chat_requests(server)] == [
        f"Bearer {TOKEN}"
    ] * 2


def test_retries_keep_the_token_on_its_host(server: ChatServer) -> None:
    server.enqueue(Fault("retry_after", value="0"))
    _model(server, api_key=TOKEN).invoke(_ask())
    assert [r.headers.get("authorization") for r in _chat_requests(server)] == [
        f"Bearer {TOKEN}"
    ] * 2


def test_token_never_in_repr_dump_or_serialized(server: ChatServer) -> None:
    model = _model(server, api_key=TOKEN)
    assert TOKEN not in repr(model)
    assert TOKEN not in str(model)
    assert TOKEN not in str(model.model_dump())
    assert TOKEN not in json.dumps(model.model_dump(mode="json"))
    serialized = dumpd(model)
    assert TOKEN not in json.dumps(serialized)
    assert serialized["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["HF_TOKEN"]}


class _Recorder(BaseCallbackHandler):
    """Keeps the repr of everything callbacks (and so tracers) are given."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.retries: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append(repr((serialized, messages, kwargs)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(repr((response, kwargs)))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr((error, str(error), kwargs)))

    def on_retry(self, retry_state: Any, **kwargs: Any) -> None:
        self.retries.append(repr((retry_state, kwargs)))

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.retries.append(repr((name, data, kwargs)))


def test_token_never_in_errors_logs_or_callbacks(
    server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = _Recorder()
    model = _model(server, api_key=TOKEN, callbacks=[recorder])
    server.enqueue(
        Fault("retry_after", value="0"),
        Fault("status", status=401, message=f"bad token {TOKEN[:6]}"),
    )
    with pytest.raises(AuthenticationError) as info:
        model.invoke(_ask())
    server.enqueue(Fault("retry_after", value="0"))
    model.invoke(_ask())
    assert len(_chat_requests(server)) == 4
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in _chat_requests(server))
    error = info.value
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    assert TOKEN not in repr(error.args)
    assert "retrying" in caplog.text  # the debug logs were captured at all
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)
    assert recorder.seen
    assert not any(TOKEN in entry for entry in recorder.seen)


# ---------------------------------------------------------------- retries are visible


def test_retries_are_logged_with_reason_and_wait(
    server: ChatServer, caplog: pytest.LogCaptureFixture, fast_backoff: None
) -> None:
    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    server.enqueue(
        Fault("retry_after", value="0"), Fault("status", status=503, message="overloaded")
    )
    assert _model(server).invoke(_ask()).content == _echo()
    retries = [
        r for r in caplog.records if r.name == "langchain_hf_vlm" and "retrying" in r.getMessage()
    ]
    assert len(retries) == 2
    assert all(r.levelno == logging.DEBUG for r in retries)
    first, second = (r.getMessage() for r in retries)
    assert "retrying in 0.00s" in first and "429" in first
    assert "503" in second and "overloaded" in second and "attempt 2" in second
    assert len(_chat_requests(server)) == 3


def test_retries_are_reported_to_callbacks(server: ChatServer) -> None:
    recorder = _Recorder()
    server.enqueue(Fault("retry_after", value="0"))
    _model(server, callbacks=[recorder]).invoke(_ask())
    assert len(_chat_requests(server)) == 2
    assert len(recorder.retries) == 1
    assert "429" in recorder.retries[0]


async def test_async_retries_are_reported_to_callbacks(server: ChatServer) -> None:
    recorder = _Recorder()
    server.enqueue(Fault("retry_after", value="0"), Fault("retry_after", value="0"))
    async with _model(server, callbacks=[recorder]) as model:
        await model.ainvoke(_ask())
    assert len(_chat_requests(server)) == 3
    assert len(recorder.retries) == 2
    assert all("429" in retry for retry in recorder.retries)


# ---------------------------------------------------------------- servers starting up
# A scaled-to-zero Inference Endpoint's proxy answers 503 while a replica starts. 127.0.0.1 is
# not an endpoints host, so these tests opt in with wait_for_scale_up=True; the host rule itself
# is covered in tests/unit/servers/test_scale_to_zero.py.

MODES = ["invoke", "ainvoke", "stream", "astream"]


def _answer(model: ChatHuggingFaceVLM, mode: str) -> str:
    """The answer's text through one of the four entry points."""
    if mode == "invoke":
        return str(model.invoke(_ask()).content)
    if mode == "stream":
        return "".join(chunk.text for chunk in model.stream(_ask()))

    async def run() -> str:
        if mode == "ainvoke":
            return str((await model.ainvoke(_ask())).content)
        return "".join([chunk.text async for chunk in model.astream(_ask())])

    return run_in_new_loop(model, run)


def _waking(repeat: int) -> Fault:
    """A bare 503, as the Inference Endpoints proxy answers while a replica starts."""
    return Fault("status", status=503, message="Service Unavailable", shape="plain", repeat=repeat)


@pytest.mark.parametrize("mode", MODES)
def test_scaled_to_zero_endpoint_is_waited_for_past_max_retries(
    server: ChatServer, fast_backoff: None, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    recorder = _Recorder()
    server.enqueue(_waking(repeat=6))
    model = _model(server, max_retries=2, timeout=10, wait_for_scale_up=True, callbacks=[recorder])
    assert _answer(model, mode) == _echo()
    sent = _chat_requests(server)
    assert len(sent) == 7
    assert {r.headers.get("x-scale-up-timeout") for r in sent} == {"9"}
    assert all(r.json == sent[0].json for r in sent)  # the same request, resent
    waits = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(waits) == 6  # every wait is logged
    assert "attempt 6" in waits[-1] and "Service Unavailable" in waits[-1]
    if mode in ("invoke", "ainvoke"):  # stream() gives _stream no run manager (langchain-core)
        assert len(recorder.retries) == 6
        assert all("503" in retry for retry in recorder.retries)


def test_scaled_to_zero_endpoint_is_waited_for_even_without_retries(
    server: ChatServer, fast_backoff: None
) -> None:
    server.enqueue(_waking(repeat=3))
    model = _model(server, max_retries=0, timeout=10, wait_for_scale_up=True)
    assert model.invoke(_ask()).content == _echo()
    assert len(_chat_requests(server)) == 4


LOADING_ANSWERS: dict[str, Step] = {
    "inference-api": Reply(
        {"error": "Model tiny/vlm is currently loading", "estimated_time": 20.0}, status=503
    ),
    "initializing": Fault("status", status=503, message="Server is initializing", shape="tgi"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(LOADING_ANSWERS))
def test_a_503_saying_the_model_is_loading_is_waited_for_on_any_host(
    server: ChatServer, fast_backoff: None, mode: str, kind: str
) -> None:
    loading = LOADING_ANSWERS[kind]
    server.enqueue(*[loading] * 5)
    model = _model(server, max_retries=1, timeout=10)
    assert _answer(model, mode) == _echo()
    sent = _chat_requests(server)
    assert len(sent) == 6
    assert all("x-scale-up-timeout" not in r.headers for r in sent)  # not an endpoint


@pytest.mark.parametrize("mode", MODES)
def test_waiting_for_a_starting_server_stops_within_the_timeout(
    server: ChatServer, fast_backoff: None, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    # Waits of at most 50 ms: the 1 s budget runs out long before the endpoint would wake
    # (after 1000 answers), so a client that ignored the budget gets an answer and fails here.
    # How many attempts fit in the budget depends on the machine's load; only two are counted
    # on: the first, and one past max_retries=0 (a client that does not wait sends one).
    monkeypatch.setattr(retry_module, "_MAX_DELAY", 0.05)
    server.enqueue(_waking(repeat=1000))
    model = _model(server, max_retries=0, timeout=1, wait_for_scale_up=True)
    with pytest.raises(APIError) as info:
        _answer(model, mode)
    error = info.value
    assert error.status_code == 503
    message = str(error)
    assert "still starting up" in message
    assert "timeout of 1s" in message
    assert "Service Unavailable" in message  # the server's last answer
    assert isinstance(error.__cause__, APIError)
    assert error.__cause__.status_code == 503
    assert 2 <= len(_chat_requests(server)) < 1000  # waited past max_retries, then gave up


@pytest.mark.parametrize("mode", MODES)
def test_an_ordinary_503_still_stops_after_max_retries(
    server: ChatServer, fast_backoff: None, mode: str
) -> None:
    server.enqueue(Fault("status", status=503, message="Service Unavailable", repeat=6))
    with pytest.raises(APIError) as info:
        _answer(_model(server, max_retries=2, timeout=10), mode)
    assert info.value.status_code == 503
    assert "still starting" not in str(info.value)
    assert len(_chat_requests(server)) == 3


@pytest.mark.parametrize("status", [502, 504])
def test_other_gateway_errors_of_an_endpoint_still_stop_after_max_retries(
    server: ChatServer, fast_backoff: None, status: int
) -> None:
    server.enqueue(Fault("status", status=status, message="gateway", repeat=6))
    with pytest.raises(APIError) as info:
        _model(server, max_retries=2, timeout=10, wait_for_scale_up=True).invoke(_ask())
    assert info.value.status_code == status
    assert len(_chat_requests(server)) == 3


@pytest.mark.parametrize("mode", MODES)
def test_scale_up_header_is_sent_only_when_the_endpoint_may_sleep(
    server: ChatServer, mode: str
) -> None:
    _answer(_model(server, timeout=10, wait_for_scale_up=True), mode)
    _answer(_model(server, timeout=10), mode)
    _answer(_model(server, timeout=10, wait_for_scale_up=False), mode)
    sent = _chat_requests(server)
    assert [r.headers.get("x-scale-up-timeout") for r in sent] == ["9", None, None]


# ---------------------------------------------------------------- cancellation and resources


async def test_cancelled_ainvoke_disconnects_and_model_stays_usable(server: ChatServer) -> None:
    server.enqueue(Stream(DELTAS, stall_after=0))  # headers, then silence until disconnect
    async with _model(server, timeout=10) as model:
        task = asyncio.create_task(model.ainvoke(_ask()))
        assert await aeventually(lambda: len(server.requests) == 1)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await aeventually(lambda: _open_connections(server) == 0)  # server saw the close
        answer = await model.ainvoke(_ask("again"))
    assert answer.content == _echo("again")
    assert len(_chat_requests(server)) == 2


async def test_breaking_out_of_astream_disconnects_and_model_stays_usable(
    server: ChatServer,
) -> None:
    server.enqueue(Stream(DELTAS, stall_after=2))
    pieces = []
    async with _model(server, timeout=10) as model:
        async for chunk in model.astream(_ask()):
            pieces.append(chunk.text)
            break
        assert pieces == ["Hello "]
        assert await aeventually(lambda: _open_connections(server) == 0)
        answer = await model.ainvoke(_ask("again"))
    assert answer.content == _echo("again")
    assert len(_chat_requests(server)) == 2


def test_breaking_out_of_stream_disconnects_and_model_stays_usable(server: ChatServer) -> None:
    model = _model(server, timeout=10)
    server.enqueue(Stream(DELTAS, stall_after=2))
    for chunk in model.stream(_ask()):
        assert chunk.text == "Hello "
        break
    assert eventually(lambda: _open_connections(server) == 0)
    assert model.invoke(_ask("again")).content == _echo("again")
    assert len(_chat_requests(server)) == 2


def test_several_event_loops_in_a_row(server: ChatServer) -> None:
    model = _model(server)

    async def both(text: str) -> tuple[str, str]:
        answer = await model.ainvoke(_ask(text))
        streamed = "".join([c.text async for c in model.astream(_ask(text))])
        return str(answer.content), streamed

    assert run_in_new_loop(model, lambda: both("one")) == (_echo("one"), _echo("one"))
    server.enqueue(Fault("retry_after", value="0"))
    assert run_in_new_loop(model, lambda: both("two")) == (_echo("two"), _echo("two"))
    assert len(_chat_requests(server)) == 5


def test_one_instance_many_threads_with_faults(server: ChatServer) -> None:
    model = _model(server, max_retries=5, timeout=10)
    server.enqueue(Fault("retry_after", value="0", repeat=8))
    texts = [f"thread {i}" for i in range(32)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda t: model.invoke(_ask(t)).content, texts))
    assert answers == [_echo(t) for t in texts]
    assert len(_chat_requests(server)) == 32 + 8
    assert threading.active_count() < 200


# ---------------------------------------------------------------- load


async def test_200_concurrent_ainvoke_with_a_fifth_failing(server: ChatServer) -> None:
    """The queue is shared by all connections: each request pops the next step, whoever sent
    it. 40 transient 429s are interleaved with 200 unique replies (240 steps, one per
    request), so every reply must reach exactly one caller and every fault costs one retry."""
    calls, faults = 200, 40
    steps: list[Any] = []
    for i in range(calls):
        if i % (calls // faults) == 0:
            steps.append(Fault("retry_after", value="0"))
        steps.append(ChatReply(content=f"answer-{i}"))
    server.enqueue(*steps)
    # Each request is bounded by the model's timeout: no wall-clock bound on the whole.
    async with _model(server, max_retries=8, timeout=15) as model:
        answers = await asyncio.gather(*(model.ainvoke(_ask(f"q{i}")) for i in range(calls)))
    contents = collections.Counter(str(a.content) for a in answers)
    assert contents == collections.Counter(f"answer-{i}" for i in range(calls))
    assert len(_chat_requests(server)) == calls + faults
    assert sum(1 for r in server.requests if r.json and r.json.get("stream")) == 0
    assert not server._queue  # every scripted step was consumed exactly once


@pytest.mark.parametrize("mode", MODES)
def test_connection_of_a_server_error_is_not_reused(server: ChatServer, mode: str) -> None:
    """uvicorn-based servers (transformers serve) answer a crash with a plain 500 and keep no
    promise about the connection: the next request sent on it is reset. The client closes a
    connection that carried a 5xx, so the next call works even without retries."""
    model = _model(server, max_retries=0)
    server.enqueue(Fault("crash"))

    def sync_twice() -> tuple[BaseException, str]:
        with pytest.raises(APIError) as info:
            _answer(model, mode)
        return info.value, _answer(model, mode)

    async def async_twice() -> tuple[BaseException, str]:
        with pytest.raises(APIError) as info:
            if mode == "ainvoke":
                await model.ainvoke(_ask())
            else:
                [chunk async for chunk in model.astream(_ask())]
        if mode == "ainvoke":
            return info.value, str((await model.ainvoke(_ask())).content)
        return info.value, "".join([chunk.text async for chunk in model.astream(_ask())])

    if mode in ("invoke", "stream"):
        error, answer = sync_twice()
    else:
        error, answer = run_in_new_loop(model, async_twice)
    assert "500" in str(error) and "Internal Server Error" in str(error)
    assert answer == _echo()
    assert len(_chat_requests(server)) == 2  # both reached the server: nothing was reset
    assert server.connections_opened == 2
