"""When httpx's private parts change, the package's clients do without them and still get their
answers: the seam (``_wire.httpx_private``) broken on purpose, over real sockets on 127.0.0.1.

The changes are made as an httpx release would make them, in subclasses: a private method that
takes another parameter, a connection pool whose network backend does. Nothing fakes a server.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from typing import Any

import pytest

from langchain_hf_vlm._http import HUB_MAJOR, httpx
from langchain_hf_vlm._wire import direct
from langchain_hf_vlm._wire.addresses import refuse_private_addresses
from langchain_hf_vlm._wire.deadline import obey_deadlines
from tests.servers.chat_server import ChatServer

httpcore: Any = importlib.import_module("httpcore2" if HUB_MAJOR >= 2 else "httpcore")

BODY = json.dumps({"model": "tiny/vlm", "messages": [{"role": "user", "content": "hi"}]}).encode()
HEADERS = {"content-type": "application/json"}
TIMEOUT = httpx.Timeout(10).as_dict()


class _ChangedClient(httpx.Client):
    """An httpx whose ``_transport_for_url`` takes one more parameter; counts ``send``."""

    sent = 0

    def _transport_for_url(self, url: httpx.URL, proxy: str | None = None) -> httpx.BaseTransport:
        return super()._transport_for_url(url)

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        self.sent += 1
        return super().send(request, **kwargs)


class _ChangedAsyncClient(httpx.AsyncClient):
    """Async twin of :class:`_ChangedClient`."""

    sent = 0

    def _transport_for_url(
        self, url: httpx.URL, proxy: str | None = None
    ) -> httpx.AsyncBaseTransport:
        return super()._transport_for_url(url)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        self.sent += 1
        return await super().send(request, **kwargs)


def _answer_text(response: httpx.Response) -> str:
    assert response.status_code == 200
    return str(json.loads(response.content)["choices"][0]["message"]["content"])


def _seam_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "langchain_hf_vlm" and "httpx internals changed" in r.getMessage()
    ]


def test_a_changed_client_method_sends_through_client_send(
    vllm: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    url = httpx.URL(f"{vllm.url}/v1/chat/completions")
    with _ChangedClient() as client:
        for _ in range(2):
            response = direct.send(client, direct.build(client, url, HEADERS, BODY, TIMEOUT))
            response.read()
            response.close()
            assert _answer_text(response) == "images=0; text=hi"
    assert client.sent == 2
    assert len(vllm.requests) == 2
    (line,) = _seam_lines(caplog)  # once per class, not per request
    assert "_ChangedClient._transport_for_url takes (self, url, proxy), not (self, url)" in line
    assert "requests go through client.send" in line


def test_a_changed_async_client_method_sends_through_client_send(
    vllm: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    url = httpx.URL(f"{vllm.url}/v1/chat/completions")

    async def run() -> tuple[str, int]:
        async with _ChangedAsyncClient() as client:
            response = await direct.asend(client, direct.build(client, url, HEADERS, BODY, TIMEOUT))
            await response.aread()
            await response.aclose()
            return _answer_text(response), client.sent

    assert asyncio.run(run()) == ("images=0; text=hi", 1)
    assert "_ChangedAsyncClient._transport_for_url takes" in _seam_lines(caplog)[0]


class _NewerBackend(httpcore.SyncBackend):  # type: ignore[misc]
    """A network backend whose ``connect_tcp`` takes one more parameter."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
        happy_eyeballs: bool = False,
    ) -> Any:
        return super().connect_tcp(host, port, timeout, local_address, socket_options)


class _NewerTransport(httpx.HTTPTransport):
    """The default transport of an httpx whose connection pool has :class:`_NewerBackend`."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(network_backend=_NewerBackend())


def _backend(client: httpx.Client) -> Any:
    transport: Any = client._transport
    return transport._pool._network_backend


@pytest.mark.parametrize("guard", [obey_deadlines, refuse_private_addresses])
def test_a_changed_network_backend_is_left_alone(vllm: ChatServer, guard: Any) -> None:
    """Neither socket guard wraps a backend it was not checked against; the client works as
    it is (the deadline is then checked between reads, hosts by name)."""
    with httpx.Client(transport=_NewerTransport()) as client:
        assert guard(client) is False
        assert type(_backend(client)) is _NewerBackend
        response = client.post(f"{vllm.url}/v1/chat/completions", content=BODY, headers=HEADERS)
        assert _answer_text(response) == "images=0; text=hi"


@pytest.mark.parametrize("guard", [obey_deadlines, refuse_private_addresses])
def test_todays_httpx_is_wrapped(guard: Any) -> None:
    """The other side of the check: the httpx tested passes it (a pool wrapped, no log line)."""
    with httpx.Client() as client:
        assert guard(client) is True
        assert type(_backend(client)).__module__.startswith("langchain_hf_vlm.")
