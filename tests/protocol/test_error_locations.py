"""Errors that say where: the method, the URL (host, port, path; never the token or a query
value) and how many attempts were made, on real sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._wire import retry as retry_module
from langchain_hf_vlm.errors import APIConnectionError, HuggingFaceVLMError, NotFoundError
from tests.servers.chat_server import ChatServer
from tests.support.closing import closed_after_the_test
from tests.support.loopback import make_model, run_in_new_loop

TOKEN = "hf_LocationSecret0123456789"


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in milliseconds: the test counts attempts, not waits."""
    monkeypatch.setattr(retry_module, "_BASE_DELAY", 0.002)


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: every connection is refused, and no other
    process can take the port while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _closed_port_model(port: int, **fields: Any) -> ChatHuggingFaceVLM:
    return closed_after_the_test(
        ChatHuggingFaceVLM(
            model="tiny/vlm",
            base_url=f"http://127.0.0.1:{port}/v1?api_key=query-secret-value",
            api_key=SecretStr(TOKEN),
            backend="vllm",
            **fields,
        )
    )


@pytest.mark.parametrize("call", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.usefixtures("fast_backoff")
def test_a_closed_port_names_the_url_and_the_attempts(refusing_port: int, call: str) -> None:
    model = _closed_port_model(refusing_port, max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        if call == "invoke":
            model.invoke("hi")
        elif call == "stream":
            list(model.stream("hi"))
        elif call == "ainvoke":
            run_in_new_loop(model, lambda: model.ainvoke("hi"))
        else:
            run_in_new_loop(model, lambda: _collect(model))
    message = str(info.value)
    assert f"POST http://127.0.0.1:{refusing_port}/v1/chat/completions" in message
    assert "after 3 attempts" in message
    assert "query-secret-value" not in message and TOKEN not in message
    assert "/v1/chat/completions?api_key=[REDACTED], after" in message


async def _collect(model: ChatHuggingFaceVLM) -> list[Any]:
    return [chunk async for chunk in model.astream("hi")]


def test_one_attempt_says_so(refusing_port: int) -> None:
    model = _closed_port_model(refusing_port, max_retries=0)
    with pytest.raises(HuggingFaceVLMError, match=r"after 1 attempt\)$"):
        model.invoke("hi")


@pytest.mark.parametrize("streaming", [False, True])
def test_a_wrong_path_names_the_method_the_port_and_the_path(
    vllm: ChatServer, streaming: bool
) -> None:
    model = make_model(vllm, base_url=vllm.url + "/wrong", api_key=TOKEN, streaming=streaming)
    with pytest.raises(NotFoundError) as info:
        model.invoke("hi")
    message = str(info.value)
    assert message.startswith("HTTP 404 Not Found")
    assert message.endswith(
        f"(POST http://127.0.0.1:{vllm.port}/wrong/v1/chat/completions, after 1 attempt)"
    )
    assert TOKEN not in message
    assert [r.path for r in vllm.requests] == ["/wrong/v1/chat/completions"]
