"""Time limits of one request, as one clock that every network wait consults.

A per-read timeout alone cannot bound a server that sends one byte every half second, or
keep-alive comments forever: every read succeeds. So each call has a :class:`Deadline`:

- ``request_timeout``: the whole call, all attempts and the waits between them, ends by then;
- the stall timer: a stream must deliver a data event (not a ``: ping`` comment, not a byte of
  an event) at least every ``timeout`` seconds.

The transport enters :class:`bounded` around every network call. The clients the package makes
(sync and async) read through a network backend that shortens each socket wait to what is
left (:mod:`_wire.sockets`): that bounds even response headers sent one byte at a time, for
about a microsecond a read. With a client the user handed in, the deadline is checked between
reads (sync), or a cancel scope ends each await (async; about 60 µs each, so only for those
clients).
"""

from __future__ import annotations

import contextvars
import time
from typing import Literal

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.sockets import SocketRules, wrap_sockets

Expiry = Literal["request", "stall"]
_EXPIRED = 1e-6
"""A socket wait of a microsecond: the HTTP library then raises its own read timeout."""
_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "langchain_hf_vlm_deadline", default=None
)


class Deadline:
    """When the current attempt must give up: the request's end, or a stall.

    Args:
        request_timeout: Seconds from now for the whole call; None: no limit.
        stall: Seconds allowed between data events (streams); None: no stall timer.
    """

    __slots__ = ("_last_event", "ends_at", "stall")

    def __init__(self, request_timeout: float | None, stall: float | None = None) -> None:
        now = time.monotonic()
        self.ends_at = None if request_timeout is None else now + request_timeout
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


_AT_THE_SOCKET = SocketRules(timeout=_clamp)
"""Every socket wait of a client the package made ends by the current deadline."""


def obey_deadlines(client: httpx.Client | httpx.AsyncClient) -> bool:
    """Make every socket wait of a client the package made (sync or async) end by the current
    deadline; False if the HTTP library's private parts changed (the deadline is then checked
    between reads, or by a cancel scope around each await)."""
    return wrap_sockets(client, _AT_THE_SOCKET, mounts=True)
