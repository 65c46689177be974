"""The HTTP clients of one model: made on first use, closed with the model.

The package makes its own (one sync client, one async client per event loop) unless the user
hands in ``http_client`` / ``http_async_client``. Either way the model's timeout is passed with
every request (:mod:`_wire.sender`), and the retries and connection hygiene apply. The package
closes only the clients it made; a user's clients stay the user's to close.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.deadline import obey_deadlines

_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
"""Connections of one client: as many kept alive as may be open (httpx keeps 20 by default,
so a batch sending more requests at once would reconnect for each one past those)."""


class Clients:
    """One sync client and one async client per event loop (or the user's own clients)."""

    def __init__(
        self,
        *,
        timeout: float | None,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._at_socket: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()
        """The clients made here, whose sockets obey the deadline."""
        self._direct: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()
        """The clients made here, whose requests :mod:`_wire.direct` builds and sends."""
        self._request_timeout = httpx.Timeout(timeout)
        self._timeout_extension = self._request_timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}
        self._lock = threading.Lock()
        self._user_client = http_client
        self._user_async_client = http_async_client
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def client(self) -> httpx.Client:
        if self._user_client is not None:
            return self._user_client
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._request_timeout, limits=_LIMITS)
                self._own(self._client)
                # A model dropped without close() does not leave its sockets to the collector
                # (which warns "unclosed socket"); async clients need aclose() in their loop.
                weakref.finalize(self, self._client.close)
            return self._client

    def async_client(self) -> httpx.AsyncClient:
        if self._user_async_client is not None:
            return self._user_async_client
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = httpx.AsyncClient(timeout=self._request_timeout, limits=_LIMITS)
                self._own(client)
                self._async_clients[loop] = client
            return client

    def _own(self, client: httpx.Client | httpx.AsyncClient) -> None:
        """A client made here: its sockets obey the deadline and its requests go straight to
        its transport, where the HTTP library allows (:mod:`_wire.httpx_private`)."""
        if obey_deadlines(client):
            self._at_socket.add(client)
        self._direct.add(client)

    def url(self, url: str) -> httpx.URL:
        """``url`` parsed once (a model sends to one URL, and probes to a few more)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= 16:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def close(self) -> None:
        """Close the sync client the package made (a user's client is left open)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the clients the package made: the sync one, and the async one of this loop
        (an async client belongs to the event loop it was made in)."""
        self.close()
        with self._lock:
            client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
