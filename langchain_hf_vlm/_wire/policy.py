"""What one call may take, and what its failures become. Pure: the transport's sync and async
loops do the I/O and ask this module everything else.

Per call: a :class:`~_wire.deadline.Deadline` (``request_timeout`` for the whole call, retries and
their waits included; a stall timer of ``timeout`` between a stream's data events), the read
limits (``max_response_bytes`` for an answer or a whole stream, after decompression;
``max_stream_event_bytes`` for one event; the first 64 KB of an error body, which holds its
message), the retry policy, and a :class:`~_wire.redaction.Redactor` for the request's secrets,
applied to every error and retry log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from langchain_core.exceptions import ModelError

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.deadline import Deadline, bounded
from langchain_hf_vlm._wire.failures import ERROR_BODY_BYTES, error_for_response, transport_error
from langchain_hf_vlm._wire.redaction import Redactor
from langchain_hf_vlm._wire.retry import Retries, ScaleUpPolicy
from langchain_hf_vlm._wire.sse import (
    DEFAULT_MAX_EVENT_BYTES,
    EventTooLargeError,
    MalformedEventError,
)
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APITimeoutError,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
    MalformedResponseError,
    ResponseTooLargeError,
)

DEFAULT_REQUEST_TIMEOUT = 600.0
"""Ten minutes: a long answer about several large images on a busy server, with retries."""
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""A long answer with logprobs stays far below; a runaway or hostile server stops here."""
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 0.25
"""After ``[DONE]``, what is still read so that the connection can be reused."""
MAX_REDIRECTS = 20


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The model's limits on one call."""

    timeout: float | None
    """Seconds for each network wait; in a stream, between data events."""
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES


class Body:
    """The bytes of one body, up to a limit: past it, :class:`ResponseTooLargeError`, or (for
    an error body, whose start is enough) the end of reading."""

    __slots__ = ("_chunks", "_limit", "_setting", "size")

    def __init__(self, limit: int | None, setting: str | None) -> None:
        self._limit = limit
        self._setting = setting
        self._chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once the body is long enough (stop reading)."""
        self.size += len(chunk)
        if self._limit is not None and self.size > self._limit:
            if self._setting is not None:
                raise too_large(self._limit, self._setting)
            chunk = chunk[: len(chunk) - (self.size - self._limit)]
            self._chunks.append(chunk)
            return False
        self._chunks.append(chunk)
        return True

    def count(self, size: int) -> None:
        """Count ``size`` more bytes that are not kept here (a stream's events are kept by
        the caller)."""
        self.size += size
        if self._limit is not None and self.size > self._limit and self._setting is not None:
            raise too_large(self._limit, self._setting)

    def data(self) -> bytes:
        return b"".join(self._chunks)


def too_large(limit: int, setting: str, what: str = "the server's answer") -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{what} is larger than {limit} bytes ({setting}); reading stopped there. "
        f"Raise {setting} if answers this large are expected",
        limit=limit,
        setting=setting,
    )


class _Expired(Exception):
    """The deadline passed between two reads (clients without the socket-level deadline)."""


class CallState:
    """The state of one call across its attempts."""

    def __init__(
        self,
        headers: Mapping[str, str],
        scale_up: ScaleUpPolicy,
        max_retries: int,
        limits: Limits,
        *,
        at_socket: bool = False,
    ) -> None:
        self.limits = limits
        self.at_socket = at_socket
        """The client's sockets obey the deadline (clients the package made)."""
        self.deadline = Deadline(limits.request_timeout)
        self.scope = bounded(self.deadline)
        """``with call.scope:`` around each network call (one object: it runs around every
        read of a stream; never nested)."""
        self.retries = Retries(max_retries, scale_up)
        self.redact = Redactor.from_headers(headers)

    def attempt(self, *, stream: bool) -> None:
        """A new attempt begins: a stream's stall timer starts now."""
        if stream:
            self.deadline.streaming(self.limits.timeout)

    def check(self) -> None:
        """Between two reads: raise if the deadline passed (clients whose sockets do not
        obey it)."""
        if not self.at_socket and self.deadline.expired() is not None:
            raise _Expired

    def answer(self, response: httpx.Response) -> Body:
        """The body of a successful answer (refused at once if it says it is too large)."""
        limit = self.limits.max_response_bytes
        length = response.headers.get("content-length", "")
        identity = response.headers.get("content-encoding", "identity") == "identity"
        if limit is not None and identity and length.isdigit() and int(length) > limit:
            raise too_large(limit, "max_response_bytes")
        return Body(limit, "max_response_bytes")

    @staticmethod
    def error_body() -> Body:
        return Body(ERROR_BODY_BYTES, None)

    def error_answer(self, response: httpx.Response, body: bytes) -> HuggingFaceVLMHTTPError:
        return error_for_response(response, body, self.redact)

    def redirect_loop(self, response: httpx.Response, body: bytes) -> HuggingFaceVLMHTTPError:
        error = self.error_answer(response, body)
        error.args = (f"the server redirected more than {MAX_REDIRECTS} times: {error.args[0]}",)
        return error

    def error(self, exc: BaseException, delivered: bool) -> ModelError:
        """``exc`` (raised by an attempt) as the package's error, without the secrets."""
        if isinstance(exc, ModelError):
            return self._redacted(exc)
        if isinstance(exc, EventTooLargeError):
            return too_large(exc.limit, "max_stream_event_bytes", "one event of the stream")
        if isinstance(exc, MalformedEventError):
            return IncompleteStreamError(self.redact(str(exc)))
        if isinstance(exc, (httpx.TimeoutException, TimeoutError, _Expired)):
            kind = self.deadline.expired()
            if kind is not None or not isinstance(exc, httpx.TimeoutException):
                return self._timed_out(kind or self.deadline.nearest(), delivered)
        if isinstance(exc, httpx.DecodingError):
            return MalformedResponseError(f"the answer could not be decoded: {exc}")
        if isinstance(exc, httpx.HTTPError) and not isinstance(exc, httpx.TransportError):
            return APIConnectionError(self.redact(f"the request failed: {exc}"))
        assert isinstance(exc, Exception)
        phase: Literal["first_byte", "between_chunks"] = (
            "between_chunks" if delivered else "first_byte"
        )
        return self._redacted(transport_error(exc, phase))

    def next_wait(self, error: ModelError, cause: BaseException) -> float:
        """Seconds to wait before the next attempt; raises ``error`` if there is none, or if
        the wait would end past ``request_timeout``."""
        delay = self.retries.next_wait(error, cause)
        if not self.deadline.allows_wait(delay):
            raise error from cause
        return delay

    def _timed_out(self, kind: Literal["request", "stall"], delivered: bool) -> APITimeoutError:
        if kind == "request":
            return APITimeoutError(
                f"timed out: the call took longer than request_timeout="
                f"{self.limits.request_timeout:g}s",
                phase="request",
            )
        if delivered:
            return APITimeoutError(
                f"timed out waiting for the next chunk of the stream: no data for "
                f"{self.limits.timeout:g}s (keep-alive comments do not count)",
                phase="between_chunks",
            )
        return APITimeoutError(
            f"timed out waiting for the first chunk of the stream: no data for "
            f"{self.limits.timeout:g}s (keep-alive comments do not count)",
            phase="first_byte",
        )

    def _redacted(self, error: ModelError) -> ModelError:
        if self.redact:
            error.args = tuple(self.redact(a) if isinstance(a, str) else a for a in error.args)
            message = getattr(error, "server_message", None)
            if isinstance(message, str):
                error.server_message = self.redact(message)  # type: ignore[attr-defined]
        return error
