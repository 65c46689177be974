"""The package's own clients send straight to their transport (``_wire.direct``), skipping httpx's
per-request client layer. What reaches the server must not change: the same headers as
httpx's ``Client.send`` would send, cookies kept and sent as the client keeps them, proxies
from the environment, and the client's own path for a client the user hands in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM, MalformedResponseError
from langchain_hf_vlm._http import httpx
from tests.servers.chat_server import ChatReply, ChatServer, Reply
from tests.support.loopback import make_model, run_in_new_loop

ASK = [HumanMessage(content="hi")]
ECHO = "images=0; text=hi"


def _invoke(model: ChatHuggingFaceVLM) -> str:
    return model.invoke(ASK).text


def _ainvoke(model: ChatHuggingFaceVLM) -> str:
    return run_in_new_loop(model, lambda: model.ainvoke(ASK)).text


def _stream(model: ChatHuggingFaceVLM) -> str:
    return "".join(chunk.text for chunk in model.stream(ASK))


def _astream(model: ChatHuggingFaceVLM) -> str:
    async def collect() -> str:
        return "".join([chunk.text async for chunk in model.astream(ASK)])

    return run_in_new_loop(model, collect)


CALLS: dict[str, Callable[[ChatHuggingFaceVLM], str]] = {
    "invoke": _invoke,
    "ainvoke": _ainvoke,
    "stream": _stream,
    "astream": _astream,
}


def _chat_headers(server: ChatServer) -> list[dict[str, str]]:
    return [r.headers for r in server.requests if r.path.endswith("/chat/completions")]


def _through_users_client(server: ChatServer, call: str, **fields: Any) -> str:
    """``call`` on a model holding a plain httpx client of the user's (made, for async calls,
    in the event loop that uses it)."""
    if call in ("invoke", "stream"):
        with httpx.Client() as client:
            return CALLS[call](make_model(server, http_client=client, **fields))

    async def run() -> str:
        async with httpx.AsyncClient() as client:
            model = make_model(server, http_async_client=client, **fields)
            if call == "ainvoke":
                return (await model.ainvoke(ASK)).text
            return "".join([chunk.text async for chunk in model.astream(ASK)])

    return asyncio.run(run())


@pytest.mark.parametrize("call", list(CALLS))
def test_own_client_sends_the_headers_httpx_client_sends(vllm: ChatServer, call: str) -> None:
    """The same request through the model's own client (straight to the transport) and through
    a user's plain httpx client (``Client.send``) reaches the server with the same headers."""
    fields: dict[str, Any] = {"api_key": "sk-local", "default_headers": {"X-Trace": "t1"}}
    assert CALLS[call](make_model(vllm, **fields)) == ECHO
    assert _through_users_client(vllm, call, **fields) == ECHO
    sent_own, sent_users = _chat_headers(vllm)
    assert sent_own == sent_users
    assert "gzip" in sent_own["accept-encoding"]
    assert sent_own["user-agent"].startswith(f"python-{httpx.__name__}/")
    assert sent_own["authorization"] == "Bearer sk-local"
    assert sent_own["x-trace"] == "t1"


@pytest.mark.parametrize("call", list(CALLS))
def test_cookies_are_kept_and_sent_as_the_client_keeps_them(vllm: ChatServer, call: str) -> None:
    vllm.enqueue(ChatReply(content=ECHO, headers={"set-cookie": "route=r7; Path=/"}))
    model = make_model(vllm)
    if call in ("invoke", "stream"):
        answers = [CALLS[call](model) for _ in range(2)]
    else:  # in one event loop: an async client (and its cookie jar) belongs to its loop

        async def twice() -> list[str]:
            if call == "ainvoke":
                return [(await model.ainvoke(ASK)).text for _ in range(2)]
            return ["".join([c.text async for c in model.astream(ASK)]) for _ in range(2)]

        answers = run_in_new_loop(model, twice)
    assert answers == [ECHO, ECHO]
    first, second = _chat_headers(vllm)
    assert "cookie" not in first
    assert second["cookie"] == "route=r7"


def test_a_cookie_for_another_path_is_not_sent(vllm: ChatServer) -> None:
    vllm.enqueue(ChatReply(content=ECHO, headers={"set-cookie": "a=1; Path=/elsewhere"}))
    model = make_model(vllm)
    model.invoke(ASK)
    model.invoke(ASK)
    assert "cookie" not in _chat_headers(vllm)[1]


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
def test_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    """``HTTP_PROXY`` reaches the model's own clients: the request goes to the proxy, in the
    absolute form a forward proxy is sent (the loopback router answers any .../chat/completions
    path, so it stands in for the proxy here)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ChatServer("router") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        model = make_model(proxy, base_url="http://vlm.invalid/v1", backend="openai")
        assert CALLS[call](model) == ECHO
        assert [r.path for r in proxy.requests] == ["http://vlm.invalid/v1/chat/completions"]


def test_the_user_clients_hooks_and_auth_still_run(vllm: ChatServer) -> None:
    """A user's client is not sent around: its event hooks and auth see every request."""
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    with httpx.Client(event_hooks={"request": [hook]}, auth=("u", "p")) as client:
        model = make_model(vllm, http_client=client)
        assert model.invoke(ASK).text == ECHO
    assert seen == [f"{vllm.url}/v1/chat/completions"]
    assert _chat_headers(vllm)[0]["authorization"].startswith("Basic ")


def test_httpx_request_log_line_is_kept(vllm: ChatServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=httpx.__name__)
    make_model(vllm).invoke(ASK)
    lines = [r.getMessage() for r in caplog.records if r.name == httpx.__name__]
    assert lines == [f'HTTP Request: POST {vllm.url}/v1/chat/completions "HTTP/1.1 200 OK"']


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
def test_a_303_redirect_becomes_a_get_as_httpx_client_makes_it(vllm: ChatServer, call: str) -> None:
    """The redirect request is built by httpx in both paths (a 303 turns the POST into a GET
    without the body): the same requests reach the server, and the caller gets the same error
    (the models list is no chat answer)."""
    errors = []
    for through_users_client in (False, True):
        vllm.enqueue(Reply(None, 303, {"location": "/v1/models"}, content_type=""))
        with pytest.raises(MalformedResponseError) as caught:
            if through_users_client:
                _through_users_client(vllm, call)
            else:
                CALLS[call](make_model(vllm))
        errors.append(str(caught.value).replace(f"req-{len(vllm.requests)}", "req-N"))
    assert [(r.method, r.path, len(r.body)) for r in vllm.requests] == [
        ("POST", "/v1/chat/completions", len(vllm.requests[0].body)),
        ("GET", "/v1/models", 0),
    ] * 2
    assert errors[0] == errors[1]
