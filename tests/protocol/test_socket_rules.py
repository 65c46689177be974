"""The one network-backend wrapper (``_wire.sockets``), each of its rules over real sockets on
127.0.0.1, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.addresses import AddressRefused, refuse_private_addresses
from langchain_hf_vlm._wire.sockets import SocketRules, wrap_sockets
from tests.servers.chat_server import ChatServer


class _Refused(Exception):
    pass


def _refuse_every_peer(host: str, peer: Any) -> None:
    raise _Refused(f"{host} reached {peer[0]}")


def test_a_refused_peer_is_closed_and_the_refusal_raised(vllm: ChatServer) -> None:
    with httpx.Client() as client:
        assert wrap_sockets(client, SocketRules(peer=_refuse_every_peer), mounts=False)
        with pytest.raises(_Refused, match=r"127\.0\.0\.1 reached 127\.0\.0\.1"):
            client.get(f"{vllm.url}/v1/models")
    assert vllm.requests == []


def test_a_refused_peer_is_closed_and_the_refusal_raised_async(vllm: ChatServer) -> None:
    async def run() -> None:
        async with httpx.AsyncClient() as client:
            assert wrap_sockets(client, SocketRules(peer=_refuse_every_peer), mounts=False)
            with pytest.raises(_Refused):
                await client.get(f"{vllm.url}/v1/models")

    asyncio.run(run())
    assert vllm.requests == []


def test_every_socket_wait_takes_its_timeout_from_the_rule(vllm: ChatServer) -> None:
    """Connect, write and read waits all pass through the rule (sync and async)."""
    asked: list[float | None] = []

    def shorter(timeout: float | None) -> float | None:
        asked.append(timeout)
        return 5.0

    rules = SocketRules(timeout=shorter)
    with httpx.Client(timeout=7) as client:
        assert wrap_sockets(client, rules, mounts=True)
        assert client.get(f"{vllm.url}/v1/models").status_code == 200
    sync_waits = len(asked)

    async def run() -> int:
        async with httpx.AsyncClient(timeout=7) as client:
            assert wrap_sockets(client, rules, mounts=True)
            return (await client.get(f"{vllm.url}/v1/models")).status_code

    assert asyncio.run(run()) == 200
    assert sync_waits >= 3  # connect, write, read
    assert len(asked) >= 2 * 3
    assert set(asked) == {7.0}


def test_an_address_rule_chooses_what_is_connected_to(vllm: ChatServer) -> None:
    """The host is resolved by the rule (here a name that does not exist to 127.0.0.1)."""
    host = "vlm.invalid"
    rules = SocketRules(address=lambda name, port: "127.0.0.1" if name == host else name)
    url = vllm.url.replace("127.0.0.1", host) + "/v1/models"
    with httpx.Client() as client:
        assert wrap_sockets(client, rules, mounts=False)
        assert client.get(url).status_code == 200

    async def run() -> int:
        async with httpx.AsyncClient() as client:
            assert wrap_sockets(client, rules, mounts=False)
            return (await client.get(url)).status_code

    assert asyncio.run(run()) == 200


@pytest.mark.parametrize("use_async", [False, True])
def test_a_unix_socket_is_refused_before_connecting(tmp_path: Any, use_async: bool) -> None:
    path = str(tmp_path / "no-such.sock")  # never connected to: refused first
    if not use_async:
        with httpx.Client(transport=httpx.HTTPTransport(uds=path)) as client:
            assert refuse_private_addresses(client)
            with pytest.raises(AddressRefused, match="local socket"):
                client.get("http://localhost/image.png")
        return

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=path)) as client:
            assert refuse_private_addresses(client)
            with pytest.raises(AddressRefused, match="local socket"):
                await client.get("http://localhost/image.png")

    asyncio.run(run())
