"""The only module that does network I/O: clients, retries, timeouts, error mapping.

Sync and async share the retry policy, error classification and SSE decoding; only the I/O
calls differ. Streams are read to the end (past ``[DONE]``) so that their connection goes
back to the pool, and closed at once when the caller stops early.

A server that is starting up (a scaled-to-zero Inference Endpoint, or any server whose 503
says the model is loading) is retried past ``max_retries`` for as long as the model's timeout
allows, counted from the first attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeGuard

from langchain_core.exceptions import ModelError

from langchain_hf_vlm._backends import scale_up_wait
from langchain_hf_vlm._error_mapping import error_for_response, message_from_payload
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._json import JSONTooDeepError, loads
from langchain_hf_vlm._sse import DONE, MalformedEventError, SSEDecoder
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
)

logger = logging.getLogger("langchain_hf_vlm")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
_BASE_DELAY = 0.5
_MAX_DELAY = 8.0
_PROBE_TIMEOUT = 5.0
_STARTING_UP = re.compile(
    r"currently loading|is loading|initiali[sz]ing|scaled ?to ?zero|scaling up", re.IGNORECASE
)
"""Words of a 503 answer from a server that is still starting: the serverless Inference API's
``Model ... is currently loading``, and the states of an Inference Endpoint waking up."""

RetryHook = Callable[[ModelError, float, int], Awaitable[None] | None]
"""Called before each retry with the error, the wait in seconds and the attempt number."""


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready to send: JSON body already serialized."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    stream: bool
    scales_to_zero: bool = False
    """The server may be a scaled-to-zero Inference Endpoint: any 503 means "starting up"."""


@dataclass
class Answer:
    """A parsed JSON answer and the response headers it came with."""

    body: dict[str, Any]
    headers: Mapping[str, str]


class Retries:
    """The retry policy of one request, shared by the sync and async loops (which only sleep).

    Retryable errors are retried ``max_retries`` times. A server that is starting up is retried
    further, until the next attempt would begin later than ``wake_budget`` seconds after the
    first one.
    """

    def __init__(self, max_retries: int, wake_budget: float, scales_to_zero: bool) -> None:
        self.max_retries = max_retries
        self.wake_budget = wake_budget
        self.scales_to_zero = scales_to_zero
        self.attempt = 0
        self.started = time.monotonic()

    def next_wait(self, error: ModelError, cause: BaseException) -> float:
        """Seconds to wait before the next attempt after ``error`` (raised as ``cause``).

        Raises:
            ModelError: ``error`` when there is no next attempt, or, when a starting server
                outlasted the wait budget, an error that says so.
        """
        if not _is_retryable(error):
            _reraise(error, cause)
        delay = _backoff(error, self.attempt)
        if self.attempt >= self.max_retries:  # only a starting server is waited for further
            if not is_starting_up(error, self.scales_to_zero):
                _reraise(error, cause)
            waited = time.monotonic() - self.started
            if waited + delay > self.wake_budget:
                raise _still_starting(error, waited, self.wake_budget) from cause
        self.attempt += 1
        return delay


def _backoff(error: ModelError, attempt: int) -> float:
    """The server's ``Retry-After`` (capped), or exponential backoff with jitter."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return float(min(retry_after, MAX_RETRY_AFTER))
    backoff = min(_MAX_DELAY, _BASE_DELAY * 2**attempt)
    return float(backoff * (0.5 + random.random() / 2))


def _is_retryable(error: ModelError) -> bool:
    if isinstance(error, HuggingFaceVLMHTTPError):
        return error.status_code in RETRY_STATUSES
    return isinstance(error, (APIConnectionError, APITimeoutError))


def is_starting_up(error: ModelError, scales_to_zero: bool) -> TypeGuard[HuggingFaceVLMHTTPError]:
    """Whether ``error`` is a 503 from a server that is still starting: any 503 of an endpoint
    that may be scaled to zero, or a 503 whose body says the model is loading (the serverless
    Inference API's ``{"error": "Model ... is currently loading", "estimated_time": 20.0}``)."""
    if not isinstance(error, HuggingFaceVLMHTTPError) or error.status_code != 503:
        return False
    if scales_to_zero or _STARTING_UP.search(error.server_message or ""):
        return True
    try:
        body = json.loads(error.response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and "estimated_time" in body


def _still_starting(error: HuggingFaceVLMHTTPError, waited: float, budget: float) -> APIError:
    return APIError(
        f"the server was still starting up after {waited:.1f}s of retries, and waiting longer "
        f"would exceed the model's timeout of {budget:g}s (raise timeout to wait longer for a "
        f"scaled-to-zero endpoint): {error}",
        response=error.response,
        server_message=error.server_message,
        error_type=error.error_type,
    )


def _reraise(error: ModelError, cause: BaseException) -> NoReturn:
    if error is cause:
        raise error
    raise error from cause


def _transport_error(
    exc: Exception, phase_read: Literal["first_byte", "between_chunks"]
) -> ModelError:
    """An httpx exception as the package's error; other exceptions pass through unchanged."""
    if isinstance(exc, httpx.TimeoutException):
        phase: Literal["connect", "first_byte", "between_chunks", "write"]
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            phase = "connect"
        elif isinstance(exc, httpx.WriteTimeout):
            phase = "write"
        else:
            phase = phase_read
        words = {
            "connect": "connecting to the server",
            "write": "sending the request",
            "first_byte": "waiting for the first byte of the answer",
            "between_chunks": "waiting for the next chunk of the stream",
        }[phase]
        error: ModelError = APITimeoutError(f"timed out {words}", phase=phase)
    elif isinstance(exc, httpx.TransportError):
        error = APIConnectionError(f"connection failed: {type(exc).__name__}: {exc}")
    else:
        raise exc
    error.__cause__ = exc
    return error


def _stream_event_error(payload: Mapping[str, Any]) -> IncompleteStreamError:
    message, _ = message_from_payload(payload)
    error = payload.get("error")
    status = None
    if isinstance(error, Mapping):
        for key in ("http_status_code", "status_code", "code"):
            if isinstance(error.get(key), int):
                status = int(error[key])
                break
    return IncompleteStreamError(
        f"the server reported an error in the stream: {message or payload}",
        status_code=status,
        server_message=message,
    )


def _answer_body(response: httpx.Response, content: bytes) -> dict[str, Any]:
    try:
        body = loads(content)
    except JSONTooDeepError as exc:
        raise APIError(f"the server's answer is {exc}", response=response) from None
    except ValueError:
        raise APIError(
            f"the server answered with non-JSON content: {content[:200]!r}", response=response
        ) from None
    if isinstance(body, dict) and "error" in body and "choices" not in body:
        message, error_type = message_from_payload(body)
        raise APIError(
            f"the server answered HTTP {response.status_code} with an error: {message}",
            response=response,
            server_message=message,
            error_type=error_type,
        )
    if not isinstance(body, dict):
        raise APIError(f"unexpected answer: {content[:200]!r}", response=response)
    return body


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
    """HTTP clients for one model instance: one sync client, one async client per event loop."""

    def __init__(self, *, timeout: float | None, max_retries: int, max_connections: int = 100):
        self.timeout = timeout
        self.max_retries = max_retries
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout)

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self._timeout(), limits=self._limits, follow_redirects=True
                )
            return self._client

    def async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = httpx.AsyncClient(
                    timeout=self._timeout(), limits=self._limits, follow_redirects=True
                )
                self._async_clients[loop] = client
            return client

    def close(self) -> None:
        """Close the sync client; async clients close with their event loop."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ---- server identification (one GET, failures mean "unknown")

    def probe(self, url: str, headers: Mapping[str, str]) -> Any:
        try:
            response = self.client().get(url, headers=headers, timeout=_PROBE_TIMEOUT)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def aprobe(self, url: str, headers: Mapping[str, str]) -> Any:
        try:
            response = await self.async_client().get(url, headers=headers, timeout=_PROBE_TIMEOUT)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    # ---- non-streaming

    def _retries(self, request: PreparedRequest) -> Retries:
        """A fresh retry policy for ``request``."""
        return Retries(self.max_retries, scale_up_wait(self.timeout), request.scales_to_zero)

    def post(self, request: PreparedRequest, on_retry: RetryHook | None = None) -> Answer:
        retries = self._retries(request)
        while True:
            try:
                response = self.client().post(
                    request.url, content=request.body, headers=request.headers
                )
                if response.status_code >= 400:
                    raise _error_answer(response, response.content)
                return Answer(_answer_body(response, response.content), response.headers)
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
                    request.url, content=request.body, headers=request.headers
                )
                if response.status_code >= 400:
                    raise await _aerror_answer(response, response.content)
                return Answer(_answer_body(response, response.content), response.headers)
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
        return _transport_error(exc, phase_read)

    # ---- streaming

    def stream(
        self, request: PreparedRequest, on_retry: RetryHook | None = None
    ) -> Generator[Any, None, None]:
        """Yield the response headers first, then each parsed SSE payload.

        Retries happen only before the first payload reaches the caller.
        """
        retries = self._retries(request)
        while True:
            delivered = False
            try:
                with self.client().stream(
                    "POST", request.url, content=request.body, headers=request.headers
                ) as response:
                    if response.status_code >= 400:
                        raise _error_answer(response, response.read())
                    if _is_json(response):  # an error answered as JSON with status 200
                        _answer_body(response, response.read())
                    decoder = SSEDecoder()
                    yield response.headers
                    for line in response.iter_lines():
                        payload = decoder.line(line)
                        if payload is None or payload is DONE:
                            continue
                        delivered = True
                        yield _checked_event(payload)
                    for payload in decoder.close():
                        if payload is not DONE:
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
    ) -> AsyncGenerator[Any, None]:
        """Async twin of :meth:`stream`."""
        retries = self._retries(request)
        while True:
            delivered = False
            try:
                async with self.async_client().stream(
                    "POST", request.url, content=request.body, headers=request.headers
                ) as response:
                    if response.status_code >= 400:
                        raise await _aerror_answer(response, await response.aread())
                    if _is_json(response):  # an error answered as JSON with status 200
                        _answer_body(response, await response.aread())
                    decoder = SSEDecoder()
                    yield response.headers
                    async for line in response.aiter_lines():
                        payload = decoder.line(line)
                        if payload is None or payload is DONE:
                            continue
                        delivered = True
                        yield _checked_event(payload)
                    for payload in decoder.close():
                        if payload is not DONE:
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


def _checked_event(payload: Any) -> Any:
    if isinstance(payload, Mapping) and "error" in payload and not payload.get("choices"):
        raise _stream_event_error(payload)
    return payload
