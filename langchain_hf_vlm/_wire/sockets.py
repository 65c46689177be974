"""The seam under the HTTP clients the package makes: their network backend.

httpx has no public way to hand a network backend to its default transport; httpcore (and
httpcore2, under httpx2) keep it as ``_network_backend`` on the connection pool. Wrapping it
there lets the package decide what happens at the socket (deadlines, which addresses may be
connected to) for its own clients only; a client the user hands in is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def wrap_network_backend(client: Any, wrap: Callable[[Any], Any], *, mounts: bool = True) -> bool:
    """Replace the network backend of ``client``'s connection pools with ``wrap(backend)``.

    ``mounts=False`` leaves the transports mounted for proxies alone. Returns False (and
    changes nothing) if this version of the HTTP library has no such seam.
    """
    transports = [getattr(client, "_transport", None)]
    if mounts:
        transports += list(getattr(client, "_mounts", {}).values())
    pools: list[Any] = [getattr(transport, "_pool", None) for transport in transports if transport]
    if not pools or not all(hasattr(pool, "_network_backend") for pool in pools):
        return False
    for pool in pools:
        pool._network_backend = wrap(pool._network_backend)
    return True
