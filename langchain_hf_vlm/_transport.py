"""The only module that does network I/O: clients, retries, timeouts, error mapping.

Sync and async share the retry policy (``_retry``), error classification and SSE decoding
(``_sse``); only the I/O calls differ. Streams are read to the end (past ``[DONE]``) so that
their connection goes back to the pool, and closed at once when the caller stops early.

Clients: the package makes its own (one sync client, one async client per event loop) unless
the user hands in ``http_client`` / ``http_async_client``. Either way the model's timeout is
passed with every request, and the retries and connection hygiene below apply. The package
closes only the clients it made; a user's clients stay the user's to close.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.exceptions import ModelError

from langchain_hf_vlm._backends import FINGERPRINTS, Endpoint, ScaleUpPolicy
from langchain_hf_vlm._error_mapping import (
    answer_body,
    error_for_response,
    stream_event_error,
    transport_error,
)
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._retry import Retries
from langchain_hf_vlm._sse import DONE, MalformedEventError, SSEDecoder
from langchain_hf_vlm.errors import (
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
)

logger = logging.getLogger("langchain_hf_vlm")

_PROBE_TIMEOUT = 5.0

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


StreamItem = StreamOpened | StreamEvent


def _error_answer(response: httpx.Response, content: bytes) -> HuggingFaceVLMHTTPError:
    """The error for an HTTP error answer; a server error's connection is not reused.

    uvicorn-based servers (``transformers serve`` among them) answer an unhandled exception with
    a plain-text 500 and then drop the kept-alive connection without a ``Connection: close``: a
    request sent on it next is reset. Closing the connection that carried a 5xx costs one
    reconnect and keeps the next request, retried or not, off a dead socket.
    """
    if response.status_code >= 500:
        close = getattr(response.extensions.get("network_stream"), "close", None)
        if callable(close):
            close()
    return error_for_response(response, content)


async def _aerror_answer(response: httpx.Response, content: bytes) -> HuggingFaceVLMHTTPError:
    """Async twin of :func:`_error_answer`."""
    if response.status_code >= 500:
        aclose = getattr(response.extensions.get("network_stream"), "aclose", None)
        if callable(aclose):
            await aclose()
    return error_for_response(response, content)


def _log_retry(
    error: ModelError, delay: float, attempt: int, hook: RetryHook | None
) -> Awaitable[None] | None:
    """Log and report the retry numbered ``attempt`` (1-based)."""
    logger.debug("retrying in %.2fs (attempt %d) after %s", delay, attempt, error)
    return hook(error, delay, attempt) if hook is not None else None


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
    ) -> None:
        self.timeout = timeout
        self.max_retries = max_retries
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
                self._client = httpx.Client(
                    timeout=self._request_timeout, limits=self._limits, follow_redirects=True
                )
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
                client = httpx.AsyncClient(
                    timeout=self._request_timeout, limits=self._limits, follow_redirects=True
                )
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
        try:
            response = self.client().get(url, headers=headers, timeout=_PROBE_TIMEOUT)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def _aprobe(self, url: str, headers: Mapping[str, str]) -> Any:
        try:
            response = await self.async_client().get(url, headers=headers, timeout=_PROBE_TIMEOUT)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    # ---- non-streaming

    def _retries(self, request: PreparedRequest) -> Retries:
        """A fresh retry policy for ``request``."""
        return Retries(self.max_retries, request.scale_up)

    def post(self, request: PreparedRequest, on_retry: RetryHook | None = None) -> Answer:
        retries = self._retries(request)
        while True:
            try:
                response = self.client().post(
                    request.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=self._request_timeout,
                )
                if response.status_code >= 400:
                    raise _error_answer(response, response.content)
                return Answer(answer_body(response, response.content), response.headers)
            except (httpx.HTTPError, HuggingFaceVLMHTTPError) as exc:
                error = self._error(exc, "first_byte")
                delay = retries.next_wait(error, exc)
                _log_retry(error, delay, retries.attempt, on_retry)
                time.sleep(delay)

    async def apost(self, request: PreparedRequest, on_retry: RetryHook | None = None) -> Answer:
        retries = self._retries(request)
        while True:
            try:
                response = await self.async_client().post(
                    request.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=self._request_timeout,
                )
                if response.status_code >= 400:
                    raise await _aerror_answer(response, response.content)
                return Answer(answer_body(response, response.content), response.headers)
            except (httpx.HTTPError, HuggingFaceVLMHTTPError) as exc:
                error = self._error(exc, "first_byte")
                delay = retries.next_wait(error, exc)
                notified = _log_retry(error, delay, retries.attempt, on_retry)
                if notified is not None:
                    await notified
                await asyncio.sleep(delay)

    @staticmethod
    def _error(exc: Exception, phase_read: Literal["first_byte", "between_chunks"]) -> ModelError:
        if isinstance(exc, ModelError):
            return exc
        return transport_error(exc, phase_read)

    # ---- streaming

    def stream(
        self, request: PreparedRequest, on_retry: RetryHook | None = None
    ) -> Generator[StreamItem, None, None]:
        """Yield :class:`StreamOpened` with the response headers, then a :class:`StreamEvent`
        per data event.

        Retries happen only before the first event reaches the caller (each attempt yields its
        own :class:`StreamOpened`).
        """
        retries = self._retries(request)
        while True:
            delivered = False
            try:
                with self.client().stream(
                    "POST",
                    request.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=self._request_timeout,
                ) as response:
                    if response.status_code >= 400:
                        raise _error_answer(response, response.read())
                    if _is_json(response):  # an error answered as JSON with status 200
                        answer_body(response, response.read())
                    decoder = SSEDecoder()
                    yield StreamOpened(response.headers)
                    for line in response.iter_lines():
                        payload = decoder.line(line)
                        if payload is None or payload is DONE:
                            continue
                        delivered = True
                        yield _checked_event(payload)
                    payload = decoder.close()
                    if payload is not None and payload is not DONE:
                        delivered = True
                        yield _checked_event(payload)
                    return
            except (httpx.HTTPError, HuggingFaceVLMHTTPError, MalformedEventError) as exc:
                error = self._stream_error(exc, delivered)
                if delivered:
                    raise error from exc
                delay = retries.next_wait(error, exc)
                _log_retry(error, delay, retries.attempt, on_retry)
                time.sleep(delay)

    async def astream(
        self, request: PreparedRequest, on_retry: RetryHook | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        """Async twin of :meth:`stream`."""
        retries = self._retries(request)
        while True:
            delivered = False
            try:
                async with self.async_client().stream(
                    "POST",
                    request.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=self._request_timeout,
                ) as response:
                    if response.status_code >= 400:
                        raise await _aerror_answer(response, await response.aread())
                    if _is_json(response):  # an error answered as JSON with status 200
                        answer_body(response, await response.aread())
                    decoder = SSEDecoder()
                    yield StreamOpened(response.headers)
                    async for line in response.aiter_lines():
                        payload = decoder.line(line)
                        if payload is None or payload is DONE:
                            continue
                        delivered = True
                        yield _checked_event(payload)
                    payload = decoder.close()
                    if payload is not None and payload is not DONE:
                        delivered = True
                        yield _checked_event(payload)
                    return
            except (httpx.HTTPError, HuggingFaceVLMHTTPError, MalformedEventError) as exc:
                error = self._stream_error(exc, delivered)
                if delivered:
                    raise error from exc
                delay = retries.next_wait(error, exc)
                notified = _log_retry(error, delay, retries.attempt, on_retry)
                if notified is not None:
                    await notified
                await asyncio.sleep(delay)

    def _stream_error(self, exc: Exception, delivered: bool) -> ModelError:
        if isinstance(exc, MalformedEventError):
            return IncompleteStreamError(str(exc))
        return self._error(exc, "between_chunks" if delivered else "first_byte")


def _is_json(response: httpx.Response) -> bool:
    content_type = str(response.headers.get("content-type", ""))
    return content_type.split(";")[0].strip().lower() == "application/json"


def _checked_event(payload: Any) -> StreamEvent:
    if not isinstance(payload, dict):
        raise MalformedEventError(f"stream event is not a JSON object: {str(payload)[:200]!r}")
    if "error" in payload and not payload.get("choices"):
        raise stream_event_error(payload)
    return StreamEvent(payload)
