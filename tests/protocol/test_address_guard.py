"""Download clients guarded against private addresses, over real sockets on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.addresses import (
    AddressRefused,
    checked_address,
    refuse_private_addresses,
)
from tests.servers.hostile_server import HostileServer


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "::1"])
def test_a_host_that_is_or_resolves_to_a_private_address_is_refused(host: str) -> None:
    with pytest.raises(AddressRefused, match="image_fetch_allow_private=True"):
        checked_address(host, 80)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_guarded_client_does_not_connect(server: HostileServer, host: str) -> None:
    url = server.url.replace("127.0.0.1", host) + "/no-choices/image.png"
    with httpx.Client() as client:
        assert refuse_private_addresses(client)
        with pytest.raises(AddressRefused):
            client.get(url)
    assert server.requests == 0


async def test_a_guarded_async_client_does_not_connect(server: HostileServer) -> None:
    async with httpx.AsyncClient() as client:
        assert refuse_private_addresses(client)
        with pytest.raises(AddressRefused):
            await client.get(server.url + "/no-choices/image.png")
    assert server.requests == 0


def test_an_unguarded_client_connects(server: HostileServer) -> None:
    with httpx.Client() as client:
        assert client.get(server.url + "/no-choices/image.png").status_code == 200
