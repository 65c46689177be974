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


def _timeout(rules: SocketRules, timeout: float | None) -> float | None:
    return timeout if rules.timeout is None else rules.timeout(timeout)


class RuledBackend:
    """A network backend whose connections follow :class:`SocketRules`."""

    __slots__ = ("_backend", "_rules")

    def __init__(self, backend: Any, rules: SocketRules) -> None:
        self._backend = backend
        self._rules = rules

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        rules = self._rules
        address = host if rules.address is None else rules.address(host, port)
        stream = self._backend.connect_tcp(
            address,
            port,
            _timeout(rules, timeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        if rules.peer is not None:
            try:
                rules.peer(host, stream.get_extra_info("server_addr"))
            except BaseException:
                stream.close()
                raise
        return stream if rules.timeout is None else _RuledStream(stream, rules.timeout)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> Any:
        rules = self._rules
        if rules.unix_socket is not None:
            rules.unix_socket(path)
        stream = self._backend.connect_unix_socket(
            path, _timeout(rules, timeout), socket_options=socket_options
        )
        return stream if rules.timeout is None else _RuledStream(stream, rules.timeout)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class AsyncRuledBackend:
    """Async twin of :class:`RuledBackend`."""

    __slots__ = ("_backend", "_rules")

    def __init__(self, backend: Any, rules: SocketRules) -> None:
        self._backend = backend
        self._rules = rules

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        rules = self._rules
        address = host
        if rules.address is not None:
            address = await anyio.to_thread.run_sync(rules.address, host, port)
        stream = await self._backend.connect_tcp(
            address,
            port,
            _timeout(rules, timeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        if rules.peer is not None:
            try:
                rules.peer(host, stream.get_extra_info("server_addr"))
            except BaseException:
                await stream.aclose()
                raise
        return stream if rules.timeout is None else _AsyncRuledStream(stream, rules.timeout)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> Any:
        rules = self._rules
        if rules.unix_socket is not None:
            rules.unix_socket(path)
        stream = await self._backend.connect_unix_socket(
            path, _timeout(rules, timeout), socket_options=socket_options
        )
        return stream if rules.timeout is None else _AsyncRuledStream(stream, rules.timeout)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _RuledStream:
    """A network stream whose every wait takes its timeout from the rules."""

    __slots__ = ("_stream", "_timeout", "get_extra_info")

    def __init__(self, stream: Any, timeout: Callable[[float | None], float | None]) -> None:
        self._stream = stream
        self._timeout = timeout
        self.get_extra_info: Callable[[str], Any] = stream.get_extra_info
        """The stream's own (no frame of ours: the pool asks every idle connection whether
        it is readable, for every request)."""

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


class _AsyncRuledStream:
    """Async twin of :class:`_RuledStream`."""

    __slots__ = ("_stream", "_timeout", "get_extra_info")

    def __init__(self, stream: Any, timeout: Callable[[float | None], float | None]) -> None:
        self._stream = stream
        self._timeout = timeout
        self.get_extra_info: Callable[[str], Any] = stream.get_extra_info
        """The stream's own (as :class:`_RuledStream`'s)."""

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
