"""Requests of the package's own clients, sent straight to the client's transport.

httpx's ``Client.send`` runs each request through URL and header merging, the auth flow, the
redirect flow, event hooks and the cookie jar (a ``urllib`` round trip per response). Measured
at concurrency 32 on a 2-core machine, that is about 250 µs of CPU per request, more than all
the rest the package does (``benchmarks/per_request.py``). For the clients the package makes,
none of it changes anything: URLs are absolute, there is no auth or hook, and redirects are
followed by :mod:`_wire.sender`. So their requests go to the transport that ``send`` would have
chosen (a proxy mounted from the environment included), and this module does, in a few
microseconds, what the client would have done that matters:

- the client's default headers (``Accept``, ``Accept-Encoding``, ``User-Agent``...) under the
  request's own;
- the cookie jar: cookies are sent and kept as the client keeps them (checked before parsing:
  most answers set none);
- the redirect that a 3xx answer asks for is built by httpx itself (which drops credentials on
  a cross-origin redirect), as ``response.next_request``;
- httpx's ``HTTP Request: ...`` log line, when its logger is enabled;
- a network error names its request.

Left out: ``response.elapsed`` (the client sets it through one more generator layer per chunk
read; nothing here reads it, and errors carry a detached copy of the response) and the request
and response event hooks, which only a user's client can have.

A client the user hands in goes through its own ``send`` (their auth, hooks and mounts); so does
every client when the HTTP library's private parts this needs have changed
(:mod:`_wire.httpx_private` checks them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire import httpx_private

_HTTPX_LOGGER = logging.getLogger(httpx.__name__)


def build(
    client: httpx.Client | httpx.AsyncClient,
    url: httpx.URL,
    headers: Mapping[str, str],
    body: bytes,
    timeout: Mapping[str, float | None],
) -> httpx.Request:
    """A POST of ``body`` to ``url`` as ``client.build_request`` would make it (``url`` is
    absolute)."""
    merged = client.headers.copy()
    merged.update(headers)
    request = httpx.Request(
        "POST", url, content=body, headers=merged, extensions={"timeout": timeout}
    )
    if client.cookies:
        client.cookies.set_cookie_header(request)
    return request


def send(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send ``request`` on ``client``'s transport (through ``client.send`` if the private parts
    this needs changed); the response is streamed (not read)."""
    if not httpx_private.sends_directly(client):
        return client.send(request, stream=True, follow_redirects=False)
    try:
        transport = httpx_private.transport_for_url(client, request.url)
        response = transport.handle_request(request)
    except httpx.RequestError as exc:
        exc.request = request
        raise
    return _received(client, request, response)


async def asend(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Async twin of :func:`send`."""
    if not httpx_private.sends_directly(client):
        return await client.send(request, stream=True, follow_redirects=False)
    try:
        transport = httpx_private.async_transport_for_url(client, request.url)
        response = await transport.handle_async_request(request)
    except httpx.RequestError as exc:
        exc.request = request
        raise
    return _received(client, request, response)


def _received(
    client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response
) -> httpx.Response:
    response.request = request
    if "set-cookie" in response.headers:
        client.cookies.extract_cookies(response)
    if response.has_redirect_location:
        response.next_request = httpx_private.redirect_request(client, request, response)
    if _HTTPX_LOGGER.isEnabledFor(logging.INFO):
        _HTTPX_LOGGER.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    return response
