"""The HTTP seam and the model's lifecycle over real sockets: the user's own clients, close,
context managers, typed streams, and a model that travels (pickling)."""

from __future__ import annotations

import gc
import pickle
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM, MissingTokenError
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._model import invoke as _invoke
from langchain_hf_vlm._wire.stream_items import StreamDone, StreamEvent, StreamOpened
from tests.servers.chat_server import ChatServer, Fault
from tests.support.loopback import make_model

ECHO = "images=0; text=hi"


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer("vllm") as srv:
        yield srv


def _chat_requests(server: ChatServer) -> list[Any]:
    return [r for r in server.requests if r.path.endswith("/chat/completions")]


# ---------------------------------------------------------------- the user's own clients


def test_users_sync_client_carries_every_request_and_stays_open(server: ChatServer) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(r.method)]}) as client:
        with make_model(server, http_client=client) as model:
            assert model.invoke("hi").content == ECHO
            assert "".join(str(c.content) for c in model.stream("hi")) == ECHO
        assert seen == ["POST", "POST"]
        assert not client.is_closed  # the model closed only what it made
        assert client.get(f"{server.url}/info").status_code in (200, 404)


async def test_users_async_client_carries_every_request_and_stays_open(
    server: ChatServer,
) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.method)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
        async with make_model(server, http_async_client=client) as model:
            assert (await model.ainvoke("hi")).content == ECHO
            assert "".join([str(c.content) async for c in model.astream("hi")]) == ECHO
        assert seen == ["POST", "POST"]
        assert not client.is_closed


def test_retries_and_timeouts_apply_to_the_users_client(server: ChatServer) -> None:
    server.enqueue(Fault("status", status=503, repeat=1))
    seen: list[httpx.Request] = []
    with httpx.Client(timeout=0.001, event_hooks={"request": [seen.append]}) as client:
        model = make_model(server, http_client=client, max_retries=1, timeout=30)
        assert model.invoke("hi").content == ECHO  # the model's timeout, not the client's
    assert len(seen) == len(_chat_requests(server)) == 2
    assert {r.extensions["timeout"]["read"] for r in seen} == {30}


# ---------------------------------------------------------------- close and context managers


def test_a_forgotten_sync_model_leaves_no_open_socket(server: ChatServer) -> None:
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_model(server)
        model.invoke("hi")
        del model
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_with_closes_the_models_own_client(server: ChatServer) -> None:
    with make_model(server) as model:
        model.invoke("hi")
        client = model.transport.client()
    assert client.is_closed
    assert model.invoke("hi").content == ECHO  # a closed model opens a new client on use
    model.close()
    model.close()  # idempotent


async def test_async_with_closes_the_models_clients(server: ChatServer) -> None:
    async with make_model(server) as model:
        await model.ainvoke("hi")
        model.invoke("hi")
        clients = (model.transport.async_client(), model.transport.client())
    assert all(client.is_closed for client in clients)


async def test_no_unclosed_client_warnings(server: ChatServer) -> None:
    gc.collect()  # what earlier tests left behind is theirs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with make_model(server) as model:
            await model.ainvoke("hi")
            [chunk async for chunk in model.astream("hi")]
        with make_model(server) as model:
            model.invoke("hi")
        del model
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# ---------------------------------------------------------------- typed stream


def test_transport_stream_says_what_it_yields(server: ChatServer) -> None:
    model = make_model(server)
    request, _ = _invoke.prepare(model, [HumanMessage("hi")], None, {}, stream=True)
    items = list(model.transport.stream(request))
    assert isinstance(items[0], StreamOpened)
    assert items[0].headers["content-type"].startswith("text/event-stream")
    *events, done = items[1:]
    assert events and all(isinstance(item, StreamEvent) for item in events)
    assert all("choices" in item.payload for item in events if isinstance(item, StreamEvent))
    assert isinstance(done, StreamDone)  # the server ended with [DONE]


# ---------------------------------------------------------------- a model that travels


def _round_trip(model: ChatHuggingFaceVLM) -> ChatHuggingFaceVLM:
    copy = pickle.loads(pickle.dumps(model))
    assert isinstance(copy, ChatHuggingFaceVLM)
    return copy


def test_a_used_model_pickles_and_answers(server: ChatServer) -> None:
    model = make_model(server, temperature=0.5, extra_body={"top_k": 3})
    fresh = _round_trip(model)
    assert fresh.invoke("hi").content == ECHO
    model.invoke("hi")  # clients, image pipeline and endpoint are now live
    assert "".join(str(c.content) for c in model.stream("hi")) == ECHO
    copy = _round_trip(model)
    assert copy.model_dump() == model.model_dump()
    assert copy.invoke("hi").content == ECHO
    assert copy.transport is not model.transport
    assert _chat_requests(server)[-1].json["top_k"] == 3
    model.close()
    copy.close()
    fresh.close()


async def test_a_model_used_asynchronously_pickles(server: ChatServer) -> None:
    async with make_model(server) as model:
        await model.ainvoke("hi")
        copy = _round_trip(model)
    async with copy:
        assert (await copy.ainvoke("hi")).content == ECHO


def test_a_token_from_the_environment_stays_out_of_the_pickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_DriverOnlySecret123")
    model = ChatHuggingFaceVLM(model="m")
    assert model.api_key is not None
    data = pickle.dumps(model)
    assert b"hf_DriverOnlySecret123" not in data
    monkeypatch.setenv("HF_TOKEN", "hf_WorkerOwnSecret456")
    worker = pickle.loads(data)
    assert worker.api_key.get_secret_value() == "hf_WorkerOwnSecret456"
    monkeypatch.delenv("HF_TOKEN")
    assert pickle.loads(data).api_key is None


def test_an_explicit_key_travels(server: ChatServer) -> None:
    model = make_model(server, api_key="sk-ExplicitKey789")
    model.invoke("hi")
    copy = _round_trip(model)
    assert copy.api_key is not None
    assert copy.api_key.get_secret_value() == "sk-ExplicitKey789"
    copy.invoke("hi")
    assert _chat_requests(server)[-1].headers["authorization"] == "Bearer sk-ExplicitKey789"


def test_a_model_with_the_users_client_refuses_to_pickle(server: ChatServer) -> None:
    with httpx.Client() as client:
        model = make_model(server, http_client=client)
        with pytest.raises(TypeError, match="http_client or http_async_client cannot be pickled"):
            pickle.dumps(model)


def test_a_key_named_by_api_key_env_is_read_on_the_worker(
    server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SERVER_KEY", "sk-DriverSide111")
    model = make_model(server, api_key_env="MY_SERVER_KEY")
    model.invoke("hi")
    assert _chat_requests(server)[-1].headers["authorization"] == "Bearer sk-DriverSide111"
    data = pickle.dumps(model)
    assert b"sk-DriverSide111" not in data
    monkeypatch.setenv("MY_SERVER_KEY", "sk-WorkerSide222")
    pickle.loads(data).invoke("hi")
    assert _chat_requests(server)[-1].headers["authorization"] == "Bearer sk-WorkerSide222"
    monkeypatch.delenv("MY_SERVER_KEY")
    with pytest.raises(MissingTokenError, match="'MY_SERVER_KEY' names an environment variable"):
        model.invoke("hi")


def test_api_key_env_replaces_api_key() -> None:
    with pytest.raises(ValueError, match="either api_key or api_key_env"):
        ChatHuggingFaceVLM(model="m", api_key=SecretStr("sk-x"), api_key_env="MY_SERVER_KEY")
