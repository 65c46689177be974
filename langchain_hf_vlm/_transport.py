"""The only module that does network I/O: clients, retries, timeouts, error mapping.

Sync and async share one call's policy (``_call``: deadline, read limits, retries, redaction,
error mapping) and the SSE decoding (``_sse``); only the I/O calls differ. ``[DONE]`` ends a
stream at once; what follows it is read briefly (so that the connection goes back to the
pool) or the connection is closed. A stream is closed at once when the caller stops early.
Redirects are followed here (at most 20, each body read only in part).

Clients: the package makes its own (one sync client, one async client per event loop) unless
the user hands in ``http_client`` / ``http_async_client``. Either way the model's timeout is
passed with every request, and the retries and connection hygiene below apply. The package
closes only the clients it made; a user's clients stay the user's to close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field
from typing import Any

import anyio
from langchain_core.exceptions import ModelError

from langchain_hf_vlm._backends import FINGERPRINTS, Endpoint, ScaleUpPolicy
from langchain_hf_vlm._call import (
    DRAIN_BYTES,
    DRAIN_SECONDS,
    MAX_REDIRECTS,
    Body,
    Call,
    Limits,
    _Expired,
)
from langchain_hf_vlm._deadline import Deadline, bounded, obey_deadlines
from langchain_hf_vlm._error_mapping import answer_body, stream_event_error
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._json import loads
from langchain_hf_vlm._redaction import Redactor
from langchain_hf_vlm._sse import DONE, MalformedEventError, SSEDecoder

logger = logging.getLogger("langchain_hf_vlm")

_PROBE_TIMEOUT = 5.0
_PROBE_BYTES = 1024 * 1024

RetryHook = Callable[[ModelError, float, int], Awaitable[None] | None]
"""Called before each retry with the error, the wait in seconds and the attempt number."""


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready to send: JSON body already serialized."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    stream: bool
    scale_up: ScaleUpPolicy = field(default_factory=ScaleUpPolicy)
    """How long to wait for a server that answers "starting up"."""


@dataclass
class Answer:
    """A parsed JSON answer and the response headers it came with."""

    body: dict[str, Any]
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """A stream's response arrived: its headers (again after a retry, before any event)."""

    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One parsed data event of a stream: a chat-completion chunk."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The server ended the stream with ``[DONE]``: the answer is complete, finish reason or
    not (Snowflake Cortex sends none)."""


StreamItem = StreamOpened | StreamEvent | StreamDone


def _close_after_server_error(response: httpx.Response) -> None:
    """A server error's connection is not reused.

    uvicorn-based servers (``transformers serve`` among them) answer an unhandled exception with
    a plain-text 500 and then drop the kept-alive connection without a ``Connection: close``: a
    request sent on it next is reset. Closing the connection that carried a 5xx costs one
    reconnect and keeps the next request, retried or not, off a dead socket.
    """
    if response.status_code >= 500:
        close = getattr(response.extensions.get("network_stream"), "close", None)
        if callable(close):
            close()


async def _aclose_after_server_error(response: httpx.Response) -> None:
    """Async twin of :func:`_close_after_server_error`."""
    if response.status_code >= 500:
        aclose = getattr(response.extensions.get("network_stream"), "aclose", None)
        if callable(aclose):
            await aclose()


def _log_retry(
    call: Call, error: ModelError, delay: float, hook: RetryHook | None
) -> Awaitable[None] | None:
    """Log and report the retry numbered ``call.retries.attempt`` (1-based)."""
    attempt = call.retries.attempt
    logger.debug("retrying in %.2fs (attempt %d) after %s", delay, attempt, call.redact(str(error)))
    return hook(error, delay, attempt) if hook is not None else None


def _timer(call: Call) -> Any:
    """What ends an await at the call's deadline: the deadline backend of the package's own
    clients, or else a cancel scope."""
    if call.at_socket:
        return call.scope
    remaining = call.deadline.remaining()
    return contextlib.nullcontext() if remaining is None else anyio.fail_after(max(remaining, 0))


def _probe_call(headers: Mapping[str, str]) -> Call:
    """An identification GET: a few seconds and a small body, whatever the server does."""
    limits = Limits(
        timeout=_PROBE_TIMEOUT, request_timeout=_PROBE_TIMEOUT, max_response_bytes=_PROBE_BYTES
    )
    return Call(headers, ScaleUpPolicy(), 0, limits)


_FAILURES = (httpx.HTTPError, ModelError, MalformedEventError, TimeoutError, _Expired)
"""What an attempt may raise; :meth:`Call.error` makes each a package error."""


class Transport:
    """HTTP clients for one model instance: one sync client, one async client per event loop
    (or the user's own clients), and the retry loops around them."""

    def __init__(
        self,
        *,
        timeout: float | None,
        max_retries: int,
        max_connections: int = 100,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_retries = max_retries
        self.limits = limits or Limits(timeout=timeout)
        self._at_socket: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()
        """The clients made here, whose sockets obey the deadline."""
        self._request_timeout = httpx.Timeout(timeout)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._lock = threading.Lock()
        self._user_client = http_client
        self._user_async_client = http_async_client
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def client(self) -> httpx.Client:
        if self._user_client is not None:
            return self._user_client
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._request_timeout, limits=self._limits)
                if obey_deadlines(self._client):
                    self._at_socket.add(self._client)
                # A model dropped without close() does not leave its sockets to the collector
                # (which warns "unclosed socket"); async clients need aclose() in their loop.
                weakref.finalize(self, self._client.close)
            return self._client

    def async_client(self) -> httpx.AsyncClient:
        if self._user_async_client is not None:
            return self._user_async_client
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = httpx.AsyncClient(timeout=self._request_timeout, limits=self._limits)
                if obey_deadlines(client):
                    self._at_socket.add(client)
                self._async_clients[loop] = client
            return client

    def close(self) -> None:
        """Close the sync client the package made (a user's client is left open)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the clients the package made: the sync one, and the async one of this loop
        (an async client belongs to the event loop it was made in)."""
        self.close()
        with self._lock:
            client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # ---- server identification (one GET per fingerprint, failures mean "unknown")

    def identify(self, endpoint: Endpoint, headers: Mapping[str, str]) -> Endpoint:
        """``endpoint`` with its dialect settled by :data:`~._backends.FINGERPRINTS`."""
        for fingerprint in FINGERPRINTS:
            if fingerprint.matches(self._probe(endpoint.root + fingerprint.route, headers)):
                return endpoint.identified(fingerprint.dialect)
        return endpoint.identified(None)

    async def aidentify(self, endpoint: Endpoint, headers: Mapping[str, str]) -> Endpoint:
        """Async twin of :meth:`identify`."""
        for fingerprint in FINGERPRINTS:
            answer = await self._aprobe(endpoint.root + fingerprint.route, headers)
            if fingerprint.matches(answer):
                return endpoint.identified(fingerprint.dialect)
        return endpoint.identified(None)

    def _probe(self, url: str, headers: Mapping[str, str]) -> Any:
        call = _probe_call(headers)
        try:
            with call.scope, self.client().stream("GET", url, headers=headers) as got:
                if got.status_code != 200:
                    return None
                return loads(self._read(got, call.answer(got), call))
        except (*_FAILURES, ValueError):
            return None

    async def _aprobe(self, url: str, headers: Mapping[str, str]) -> Any:
        call = _probe_call(headers)
        try:
            with _timer(call):
                got = await self.async_client().send(
                    self.async_client().build_request("GET", url, headers=headers), stream=True
                )
            try:
                if got.status_code != 200:
                    return None
                return loads(await self._aread(got, call.answer(got), call))
            finally:
                await got.aclose()
        except (*_FAILURES, ValueError):
            return None

    # ---- one call: its policy, the requests of its attempts, its bodies

    def _call(self, request: PreparedRequest, client: httpx.Client | httpx.AsyncClient) -> Call:
        return Call(
            request.headers,
            request.scale_up,
            self.max_retries,
            self.limits,
            at_socket=client in self._at_socket,
        )

    def _outgoing(self, client: httpx.Client | httpx.AsyncClient, request: PreparedRequest) -> Any:
        return client.build_request(
            "POST",
            request.url,
            content=request.body,
            headers=request.headers,
            timeout=self._request_timeout,
        )

    def _send(self, client: httpx.Client, request: PreparedRequest, call: Call) -> httpx.Response:
        """Send ``request``, following redirects here: each redirect body is read only in
        part, and a redirect loop is an error that has the status and request id."""
        outgoing = self._outgoing(client, request)
        for _ in range(MAX_REDIRECTS + 1):
            response = client.send(outgoing, stream=True, follow_redirects=False)
            if response.next_request is None:
                return response
            with contextlib.closing(response):
                body = self._read(response, call.error_body(), call)
            outgoing = response.next_request
        raise call.redirect_loop(response, body)

    async def _asend(
        self, client: httpx.AsyncClient, request: PreparedRequest, call: Call
    ) -> httpx.Response:
        """Async twin of :meth:`_send`."""
        outgoing = self._outgoing(client, request)
        for _ in range(MAX_REDIRECTS + 1):
            with _timer(call):
                response = await client.send(outgoing, stream=True, follow_redirects=False)
            if response.next_request is None:
                return response
            try:
                body = await self._aread(response, call.error_body(), call)
            finally:
                await response.aclose()
            outgoing = response.next_request
        raise call.redirect_loop(response, body)

    def _read(self, response: httpx.Response, body: Body, call: Call) -> bytes:
        for chunk in response.iter_bytes():
            if not body.add(chunk):
                break
            call.check()
        return body.data()

    async def _aread(self, response: httpx.Response, body: Body, call: Call) -> bytes:
        chunks = response.aiter_bytes()
        while True:
            with _timer(call):
                chunk = await anext(chunks, None)
            if chunk is None or not body.add(chunk):
                return body.data()

    def _opened(self, response: httpx.Response, call: Call) -> None:
        """Raise for an error answer: an HTTP error status, or JSON where SSE was asked for."""
        if response.status_code >= 400:
            body = self._read(response, call.error_body(), call)
            _close_after_server_error(response)
            raise call.error_answer(response, body)
        if _is_json(response):
            answer_body(response, self._read(response, call.answer(response), call), call.redact)

    async def _aopened(self, response: httpx.Response, call: Call) -> None:
        """Async twin of :meth:`_opened`."""
        if response.status_code >= 400:
            body = await self._aread(response, call.error_body(), call)
            await _aclose_after_server_error(response)
            raise call.error_answer(response, body)
        if _is_json(response):
            content = await self._aread(response, call.answer(response), call)
            answer_body(response, content, call.redact)

    # ---- non-streaming

    def post(self, request: PreparedRequest, on_retry: RetryHook | None = None) -> Answer:
        client = self.client()
        call = self._call(request, client)
        while True:
            try:
                with call.scope:
                    response = self._send(client, request, call)
                    with contextlib.closing(response):
                        if response.status_code >= 400:
                            self._opened(response, call)
                        content = self._read(response, call.answer(response), call)
                return Answer(answer_body(response, content, call.redact), response.headers)
            except _FAILURES as exc:
                error = call.error(exc, delivered=False)
                delay = call.next_wait(error, exc)
                _log_retry(call, error, delay, on_retry)
                time.sleep(delay)

    async def apost(self, request: PreparedRequest, on_retry: RetryHook | None = None) -> Answer:
        client = self.async_client()
        call = self._call(request, client)
        while True:
            try:
                response = await self._asend(client, request, call)
                try:
                    if response.status_code >= 400:
                        await self._aopened(response, call)
                    content = await self._aread(response, call.answer(response), call)
                finally:
                    await response.aclose()
                return Answer(answer_body(response, content, call.redact), response.headers)
            except _FAILURES as exc:
                error = call.error(exc, delivered=False)
                delay = call.next_wait(error, exc)
                notified = _log_retry(call, error, delay, on_retry)
                if notified is not None:
                    await notified
                await asyncio.sleep(delay)

    # ---- streaming

    def stream(
        self, request: PreparedRequest, on_retry: RetryHook | None = None
    ) -> Generator[StreamItem, None, None]:
        """Yield :class:`StreamOpened` with the response headers, then a :class:`StreamEvent`
        per data event, then :class:`StreamDone` if the server sent ``[DONE]``.

        ``[DONE]`` ends the stream at once, whatever the server sends after it. Retries
        happen only before the first event reaches the caller (each attempt yields its own
        :class:`StreamOpened`). Reads happen inside :func:`bounded`, never across a ``yield``.
        """
        client = self.client()
        call = self._call(request, client)
        while True:
            delivered = False
            try:
                call.attempt(stream=True)
                with call.scope:
                    response = self._send(client, request, call)
                with contextlib.closing(response):
                    with call.scope:
                        self._opened(response, call)
                    yield StreamOpened(response.headers)
                    reader = _StreamReader(call)
                    chunks = response.iter_bytes()
                    while not reader.ended:
                        with call.scope:
                            chunk = next(chunks, None)
                        for item in reader.feed(chunk):
                            delivered = True
                            yield item
                        call.check()
                    if reader.done and call.at_socket:
                        self._drain(chunks)
                    return
            except _FAILURES as exc:
                error = call.error(exc, delivered)
                if delivered:
                    raise error from exc
                delay = call.next_wait(error, exc)
                _log_retry(call, error, delay, on_retry)
                time.sleep(delay)

    async def astream(
        self, request: PreparedRequest, on_retry: RetryHook | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        """Async twin of :meth:`stream`; each await ends by the deadline."""
        client = self.async_client()
        call = self._call(request, client)
        while True:
            delivered = False
            try:
                call.attempt(stream=True)
                response = await self._asend(client, request, call)
                try:
                    await self._aopened(response, call)
                    yield StreamOpened(response.headers)
                    reader = _StreamReader(call)
                    chunks = response.aiter_bytes()
                    while not reader.ended:
                        with _timer(call):
                            chunk = await anext(chunks, None)
                        for item in reader.feed(chunk):
                            delivered = True
                            yield item
                    if reader.done:
                        with anyio.move_on_after(DRAIN_SECONDS):
                            await self._adrain(chunks)
                    return
                finally:
                    await response.aclose()
            except _FAILURES as exc:
                error = call.error(exc, delivered)
                if delivered:
                    raise error from exc
                delay = call.next_wait(error, exc)
                notified = _log_retry(call, error, delay, on_retry)
                if notified is not None:
                    await notified
                await asyncio.sleep(delay)

    @staticmethod
    def _drain(chunks: Iterator[bytes]) -> None:
        """Read what follows ``[DONE]`` (normally just the end of the body) so that the
        connection can be reused; give up quietly past a small budget."""
        drained = 0
        with contextlib.suppress(httpx.HTTPError), bounded(Deadline(DRAIN_SECONDS)):
            for chunk in chunks:
                drained += len(chunk)
                if drained > DRAIN_BYTES:
                    return

    @staticmethod
    async def _adrain(chunks: AsyncIterator[bytes]) -> None:
        """Async twin of :meth:`_drain` (the caller bounds the time)."""
        drained = 0
        with contextlib.suppress(httpx.HTTPError):
            async for chunk in chunks:
                drained += len(chunk)
                if drained > DRAIN_BYTES:
                    return


class _StreamReader:
    """Bytes of a stream to transport items: SSE decoding, the stream's size limit, the stall
    timer (reset by data events only) and the end at ``[DONE]``. Shared by both loops."""

    __slots__ = ("_deadline", "_decoder", "_redact", "_size", "done", "ended")

    def __init__(self, call: Call) -> None:
        self._deadline = call.deadline
        self._redact = call.redact
        self._decoder = SSEDecoder(call.limits.max_event_bytes)
        self._size = Body(call.limits.max_response_bytes, "max_response_bytes")
        self.done = False
        self.ended = False

    def feed(self, chunk: bytes | None) -> list[StreamItem]:
        """The items completed by ``chunk`` (None: the body ended). Runs once per network read."""
        if chunk is None:
            self.ended = True
            payloads = self._decoder.close()
        else:
            self._size.count(len(chunk))
            payloads = self._decoder.feed(chunk)
            if not payloads:
                return []
        items: list[StreamItem] = []
        for payload in payloads:
            if payload is DONE:
                self.done = self.ended = True
                items.append(StreamDone())
                break
            items.append(_checked_event(payload, self._redact))
        self._deadline.event()
        return items


def _is_json(response: httpx.Response) -> bool:
    content_type = str(response.headers.get("content-type", ""))
    return content_type.split(";")[0].strip().lower() == "application/json"


def _checked_event(payload: Any, redact: Redactor) -> StreamEvent:
    if not isinstance(payload, dict):
        raise MalformedEventError(f"stream event is not a JSON object: {str(payload)[:200]!r}")
    if payload.get("error"):  # an error event, even when it also carries choices (OpenRouter)
        raise stream_event_error(payload, redact)
    return StreamEvent(payload)
