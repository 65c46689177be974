"""Time limits of one request, as one clock that every network wait consults.

A per-read timeout alone cannot bound a server that sends one byte every half second, or
keep-alive comments forever: every read succeeds. So each call has a :class:`Deadline`:

- ``total_timeout``: the whole call, all attempts and the waits between them, ends by then;
- the stall timer: a stream must deliver a data event (not a ``: ping`` comment, not a byte of
  an event) at least every ``timeout`` seconds.

The transport enters :class:`bounded` around every network call. The clients the package makes
(sync and async) read through a deadline backend, which shortens each socket wait to what is
left: that bounds even response headers sent one byte at a time, for about a microsecond a
read. With a client the user handed in, the deadline is checked between reads (sync), or a
cancel scope ends each await (async; about 60 µs each, so only for those clients).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from langchain_hf_vlm._wire.sockets import wrap_network_backend

Expiry = Literal["request", "stall"]
_EXPIRED = 1e-6
"""A socket wait of a microsecond: the HTTP library then raises its own read timeout."""
_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "langchain_hf_vlm_deadline", default=None
)


class Deadline:
    """When the current attempt must give up: the request's end, or a stall.

    Args:
        total: Seconds from now for the whole call; None: no limit.
        stall: Seconds allowed between data events (streams); None: no stall timer.
    """

    __slots__ = ("_last_event", "ends_at", "stall")

    def __init__(self, total: float | None, stall: float | None = None) -> None:
        now = time.monotonic()
        self.ends_at = None if total is None else now + total
        self.stall = stall
        self._last_event = now

    def event(self) -> None:
        """A data event arrived: the stall timer starts again."""
        self._last_event = time.monotonic()

    def streaming(self, stall: float | None) -> None:
        """From now on, count stalls of ``stall`` seconds (a new attempt of a stream)."""
        self.stall = stall
        self._last_event = time.monotonic()

    def remaining(self) -> float | None:
        """Seconds left before the next limit (negative once passed); None: no limit."""
        limits = []
        now = time.monotonic()
        if self.ends_at is not None:
            limits.append(self.ends_at - now)
        if self.stall is not None:
            limits.append(self._last_event + self.stall - now)
        return min(limits) if limits else None

    def expired(self) -> Expiry | None:
        """Which limit has passed, if any (the request's end first)."""
        now = time.monotonic()
        if self.ends_at is not None and now >= self.ends_at:
            return "request"
        if self.stall is not None and now >= self._last_event + self.stall:
            return "stall"
        return None

    def nearest(self) -> Expiry:
        """The limit that comes first."""
        if self.stall is None:
            return "request"
        if self.ends_at is None:
            return "stall"
        return "request" if self.ends_at <= self._last_event + self.stall else "stall"

    def allows_wait(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` (before a retry) ends before the request's end."""
        return self.ends_at is None or time.monotonic() + seconds < self.ends_at

    def clamp(self, timeout: float | None) -> float | None:
        """``timeout`` for one socket wait, shortened to what is left."""
        remaining = self.remaining()
        if remaining is None:
            return timeout
        remaining = max(remaining, _EXPIRED)
        return remaining if timeout is None else min(timeout, remaining)


class bounded:
    """Make ``deadline`` the one the package's clients obey during the block (set around each
    blocking call, not across a ``yield``: a generator runs in its consumer's context).

    A class, not a generator-based context manager: it runs around every read of a stream.
    """

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: Deadline | None) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._token = _CURRENT.set(self._deadline)

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._token)


def _clamp(timeout: float | None) -> float | None:
    deadline = _CURRENT.get()
    return timeout if deadline is None else deadline.clamp(timeout)


class _DeadlineStream:
    """A network stream whose every wait ends by the current deadline."""

    __slots__ = ("_stream", "get_extra_info")

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.get_extra_info: Callable[[str], Any] = stream.get_extra_info
        """The stream's own (no frame of ours: the pool asks every idle connection whether
        it is readable, for every request)."""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._stream.read(max_bytes, _clamp(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout))
        )


class _AsyncDeadlineStream:
    """Async twin of :class:`_DeadlineStream`."""

    __slots__ = ("_stream", "get_extra_info")

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.get_extra_info: Callable[[str], Any] = stream.get_extra_info
        """The stream's own (no frame of ours: the pool asks every idle connection whether
        it is readable, for every request)."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, _clamp(timeout))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _clamp(timeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _AsyncDeadlineStream:
        stream = await self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout))
        return _AsyncDeadlineStream(stream)


class DeadlineBackend:
    """Wraps an httpcore (or httpcore2) network backend: connections it opens obey the
    current :class:`Deadline`."""

    __slots__ = ("_backend",)

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _DeadlineStream:
        stream = self._backend.connect_tcp(
            host, port, _clamp(timeout), local_address=local_address, socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _DeadlineStream:
        stream = self._backend.connect_unix_socket(
            path, _clamp(timeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class AsyncDeadlineBackend:
    """Async twin of :class:`DeadlineBackend`."""

    __slots__ = ("_backend",)

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _AsyncDeadlineStream:
        stream = await self._backend.connect_tcp(
            host, port, _clamp(timeout), local_address=local_address, socket_options=socket_options
        )
        return _AsyncDeadlineStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _AsyncDeadlineStream:
        stream = await self._backend.connect_unix_socket(
            path, _clamp(timeout), socket_options=socket_options
        )
        return _AsyncDeadlineStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def obey_deadlines(client: Any) -> bool:
    """Make the connections of a client the package made (sync or async) read through a
    deadline backend; False if the HTTP library offers no seam for it (the deadline is then
    checked between reads, or by a cancel scope around each await)."""
    if hasattr(client, "aclose"):
        return wrap_network_backend(client, AsyncDeadlineBackend)
    return wrap_network_backend(client, DeadlineBackend)
