"""One wrapper for the network backend under the package's own clients, set by rules.

httpx opens every connection through a network backend (httpcore's, or httpcore2's under
httpx2). Wrapping it lets the package decide what happens at the socket, for its own clients
only (a client the user hands in is left as it is). What the wrapper does is said by
:class:`SocketRules`: the call's deadline on every socket wait (:mod:`_wire.deadline`), and
public addresses only for downloads (:mod:`_wire.addresses`). Where the pools keep their
backend is private to httpx and httpcore: :mod:`_wire.httpx_private` reaches it, or reports
that it cannot.
"""

from __future__ import annotations

import select
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.httpx_private import wrap_network_backends


@dataclass(frozen=True, slots=True)
class SocketRules:
    """What a wrapped backend does at the socket; each rule left None changes nothing."""

    timeout: Callable[[float | None], float | None] | None = None
    """The timeout of every socket wait (connect, read, write, TLS), from the one asked for."""
    address: Callable[[str, int], str] | None = None
    """The address to connect to for a host and port, or an exception to refuse it (blocking:
    the async backend runs it in a worker thread)."""
    peer: Callable[[str, Any], None] | None = None
    """Given the host and the address a new connection reached (``server_addr``), raises to
    refuse it (the connection is closed first)."""
    unix_socket: Callable[[str], None] | None = None
    """Given a Unix socket's path before connecting to it, raises to refuse it."""


def wrap_sockets(
    client: httpx.Client | httpx.AsyncClient, rules: SocketRules, *, mounts: bool
) -> bool:
    """Make the connections of ``client`` (a client the package made) follow ``rules``.

    Args:
        client: The client.
        rules: What happens at its sockets.
        mounts: Whether the transports mounted for proxies follow them too.

    Returns:
        False, changing nothing, if the HTTP library's private parts changed.
    """
    wrapper = AsyncRuledBackend if isinstance(client, httpx.AsyncClient) else RuledBackend
    return wrap_network_backends(client, lambda backend: wrapper(backend, rules), mounts=mounts)


class _Ruled:
    """What the sync and async backends share: all but the I/O calls."""

    __slots__ = ("_backend", "_rules")

    def __init__(self, backend: Any, rules: SocketRules) -> None:
        self._backend = backend
        self._rules = rules

    def _timeout(self, timeout: float | None) -> float | None:
        rules = self._rules
        return timeout if rules.timeout is None else rules.timeout(timeout)

    def _refusal(self, host: str, stream: Any) -> BaseException | None:
        """Why the connection ``stream`` made to ``host`` is refused; None if it is not."""
        if self._rules.peer is None:
            return None
        try:
            self._rules.peer(host, stream.get_extra_info("server_addr"))
        except Exception as exc:  # the rule's refusal, raised once the stream is closed
            return exc
        return None

    def _unix_socket(self, path: str) -> None:
        if self._rules.unix_socket is not None:
            self._rules.unix_socket(path)


class RuledBackend(_Ruled):
    """A network backend whose connections follow :class:`SocketRules`."""

    __slots__ = ()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        resolve = self._rules.address
        address = host if resolve is None else resolve(host, port)
        stream = self._backend.connect_tcp(
            address, port, self._timeout(timeout), local_address, socket_options
        )
        refusal = self._refusal(host, stream)
        if refusal is not None:
            stream.close()
            raise refusal
        return self._stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> Any:
        self._unix_socket(path)
        stream = self._backend.connect_unix_socket(path, self._timeout(timeout), socket_options)
        return self._stream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)

    def _stream(self, stream: Any) -> Any:
        timeout = self._rules.timeout
        return stream if timeout is None else _RuledStream(stream, timeout)


class AsyncRuledBackend(_Ruled):
    """Async twin of :class:`RuledBackend` (the address rule runs in a worker thread)."""

    __slots__ = ()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        resolve = self._rules.address
        address = host if resolve is None else await anyio.to_thread.run_sync(resolve, host, port)
        stream = await self._backend.connect_tcp(
            address, port, self._timeout(timeout), local_address, socket_options
        )
        refusal = self._refusal(host, stream)
        if refusal is not None:
            await stream.aclose()
            raise refusal
        return self._stream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> Any:
        self._unix_socket(path)
        stream = await self._backend.connect_unix_socket(
            path, self._timeout(timeout), socket_options
        )
        return self._stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)

    def _stream(self, stream: Any) -> Any:
        timeout = self._rules.timeout
        return stream if timeout is None else _AsyncRuledStream(stream, timeout)


class _TimedStream:
    """What the sync and async streams share: the stream, its timeout rule, its own
    ``get_extra_info``."""

    __slots__ = ("_stream", "_timeout", "get_extra_info")

    def __init__(self, stream: Any, timeout: Callable[[float | None], float | None]) -> None:
        self._stream = stream
        self._timeout = timeout
        self.get_extra_info: Callable[[str], Any] = stream.get_extra_info
        """The stream's own (no frame of ours: the pool asks every idle connection whether
        it is readable, for every request)."""


class _RuledStream(_TimedStream):
    """A network stream whose every wait takes its timeout from the rules."""

    __slots__ = ()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._stream.read(max_bytes, self._timeout(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _RuledStream:
        stream = self._stream.start_tls(ssl_context, server_hostname, self._timeout(timeout))
        return _RuledStream(stream, self._timeout)


class _AsyncRuledStream(_TimedStream):
    """Async twin of :class:`_RuledStream`, which also answers the pool's readability question
    from the socket it keeps (see :func:`readable`)."""

    __slots__ = ("_socket",)

    def __init__(self, stream: Any, timeout: Callable[[float | None], float | None]) -> None:
        super().__init__(stream, timeout)
        self._socket = stream.get_extra_info("socket")
        if callable(getattr(self._socket, "fileno", None)):
            self.get_extra_info = self._extra_info

    def _extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return readable(self._socket)
        return self._stream.get_extra_info(info)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, self._timeout(timeout))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, self._timeout(timeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _AsyncRuledStream:
        stream = await self._stream.start_tls(ssl_context, server_hostname, self._timeout(timeout))
        return _AsyncRuledStream(stream, self._timeout)


def readable(sock: Any) -> bool:
    """Whether the server has sent something (or closed) on an idle connection: httpcore's own
    test (``is_socket_readable``: a socket without a descriptor counts as readable), on a
    socket kept from the connection's start.

    httpcore's pool asks it of every idle connection on every async request (24 times a request
    at concurrency 32), and anyio's stream finds the socket by building its whole table of
    attributes each time: about a tenth of the client's CPU at that concurrency.
    """
    descriptor = sock.fileno()
    if descriptor < 0:
        return True
    if _poll is None:  # Windows, or eventlet without poll
        ready, _, _ = select.select([descriptor], [], [], 0)
        return bool(ready)
    poller = _poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))


_poll = None if sys.platform == "win32" else getattr(select, "poll", None)
