"""Chat requests over HTTP: the sync and async retry loops, sending and redirects, error
answers, and the end of a stream.

Sync and async share one call's policy (``policy``: deadline, read limits, retries, redaction,
error mapping), the body reads (``reads``) and the SSE decoding (``stream_items``); only the I/O
calls differ. ``[DONE]`` ends a stream at once; what follows it is read briefly (so that the
connection goes back to the pool) or the connection is closed. A stream is closed at once when
the caller stops early. Redirects are followed here (at most 20, each body read only in part).

The clients (``_wire.clients``: the package's own or the user's) get the model's timeout with every
request; identification probes (``_servers.probes``) use the same clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire import direct as _direct
from langchain_hf_vlm._wire.clients import Clients
from langchain_hf_vlm._wire.deadline import Deadline, bounded
from langchain_hf_vlm._wire.failures import answer_body
from langchain_hf_vlm._wire.policy import (
    DRAIN_BYTES,
    DRAIN_SECONDS,
    MAX_REDIRECTS,
    CallState,
    Limits,
)
from langchain_hf_vlm._wire.reads import FAILURES, aread, read, timer
from langchain_hf_vlm._wire.retry import ScaleUpPolicy
from langchain_hf_vlm._wire.stream_items import StreamItem, StreamOpened, StreamReader

logger = logging.getLogger("langchain_hf_vlm")

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
    call: CallState, error: ModelError, delay: float, hook: RetryHook | None
) -> Awaitable[None] | None:
    """Log and report the retry numbered ``call.retries.attempt`` (1-based)."""
    attempt = call.retries.attempt
    logger.debug("retrying in %.2fs (attempt %d) after %s", delay, attempt, call.redact(str(error)))
    return hook(error, delay, attempt) if hook is not None else None


class ChatSender(Clients):
    """HTTP clients for one model instance (:class:`~_wire.clients.Clients`) and the retry loops
    around them."""

    def __init__(
        self,
        *,
        timeout: float | None,
        max_retries: int,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        limits: Limits | None = None,
    ) -> None:
        super().__init__(
            timeout=timeout,
            http_client=http_client,
            http_async_client=http_async_client,
        )
        self.max_retries = max_retries
        self.limits = limits or Limits(timeout=timeout)

    # ---- one call: its policy, the requests of its attempts, its bodies

    def _call(
        self, request: PreparedRequest, client: httpx.Client | httpx.AsyncClient
    ) -> CallState:
        return CallState(
            request.headers,
            request.scale_up,
            self.max_retries,
            self.limits,
            at_socket=client in self._at_socket,
        )

    def _outgoing(
        self, client: httpx.Client | httpx.AsyncClient, request: PreparedRequest, straight: bool
    ) -> Any:
        if straight:
            url = self.url(request.url)
            return _direct.build(
                client, url, request.headers, request.body, self._timeout_extension
            )
        return client.build_request(
            "POST",
            request.url,
            content=request.body,
            headers=request.headers,
            timeout=self._request_timeout,
        )

    def _send(
        self, client: httpx.Client, request: PreparedRequest, call: CallState
    ) -> httpx.Response:
        """Send ``request``, following redirects here: each redirect body is read only in
        part, and a redirect loop is an error that has the status and request id."""
        straight = client in self._direct
        outgoing = self._outgoing(client, request, straight)
        for _ in range(MAX_REDIRECTS + 1):
            if straight:
                response = _direct.send(client, outgoing)
            else:
                response = client.send(outgoing, stream=True, follow_redirects=False)
            if response.next_request is None:
                return response
            with contextlib.closing(response):
                body = read(response, call.error_body(), call)
            outgoing = response.next_request
        raise call.redirect_loop(response, body)

    async def _asend(
        self, client: httpx.AsyncClient, request: PreparedRequest, call: CallState
    ) -> httpx.Response:
        """Async twin of :meth:`_send`."""
        straight = client in self._direct
        outgoing = self._outgoing(client, request, straight)
        for _ in range(MAX_REDIRECTS + 1):
            with timer(call):
                if straight:
                    response = await _direct.asend(client, outgoing)
                else:
                    response = await client.send(outgoing, stream=True, follow_redirects=False)
            if response.next_request is None:
                return response
            try:
                body = await aread(response, call.error_body(), call)
            finally:
                await response.aclose()
            outgoing = response.next_request
        raise call.redirect_loop(response, body)

    def _opened(self, response: httpx.Response, call: CallState) -> None:
        """Raise for an error answer: an HTTP error status, or JSON where SSE was asked for."""
        if response.status_code >= 400:
            body = read(response, call.error_body(), call)
            _close_after_server_error(response)
            raise call.error_answer(response, body)
        if _is_json(response):
            answer_body(response, read(response, call.answer(response), call), call.redact)

    async def _aopened(self, response: httpx.Response, call: CallState) -> None:
        """Async twin of :meth:`_opened`."""
        if response.status_code >= 400:
            body = await aread(response, call.error_body(), call)
            await _aclose_after_server_error(response)
            raise call.error_answer(response, body)
        if _is_json(response):
            content = await aread(response, call.answer(response), call)
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
                        content = read(response, call.answer(response), call)
                return Answer(answer_body(response, content, call.redact), response.headers)
            except FAILURES as exc:
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
                    content = await aread(response, call.answer(response), call)
                finally:
                    await response.aclose()
                return Answer(answer_body(response, content, call.redact), response.headers)
            except FAILURES as exc:
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
        """Yield :class:`StreamOpened` with the response headers, then a
        :class:`~langchain_hf_vlm._wire.stream_items.StreamEvent` per data event, then
        :class:`~langchain_hf_vlm._wire.stream_items.StreamDone` if the server sent ``[DONE]``.

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
                    reader = StreamReader(call)
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
            except FAILURES as exc:
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
                    reader = StreamReader(call)
                    chunks = response.aiter_bytes()
                    while not reader.ended:
                        with timer(call):
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
            except FAILURES as exc:
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


def _is_json(response: httpx.Response) -> bool:
    content_type = str(response.headers.get("content-type", ""))
    return content_type.split(";")[0].strip().lower() == "application/json"
