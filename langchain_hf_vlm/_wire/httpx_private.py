"""Every reach into the private parts of httpx and httpcore (httpx2 and httpcore2 under
huggingface_hub 2.x), checked before use, with a way back when they change.

Two savings of the package's own clients need them:

- :mod:`_wire.direct` sends a request straight to the transport ``Client.send`` would pick
  (``Client._transport_for_url``) and builds a redirect as the client does
  (``Client._build_redirect_request``): about 250 µs of CPU per request.
- :mod:`_wire.sockets` wraps the network backend of the client's connection pools
  (``Client._transport``, ``Client._mounts``, ``HTTPTransport._pool``,
  ``ConnectionPool._network_backend``): every socket wait obeys the call's deadline, and
  downloads connect to public addresses only.

Neither is public, so an HTTP library release may change them without notice, and the range
of httpx declared in ``pyproject.toml`` is the one tested. The parameters are checked with
:mod:`inspect` the first time a class is met (that a method exists is not enough: one that takes
other arguments would fail at the first request). When they changed, one debug log line says
what, and the package does without: requests go through ``client.send``; the deadline is
checked between reads (and bounds each await); downloads check each host by name.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from langchain_hf_vlm._http import httpx

logger = logging.getLogger("langchain_hf_vlm")

Methods = tuple[tuple[str, tuple[str, ...]], ...]
"""Method names, each with the names of its parameters (``self`` first)."""

CLIENT_METHODS: Methods = (
    ("_transport_for_url", ("self", "url")),
    ("_build_redirect_request", ("self", "request", "response")),
)
"""What :mod:`_wire.direct` calls on ``httpx.Client`` and ``httpx.AsyncClient``."""

POOL_METHODS: Methods = (("__init__", ("self", "network_backend")),)
"""A connection pool keeps the ``network_backend`` it is made with as ``_network_backend``
(checked as "at least these": ``__init__`` takes many more)."""

BACKEND_METHODS: Methods = (
    ("connect_tcp", ("self", "host", "port", "timeout", "local_address", "socket_options")),
    ("connect_unix_socket", ("self", "path", "timeout", "socket_options")),
    ("sleep", ("self", "seconds")),
)
"""What httpcore calls on a network backend (and what :mod:`_wire.sockets` passes on)."""


def _parameters(function: Any) -> tuple[str, ...] | None:
    try:
        return tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # missing (None), or no signature to read
        return None


def changed(cls: type, expected: Methods, *, exact: bool = True) -> str | None:
    """What differs between ``cls``'s methods and ``expected``; None if nothing does.

    Args:
        cls: The class whose methods are called.
        expected: The parameters the package calls them with.
        exact: Whether the parameters must be exactly these (False: at least these).
    """
    for name, wanted in expected:
        found = _parameters(getattr(cls, name, None))
        if found is None:
            return f"{cls.__module__}.{cls.__qualname__}.{name} is gone"
        if found != wanted if exact else not set(wanted) <= set(found):
            return (
                f"{cls.__module__}.{cls.__qualname__}.{name} takes ({', '.join(found)}), "
                f"not ({', '.join(wanted)})"
            )
    return None


def _usable(cls: type, expected: Methods, exact: bool, without: str) -> bool:
    """Whether ``cls`` has the methods expected; when not, one debug line says what changed
    and what the package does ``without`` them."""
    change = changed(cls, expected, exact=exact)
    if change is not None:
        logger.debug("httpx internals changed (%s): %s", change, without)
    return change is None


_direct_classes: dict[type, bool] = {}
"""Client classes checked for :func:`sends_directly` (asked once a request: a dict lookup)."""
_pool_classes: dict[tuple[type, type], bool] = {}
"""Pool and backend classes checked for :func:`wrap_network_backends`."""


def sends_directly(client: httpx.Client | httpx.AsyncClient) -> bool:
    """Whether requests of ``client`` can go straight to its transport (:mod:`_wire.direct`)."""
    usable = _direct_classes.get(type(client))
    if usable is None:
        without = "requests go through client.send"
        usable = _direct_classes[type(client)] = _usable(
            type(client), CLIENT_METHODS, True, without
        )
    return usable


def transport_for_url(client: httpx.Client, url: httpx.URL) -> httpx.BaseTransport:
    """The transport ``client.send`` would use for ``url`` (a proxy mounted for it included)."""
    transport: httpx.BaseTransport = client._transport_for_url(url)
    return transport


def async_transport_for_url(client: httpx.AsyncClient, url: httpx.URL) -> httpx.AsyncBaseTransport:
    """Async twin of :func:`transport_for_url`."""
    transport: httpx.AsyncBaseTransport = client._transport_for_url(url)
    return transport


def redirect_request(
    client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response
) -> httpx.Request:
    """The request ``client`` would send to follow ``response``'s redirect."""
    return client._build_redirect_request(request, response)


def wrap_network_backends(
    client: httpx.Client | httpx.AsyncClient, wrap: Callable[[Any], Any], *, mounts: bool
) -> bool:
    """Replace the network backend of ``client``'s connection pools with ``wrap(backend)``.

    Args:
        client: A client the package made.
        wrap: Makes the wrapper of one backend.
        mounts: Whether the transports mounted for proxies get it too.

    Returns:
        False, changing nothing, if any pool is not as checked (then the debug line says so).
    """
    transports: list[Any] = [getattr(client, "_transport", None)]
    if mounts:
        transports += [t for t in getattr(client, "_mounts", {}).values() if t is not None]
    pools: list[Any] = [getattr(transport, "_pool", None) for transport in transports]
    backends: list[Any] = [getattr(pool, "_network_backend", None) for pool in pools]
    without = "no socket-level deadline or address check (checked between reads, or by name)"
    if None in pools or None in backends:
        logger.debug("httpx internals changed (no connection pool found): %s", without)
        return False
    for pool, backend in zip(pools, backends, strict=True):
        classes = (type(pool), type(backend))
        usable = _pool_classes.get(classes)
        if usable is None:
            usable = _pool_classes[classes] = _usable(
                classes[0], POOL_METHODS, False, without
            ) and _usable(classes[1], BACKEND_METHODS, True, without)
        if not usable:
            return False
    for pool, backend in zip(pools, backends, strict=True):
        pool._network_backend = wrap(backend)
    return True
