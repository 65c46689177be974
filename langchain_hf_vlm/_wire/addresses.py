"""Which addresses client-side image downloads may connect to (server-side request forgery).

With ``fetch_image_urls=True`` the package downloads URLs that may come from end users. By
default it refuses loopback, private, link-local (cloud metadata at 169.254.169.254),
multicast, reserved and unspecified addresses. The check is made on the address actually
connected to: the download client's backend resolves the host itself, refuses the name if
any of its addresses is not public, and connects to the address it checked (so a DNS answer
that changes between a check and the connection cannot slip through), for the first URL and
for every redirect. ``image_fetch_allow_private=True`` turns the check off.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.sockets import SocketRules, wrap_sockets

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(httpx.ConnectError):
    """A download would connect to an address that is not public."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        where = host if host == address else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {where}: a {kind} address (set "
            "image_fetch_allow_private=True to download images, documents and videos from such "
            "hosts)"
        )
        self.host = host
        self.address = address


def address_kind(address: IPAddress) -> str | None:
    """Why ``address`` is not public (e.g. "loopback"), or None for a public address."""
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):  # an IPv4 address inside says more
        inside = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
        candidates = [*inside, address]
    for candidate in candidates:
        for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
            if getattr(candidate, f"is_{kind}"):
                return kind.replace("_", "-")
        if not candidate.is_global:
            return "non-global"
    return None


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_address(host: str, port: int) -> str:
    """A public address of ``host`` to connect to.

    Raises:
        AddressRefused: ``host`` is, or resolves to, an address that is not public.
        OSError: the name does not resolve.
    """
    addresses = _resolve(host, port)
    for address in addresses:
        kind = address_kind(ipaddress.ip_address(address.split("%", 1)[0]))
        if kind is not None:
            raise AddressRefused(host, address, kind)
    return addresses[0]


def _connect_address(host: str, port: int) -> str:
    try:
        return checked_address(host, port)
    except OSError:  # no such name: the inner backend raises the library's own error
        return host


def _check_peer(host: str, peer: Any) -> None:
    """Belt and braces: refuse the address the socket really reached, if not public."""
    kind = _peer_kind(peer)
    if kind is not None:
        raise AddressRefused(host, str(peer[0]), kind)


def _refuse_unix_socket(path: str) -> None:
    raise AddressRefused(path, path, "local socket")


_PUBLIC_ONLY = SocketRules(
    address=_connect_address, peer=_check_peer, unix_socket=_refuse_unix_socket
)
"""Connect only to checked public addresses."""


def _peer_kind(peer: Any) -> str | None:
    """Why the address a socket reached is not public; None if public or unknown."""
    if not peer:
        return None
    return address_kind(ipaddress.ip_address(str(peer[0]).split("%", 1)[0]))


def refuse_private_addresses(client: httpx.Client | httpx.AsyncClient) -> bool:
    """Make ``client`` (a download client the package made) connect to public addresses only.

    Returns False if the HTTP library's private parts changed; the caller checks each
    request's host by name anyway (:func:`check_request_host`).
    """
    return wrap_sockets(client, _PUBLIC_ONLY, mounts=False)


def check_request_host(request: httpx.Request) -> None:
    """Refuse a request (first or redirected) whose host is not public by name: the check for
    clients without the seam, and for hosts reached through a proxy."""
    try:
        checked_address(request.url.host, request.url.port or 443)
    except OSError:
        return  # the name does not resolve here: the connection fails on its own
