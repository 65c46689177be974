"""The one network-backend wrapper (``_wire.sockets``), each of its rules over real sockets on
127.0.0.1, sync and async."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from typing import Any

import pytest

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.addresses import AddressRefused, refuse_private_addresses
from langchain_hf_vlm._wire.httpx_private import wrap_network_backends
from langchain_hf_vlm._wire.sockets import AsyncRuledBackend, SocketRules, wrap_sockets
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


async def _until(condition: Any, seconds: float = 5.0) -> None:
    """Wait (event loop running) until ``condition()`` holds: the kernel's news is not instant."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition() and loop.time() < end:
        await asyncio.sleep(0.01)


def test_an_async_stream_answers_readability_as_httpcore_does() -> None:
    """The wrapped async stream answers the pool's ``is_readable`` from the socket it kept
    (anyio's stream rebuilds its whole attribute table per question); the answer is the
    wrapped stream's own in every state an idle connection can be in, and every other
    question is passed on."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    async def run() -> list[tuple[str, bool, bool]]:
        async with httpx.AsyncClient() as client:
            made: list[Any] = []

            def wrap(backend: Any) -> Any:
                made.append(AsyncRuledBackend(backend, SocketRules(timeout=lambda t: t)))
                return made[-1]

            assert wrap_network_backends(client, wrap, mounts=False)
            stream = await made[0].connect_tcp("127.0.0.1", port, timeout=5)
            peer, _ = listener.accept()
            inner = stream._stream
            assert stream.get_extra_info is not inner.get_extra_info  # answered by the wrapper
            for info in ("server_addr", "client_addr", "socket", "ssl_object"):
                assert stream.get_extra_info(info) == inner.get_extra_info(info)

            seen: list[tuple[str, bool, bool]] = []

            def note(state: str) -> None:
                ours = stream.get_extra_info("is_readable")
                seen.append((state, ours, inner.get_extra_info("is_readable")))

            note("idle")
            peer.sendall(b"x")
            await _until(lambda: stream.get_extra_info("is_readable"))
            note("bytes waiting")
            assert await stream.read(1) == b"x"
            note("read")
            peer.close()
            await _until(lambda: stream.get_extra_info("is_readable"))
            note("closed by the server")
            await stream.aclose()
            await _until(lambda: stream.get_extra_info("socket").fileno() < 0)
            note("closed here")
            return seen

    try:
        seen = asyncio.run(run())
    finally:
        listener.close()
    assert seen == [
        ("idle", False, False),
        ("bytes waiting", True, True),
        ("read", False, False),
        ("closed by the server", True, True),
        ("closed here", True, True),
    ]


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """A server that closes an idle keep-alive connection (uvicorn after 5 s): the package's
    async pool sees it closed and sends the next request on a new connection, with no retry
    to hide a request lost on the dead one."""
    answer = json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "tiny/vlm",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
        }
    ).encode()
    listener = socket.create_server(("127.0.0.1", 0))
    closed: list[threading.Event] = []

    def serve() -> None:  # one request per connection, answered with keep-alive, then closed
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with sock:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += sock.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                while len(body) < length:
                    body += sock.recv(65536)
                sock.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                time.sleep(0.1)  # idle on the client's side by now
            closed.append(threading.Event())
            closed[-1].set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    model = ChatHuggingFaceVLM(model="tiny/vlm", base_url=url, backend="openai", max_retries=0)

    async def run() -> list[str]:
        answers: list[str] = []
        for _ in range(3):
            answers.append((await model.ainvoke("hi")).text)
            await _until(lambda: len(closed) == len(answers))
            await asyncio.sleep(0.05)  # the server's FIN reaches the client's socket
        await model.aclose()
        return answers

    try:
        assert asyncio.run(run()) == ["ok", "ok", "ok"]
    finally:
        listener.close()
    assert len(closed) == 3
