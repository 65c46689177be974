"""Head to head: ChatHuggingFaceVLM vs ChatHuggingFace vs ChatOpenAI, same loopback server.

Each ``test_row_*`` backs one row of the table in ``docs/comparison.md``. In every test the
three libraries talk to the SAME real HTTP server (``tests/servers/chat_server.py``), one after
the other. Our behaviour is asserted strictly. The competitors' behaviour is asserted as
observed, through :func:`_observed`: when a competitor changes (a fix, usually), the test fails
with a message naming the library, its installed version and the row to update.

Competitors are built the way their own docs say to point them at a self-hosted server:
``ChatHuggingFace(llm=HuggingFaceEndpoint(endpoint_url=url))`` and
``ChatOpenAI(base_url=url + "/v1", api_key=..., model=...)``.

Select with ``-m comparison``; the module also runs in the normal test run.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from huggingface_hub.errors import HfHubHTTPError, UnknownError
from langchain_core.exceptions import ModelError, ModelRateLimitError
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import tool
from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint
from langchain_openai import ChatOpenAI
from openai import APIError as OpenAIAPIError
from pydantic import SecretStr, ValidationError

from langchain_hf_vlm import APIError, ChatHuggingFaceVLM, IncompleteStreamError
from tests.servers.chat_server import ChatReply, ChatServer, Fault, RecordedRequest, Reply, Stream
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.messages import merge_chunks
from tests.support.pngs import tiny_png

pytestmark = pytest.mark.comparison

HF = "ChatHuggingFace"
OAI = "ChatOpenAI"
_DISTRIBUTION = {HF: "langchain-huggingface", OAI: "langchain-openai"}


PNG = base64.b64encode(tiny_png()).decode()
PNG_URI = f"data:image/png;base64,{PNG}"


# ---------------------------------------------------------------- helpers


def hf_chat(server: ChatServer, **kwargs: Any) -> ChatHuggingFace:
    """ChatHuggingFace as its docs show for a self-hosted TGI / OpenAI-compatible server."""
    # `model` is declared required, but HuggingFaceEndpoint's own validator fills it in from
    # endpoint_url before validation, which is how its docs call it.
    endpoint = HuggingFaceEndpoint(endpoint_url=server.url)  # type: ignore[call-arg]
    return ChatHuggingFace(llm=endpoint, **kwargs)


def openai_chat(server: ChatServer, **kwargs: Any) -> ChatOpenAI:
    params: dict[str, Any] = {
        "base_url": server.url + "/v1",
        "api_key": "x",
        "model": "tiny/vlm",
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatOpenAI(**params)


def chat_posts(server: ChatServer) -> list[RecordedRequest]:
    """The chat-completion requests (not e.g. a ``GET /info`` probe)."""
    return [
        r for r in server.requests if r.method == "POST" and r.path.endswith("/chat/completions")
    ]


def last_body(server: ChatServer) -> dict[str, Any]:
    body = chat_posts(server)[-1].json
    assert isinstance(body, dict)
    return body


@dataclass
class Outcome:
    value: Any = None
    error: Exception | None = None


def attempt(fn: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=fn())
    except Exception as exc:
        return Outcome(error=exc)


def _observed(library: str, row: str, holds: bool, got: object) -> None:
    """Assert a competitor's documented behaviour; on change, say which table cell to update."""
    assert holds, (
        f"{library} ({_DISTRIBUTION[library]} {version(_DISTRIBUTION[library])}) no longer "
        f"behaves as docs/comparison.md says in the row {row!r}; got {got!r}. Re-check the "
        "behaviour and update the table and this test."
    )


# ---------------------------------------------------------------- 1. image block shapes

IMAGE_SHAPES: dict[str, tuple[dict[str, Any], str]] = {
    "openai image_url dict": (
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        "https://example.com/a.png",
    ),
    "bare-string image_url": (
        {"type": "image_url", "image_url": "https://example.com/b.png"},
        "https://example.com/b.png",
    ),
    "v1 url block": (
        {"type": "image", "url": "https://example.com/c.png"},
        "https://example.com/c.png",
    ),
    "v1 base64 + mime_type": ({"type": "image", "base64": PNG, "mime_type": "image/png"}, PNG_URI),
    "anthropic source base64": (
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        PNG_URI,
    ),
}


def _shapes_delivered(server: ChatServer, invoke: Callable[[list[BaseMessage]], Any]) -> set[str]:
    """Names of the image shapes that reach the server as a valid ``image_url`` part."""
    delivered = set()
    for name, (block, url) in IMAGE_SHAPES.items():
        server.reset()
        message = HumanMessage(content=[{"type": "text", "text": "what is this?"}, block])
        if attempt(functools.partial(invoke, [message])).error is not None:
            continue
        parts = last_body(server)["messages"][-1]["content"]
        images = [p for p in parts if isinstance(p, dict) and p.get("type") != "text"]
        if images == [{"type": "image_url", "image_url": {"url": url}}]:
            delivered.add(name)
    return delivered


def test_row_image_block_shapes_reach_the_server(vllm: ChatServer) -> None:
    row = "image block shapes sent as valid image_url parts"
    assert _shapes_delivered(vllm, make_model(vllm).invoke) == set(IMAGE_SHAPES)  # 5/5

    got = _shapes_delivered(vllm, hf_chat(vllm).invoke)
    _observed(HF, row, got == {"openai image_url dict"}, got)  # 1/5: passes content through

    got = _shapes_delivered(vllm, openai_chat(vllm).invoke)
    _observed(OAI, row, got == set(IMAGE_SHAPES) - {"bare-string image_url"}, got)  # 4/5


# ---------------------------------------------------------------- 2. retries


def test_row_retry_on_503_then_success(vllm: ChatServer) -> None:
    row = "retries: 503 then success"
    vllm.enqueue(Fault("status", status=503, message="loading"))
    ours = ChatHuggingFaceVLM(model="tiny/vlm", base_url=vllm.url, backend="vllm")  # defaults
    assert ours.max_retries == 2
    assert ours.invoke("hi").content == "images=0; text=hi"
    assert len(chat_posts(vllm)) == 2
    _competitors_on_one_retryable_fault(vllm, row, Fault("status", status=503, message="loading"))


@pytest.mark.parametrize("retry_after", ["0", "1"])
def test_row_retry_on_429_with_retry_after(
    vllm: ChatServer, retry_after: str, caplog: pytest.LogCaptureFixture
) -> None:
    row = f"retries: 429 with Retry-After: {retry_after}"
    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    vllm.enqueue(Fault("retry_after", value=retry_after))
    ours = ChatHuggingFaceVLM(model="tiny/vlm", base_url=vllm.url, backend="vllm")
    started = time.monotonic()
    assert ours.invoke("hi").content == "images=0; text=hi"
    elapsed = time.monotonic() - started
    assert len(chat_posts(vllm)) == 2
    # The server's Retry-After is the wait (0 means now, not a backoff), and it is waited.
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(waits) == 1 and waits[0].startswith(f"retrying in {retry_after}.00s")
    assert elapsed >= 0.9 * int(retry_after)
    _competitors_on_one_retryable_fault(vllm, row, Fault("retry_after", value=retry_after))


def _competitors_on_one_retryable_fault(vllm: ChatServer, row: str, fault: Fault) -> None:
    """ChatHuggingFace (no retry setting exists) passes the fault on; ChatOpenAI with its
    defaults retries once."""
    status = 429 if fault.kind == "retry_after" else fault.status
    vllm.reset()
    vllm.enqueue(fault)
    out = attempt(lambda: hf_chat(vllm).invoke("hi"))
    _observed(
        HF,
        row,
        isinstance(out.error, HfHubHTTPError)
        and out.error.response.status_code == status
        and len(chat_posts(vllm)) == 1,
        (out, len(chat_posts(vllm))),
    )

    vllm.reset()
    vllm.enqueue(fault)
    oai = ChatOpenAI(base_url=vllm.url + "/v1", api_key=SecretStr("x"), model="tiny/vlm")
    out = attempt(lambda: oai.invoke("hi").content)
    _observed(
        OAI,
        row,
        out.value == "images=0; text=hi" and len(chat_posts(vllm)) == 2,
        (out, len(chat_posts(vllm))),
    )


# ---------------------------------------------------------------- 3. parameters

PARAMETERS: dict[str, Any] = {
    "temperature": 0,
    "seed": 0,
    "top_p": 0.9,
    "stop": ["END"],
    "frequency_penalty": 0.5,
    "presence_penalty": 0.25,
    "max_tokens": 16,
}


def _arrived_exactly(body: dict[str, Any]) -> set[str]:
    return {k for k, v in PARAMETERS.items() if k in body and body[k] == v}


def test_row_sampling_parameters_arrive_as_given(vllm: ChatServer) -> None:
    row = "sampling parameters arrive exactly as given"
    make_model(vllm, **PARAMETERS).invoke("hi")
    body = last_body(vllm)
    assert _arrived_exactly(body) == set(PARAMETERS)  # 7/7
    assert body["temperature"] == 0 and body["seed"] == 0

    # ChatHuggingFace's own fields; its stop field is spelled ``stop_sequences`` (alias).
    hf_params = {k: v for k, v in PARAMETERS.items() if k != "stop"}
    hf_chat(vllm, stop_sequences=["END"], **hf_params).invoke("hi")
    body = last_body(vllm)
    _observed(
        HF,
        row,
        _arrived_exactly(body) == {"stop", "max_tokens"}
        and body.get("temperature") == 0.8  # temperature=0 replaced by the LLM's default
        and not {"seed", "top_p", "frequency_penalty", "presence_penalty"} & set(body),
        body,
    )
    hf_chat(vllm, stop=["END"]).invoke("hi")  # the name every other chat model uses
    _observed(HF, row + " (stop=)", "stop" not in last_body(vllm), last_body(vllm))

    openai_chat(vllm, **PARAMETERS).invoke("hi")
    body = last_body(vllm)
    _observed(
        OAI,
        row,
        _arrived_exactly(body) == set(PARAMETERS) - {"max_tokens"}
        and body.get("max_completion_tokens") == 16,
        body,
    )


def test_row_bare_invoke_sends_only_what_was_set(vllm: ChatServer) -> None:
    row = "a bare invoke sends the model name and nothing unrequested"
    make_model(vllm).invoke("hi")
    body = last_body(vllm)
    assert body == {"model": "tiny/vlm", "messages": [{"role": "user", "content": "hi"}]}

    hf_chat(vllm).invoke("hi")
    body = last_body(vllm)
    _observed(
        HF,
        row,
        body.get("model") == "dummy"
        and body.get("max_tokens") == 512
        and body.get("temperature") == 0.8
        and body.get("stream") is False,
        body,
    )

    openai_chat(vllm).invoke("hi")
    body = last_body(vllm)
    _observed(
        OAI,
        row,
        set(body) == {"model", "messages", "stream"}
        and body["model"] == "tiny/vlm"
        and body["stream"] is False,
        body,
    )


def test_row_vllm_that_checks_the_model_name() -> None:
    row = "works against a vLLM that checks the model name"
    with ChatServer("vllm", served_models={"tiny/vlm"}) as server:
        assert make_model(server).invoke("hi").content == "images=0; text=hi"
        assert last_body(server)["model"] == "tiny/vlm"

        out = attempt(lambda: hf_chat(server).invoke("hi"))
        _observed(
            HF,
            row,
            isinstance(out.error, HfHubHTTPError)
            and out.error.response.status_code == 404
            and last_body(server)["model"] == "dummy",
            (out, last_body(server)),
        )
        workaround = hf_chat(server, model_kwargs={"model": "tiny/vlm"})
        out = attempt(lambda: workaround.invoke("hi").content)
        _observed(HF, row + " (model_kwargs workaround)", out.value == "images=0; text=hi", out)

        out = attempt(lambda: openai_chat(server).invoke("hi").content)
        _observed(OAI, row, out.value == "images=0; text=hi", out)


# ---------------------------------------------------------------- 4. TGI tool calls


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


TGI_CALL = {
    "id": "0",
    "type": "function",
    "function": {"name": "get_weather", "description": None, "arguments": {"city": "Paris"}},
}


def test_row_tgi_tool_call_with_object_arguments(tgi: ChatServer) -> None:
    row = "TGI tool call (arguments as a JSON object, id '0', finish_reason 'stop')"
    reply = ChatReply(content=None, tool_calls=[TGI_CALL], finish_reason="stop")
    tgi.enqueue(reply, reply)
    model = make_model(tgi).bind_tools([get_weather])
    first, second = model.invoke("weather in Paris?"), model.invoke("and again?")
    for answer in (first, second):
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
            ("get_weather", {"city": "Paris"})
        ]
        assert answer.invalid_tool_calls == []
    ids = [first.tool_calls[0]["id"], second.tool_calls[0]["id"]]
    assert all(ids) and ids[0] != ids[1]  # TGI's constant "0" made unique per answer

    tgi.reset()
    tgi.enqueue(reply)
    out = attempt(lambda: hf_chat(tgi).bind_tools([get_weather]).invoke("weather in Paris?"))
    _observed(HF, row, isinstance(out.error, ValidationError), out)

    tgi.reset()
    tgi.enqueue(reply)
    out = attempt(lambda: openai_chat(tgi).bind_tools([get_weather]).invoke("weather in Paris?"))
    _observed(OAI, row, isinstance(out.error, ValidationError), out)


# ---------------------------------------------------------------- 5. the ambient token


def test_row_ambient_hf_token_sent_to_non_hf_host(
    vllm: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = "HF_TOKEN from the environment sent to a non-HF base_url"
    monkeypatch.setenv("HF_TOKEN", "hf_secret_ambient")
    monkeypatch.delenv("HUGGINGFACEHUB_API_TOKEN", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def leaked() -> bool:
        return any(
            "hf_secret_ambient" in r.headers.get("authorization", "")
            or b"hf_secret_ambient" in r.body
            for r in vllm.requests
        )

    ours = make_model(vllm)  # built after the variable is set
    ours.invoke("hi")
    list(ours.stream("hi"))
    assert len(chat_posts(vllm)) == 2
    assert not leaked()
    assert all("authorization" not in r.headers for r in vllm.requests)

    vllm.reset()
    hf = hf_chat(vllm)
    hf.invoke("hi")
    list(hf.stream("hi"))
    _observed(
        HF,
        row,
        leaked()
        and all(
            r.headers.get("authorization") == "Bearer hf_secret_ambient" for r in vllm.requests
        ),
        [r.headers.get("authorization") for r in vllm.requests],
    )

    vllm.reset()
    out = attempt(
        lambda: ChatOpenAI(base_url=vllm.url + "/v1", model="tiny/vlm", max_retries=0).invoke("x")
    )  # no api_key: refuses to run rather than borrow HF_TOKEN
    _observed(OAI, row, out.error is not None and not vllm.requests, (out, vllm.requests))
    openai_chat(vllm, api_key="sk-local").invoke("hi")
    _observed(
        OAI,
        row,
        not leaked() and vllm.requests[-1].headers.get("authorization") == "Bearer sk-local",
        vllm.requests[-1].headers,
    )


# ---------------------------------------------------------------- 6. streamed usage


def test_row_streamed_usage_from_a_custom_base_url(vllm: ChatServer) -> None:
    row = "streamed usage_metadata from a custom base_url by default"
    merged = merge_chunks(list(make_model(vllm).stream("hi")))
    assert merged.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert last_body(vllm)["stream_options"] == {"include_usage": True}

    for library, build in ((HF, hf_chat), (OAI, openai_chat)):
        merged = merge_chunks(list(build(vllm).stream("hi")))
        _observed(
            library,
            row,
            merged.usage_metadata is None and "stream_options" not in last_body(vllm),
            (merged.usage_metadata, last_body(vllm)),
        )
        merged = merge_chunks(list(build(vllm, stream_usage=True).stream("hi")))  # the opt-in works
        usage = merged.usage_metadata
        _observed(
            library,
            row + " (stream_usage=True)",
            usage is not None and (usage["input_tokens"], usage["output_tokens"]) == (1, 2),
            usage,
        )


# ---------------------------------------------------------------- 7. SSE quirks

_CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "tiny/vlm"}
DONE_WITHOUT_SPACE = [
    "data:"
    + json.dumps(
        {**_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}]}
    ),
    "",
    "data:"
    + json.dumps({**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    "",
    "data:[DONE]",
    "",
]


def test_row_done_line_without_space(vllm: ChatServer) -> None:
    row = "`data:[DONE]` without a space"
    vllm.enqueue(Stream(event_lines=DONE_WITHOUT_SPACE))
    merged = merge_chunks(list(make_model(vllm).stream("hi")))
    assert merged.content == "hi"
    assert merged.response_metadata["finish_reason"] == "stop"

    vllm.enqueue(Stream(event_lines=DONE_WITHOUT_SPACE))
    out = attempt(lambda: "".join(str(c.content) for c in hf_chat(vllm).stream("hi")))
    _observed(HF, row, isinstance(out.error, json.JSONDecodeError), out)

    vllm.enqueue(Stream(event_lines=DONE_WITHOUT_SPACE))
    out = attempt(lambda: "".join(str(c.content) for c in openai_chat(vllm).stream("hi")))
    _observed(OAI, row, out.value == "hi", out)


def _read_until_error(model: Any) -> tuple[str, Exception | None]:
    received: list[str] = []
    try:
        for chunk in model.stream("hi"):
            received.append(str(chunk.content))
    except Exception as exc:
        return "".join(received), exc
    return "".join(received), None


def test_row_error_event_mid_stream(vllm: ChatServer) -> None:
    row = "error event in the middle of a stream"
    deltas = [{"role": "assistant", "content": "Hel"}, {"content": "lo"}, {"content": "!"}]
    vllm.enqueue(Stream(deltas=deltas, error_after=2))
    text, error = _read_until_error(make_model(vllm))
    assert text == "Hello"
    assert isinstance(error, IncompleteStreamError) and isinstance(error, ModelError)
    assert error.partial_text == "Hello"
    assert "boom" in str(error)

    vllm.enqueue(Stream(deltas=deltas, error_after=2))
    text, error = _read_until_error(hf_chat(vllm))
    _observed(
        HF,
        row,
        text == "Hello"
        and isinstance(error, UnknownError)
        and not isinstance(error, ModelError)
        and str(error).startswith("{'message': 'boom'"),  # a printed dict
        (text, error),
    )

    vllm.enqueue(Stream(deltas=deltas, error_after=2))
    text, error = _read_until_error(openai_chat(vllm))
    _observed(
        OAI,
        row,
        text == "Hello"
        and isinstance(error, OpenAIAPIError)
        and not isinstance(error, ModelError)
        and str(error) == "boom",
        (text, error),
    )


def test_row_http_200_with_an_error_body(vllm: ChatServer) -> None:
    row = "HTTP 200 whose body is an error object"
    overloaded = Reply(body={"error": {"message": "overloaded", "type": "server_error"}})
    vllm.enqueue(overloaded)
    with pytest.raises(APIError, match="overloaded") as info:
        make_model(vllm).invoke("hi")
    assert isinstance(info.value, ModelError)

    vllm.enqueue(overloaded)
    out = attempt(lambda: hf_chat(vllm).invoke("hi"))
    _observed(HF, row, isinstance(out.error, TypeError), out)

    vllm.enqueue(overloaded)
    out = attempt(lambda: openai_chat(vllm).invoke("hi"))
    _observed(
        OAI,
        row,
        type(out.error) is ValueError and "overloaded" in str(out.error),
        out,
    )


def test_row_errors_are_langchain_standard_exceptions(vllm: ChatServer) -> None:
    row = "HTTP errors raised as langchain-core standard exceptions"
    vllm.enqueue(Fault("retry_after", value="0"))
    with pytest.raises(ModelRateLimitError) as info:
        make_model(vllm).invoke("hi")
    assert isinstance(info.value, HfHubHTTPError)  # and still the hub's own type

    vllm.enqueue(Fault("retry_after", value="0"))
    out = attempt(lambda: hf_chat(vllm).invoke("hi"))
    _observed(
        HF,
        row,
        isinstance(out.error, HfHubHTTPError) and not isinstance(out.error, ModelError),
        out,
    )

    vllm.enqueue(Fault("retry_after", value="0"))
    out = attempt(lambda: openai_chat(vllm).invoke("hi"))
    _observed(OAI, row, isinstance(out.error, ModelRateLimitError), out)


# ---------------------------------------------------------------- structured output


def test_row_json_schema_structured_output_on_vllm(vllm: ChatServer) -> None:
    row = "with_structured_output(method='json_schema') reaches vLLM as json_schema"
    schema = {
        "title": "Pet",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    vllm.enqueue(ChatReply(content='{"name": "Rex"}'))
    model = make_model(vllm).with_structured_output(schema, method="json_schema")
    assert model.invoke("a pet") == {"name": "Rex"}
    fmt = last_body(vllm)["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["properties"] == schema["properties"]

    vllm.enqueue(ChatReply(content='{"name": "Rex"}'))
    hf_chat(vllm).with_structured_output(schema, method="json_schema").invoke("a pet")
    fmt = last_body(vllm)["response_format"]
    _observed(HF, row, fmt.get("type") == "json_object" and "json_schema" not in fmt, fmt)

    vllm.enqueue(ChatReply(content='{"name": "Rex"}'))
    openai_chat(vllm).with_structured_output(schema, method="json_schema").invoke("a pet")
    fmt = last_body(vllm)["response_format"]
    _observed(
        OAI,
        row,
        fmt.get("type") == "json_schema"
        and fmt["json_schema"]["schema"]["properties"] == schema["properties"],
        fmt,
    )


# ---------------------------------------------------------------- 8. connections


def test_row_connection_reuse_over_20_streams(vllm: ChatServer) -> None:
    row = "connections opened by 20 sequential streams on one instance"

    def connections(model: Any) -> int:
        vllm.reset()
        for _ in range(20):
            assert merge_chunks(list(model.stream("hi"))).content == "images=0; text=hi"
        return vllm.connections_opened

    assert connections(make_model(vllm)) == 1

    got = connections(hf_chat(vllm))
    _observed(HF, row, got >= 10, got)  # observed: 20, one per stream

    got = connections(openai_chat(vllm))
    _observed(OAI, row, got >= 10, got)  # observed: 19-20


# ---------------------------------------------------------------- 9. event loops


async def _astream_text(model: Any) -> str:
    return "".join([str(chunk.content) async for chunk in model.astream("three")])


# ChatHuggingFace's and ChatOpenAI's async clients, left in the loops of asyncio.run() as
# their users' would be, are collected with their sockets open: their leak, not ours (our
# model is closed in each loop); collected here, under this filter.
@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
def test_row_one_instance_across_two_asyncio_runs(vllm: ChatServer) -> None:
    row = "one instance used from two asyncio.run() calls"
    ours = make_model(vllm)
    assert run_in_new_loop(ours, lambda: ours.ainvoke("one")).content == "images=0; text=one"
    assert run_in_new_loop(ours, lambda: ours.ainvoke("two")).content == "images=0; text=two"
    assert run_in_new_loop(ours, lambda: _astream_text(ours)) == "images=0; text=three"
    assert run_in_new_loop(ours, lambda: _astream_text(ours)) == "images=0; text=three"

    def twice(build: Callable[[], Any], call: Callable[[Any], Any]) -> Outcome:
        model = build()
        return attempt(lambda: (asyncio.run(call(model)), asyncio.run(call(model))))

    def is_closed_loop(out: Outcome) -> bool:
        return isinstance(out.error, RuntimeError) and "Event loop is closed" in str(out.error)

    out = twice(lambda: hf_chat(vllm), lambda m: m.ainvoke("one"))
    _observed(HF, row + " (ainvoke)", is_closed_loop(out), out)
    out = twice(lambda: hf_chat(vllm), _astream_text)
    _observed(HF, row + " (astream)", out.value == ("images=0; text=three",) * 2, out)

    out = twice(lambda: openai_chat(vllm), lambda m: m.ainvoke("one"))
    _observed(OAI, row + " (ainvoke)", is_closed_loop(out), out)
    out = twice(lambda: openai_chat(vllm), _astream_text)
    _observed(OAI, row + " (astream)", is_closed_loop(out), out)
    del out  # its traceback holds the last client
    gc.collect()


# ---------------------------------------------------------------- 10. a server crash


def test_row_the_call_after_a_server_crash(vllm: ChatServer) -> None:
    """`transformers serve` (uvicorn) answers an unhandled exception with a plain-text 500 and
    then drops the kept-alive connection without saying so (reproduced by the "crash" fault,
    measured against the real server in tests/realserver)."""
    row = "the call after a server crash"

    def crash_then_call(model: Any) -> tuple[Outcome, Outcome, int]:
        vllm.reset()
        vllm.enqueue(Fault("crash"))
        first = attempt(lambda: model.invoke("hi").content)
        second = attempt(lambda: model.invoke("hi").content)
        return first, second, len(chat_posts(vllm))

    ours = ChatHuggingFaceVLM(model="tiny/vlm", base_url=vllm.url, backend="vllm")  # defaults
    first, second, posts = crash_then_call(ours)
    assert isinstance(first.error, APIError) and "500" in str(first.error)  # 500: not retried
    assert second.value == "images=0; text=hi"
    assert posts == 2

    first, second, posts = crash_then_call(hf_chat(vllm))
    _observed(
        HF,
        row,
        isinstance(first.error, HfHubHTTPError)
        # reset or "disconnected", depending on timing: the dead connection was reused
        and isinstance(second.error, httpx.TransportError),
        (first, second, posts),
    )

    oai = ChatOpenAI(
        base_url=vllm.url + "/v1", api_key=SecretStr("x"), model="tiny/vlm"
    )  # defaults
    first, second, posts = crash_then_call(oai)
    # openai retries a 500 (the generation runs again); one retry dies on the dead connection
    _observed(
        OAI,
        row,
        first.value == "images=0; text=hi" and second.value == "images=0; text=hi" and posts == 3,
        (first, second, posts),
    )


# ---------------------------------------------------------------- 11. documents and video

PDF_SHAPES: dict[str, Callable[[str], dict[str, Any]]] = {
    "v1 file": lambda data: {
        "type": "file",
        "base64": data,
        "mime_type": "application/pdf",
        "filename": "a.pdf",
    },
    "openai file": lambda data: {
        "type": "file",
        "file": {"file_data": f"data:application/pdf;base64,{data}", "filename": "a.pdf"},
    },
    "anthropic document": lambda data: {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": data},
    },
}


def _part_types(server: ChatServer, invoke: Callable[[list[BaseMessage]], Any], block: Any) -> Any:
    """The content part types the server receives after the question; or the error raised."""
    server.reset()
    message = HumanMessage(content=[{"type": "text", "text": "read it"}, block])
    out = attempt(lambda: invoke([message]))
    if out.error is not None:
        return out.error
    parts = last_body(server)["messages"][-1]["content"]
    return [part["type"] for part in parts[1:]]


def test_row_a_pdf_reaches_a_vlm_server_as_page_images(vllm: ChatServer) -> None:
    pytest.importorskip("pypdfium2")
    from tests.support.media import text_pdf

    row = "a two-page PDF, what reaches the server"
    data = base64.b64encode(text_pdf(2)).decode()
    pages = ["text", "image_url", "text"] * 2  # label, page image, text layer
    for name, shape in PDF_SHAPES.items():
        assert _part_types(vllm, make_model(vllm).invoke, shape(data)) == pages, name

    got = {
        name: _part_types(vllm, hf_chat(vllm).invoke, shape(data))
        for name, shape in PDF_SHAPES.items()
    }
    expected = {"v1 file": ["file"], "openai file": ["file"], "anthropic document": ["document"]}
    _observed(HF, row, got == expected, got)  # passed through unchanged

    got = {
        name: _part_types(vllm, openai_chat(vllm).invoke, shape(data))
        for name, shape in PDF_SHAPES.items()
    }
    _observed(OAI, row, got == expected, got)  # an OpenAI file part; a document unchanged
    vllm.reset()
    openai_chat(vllm).invoke([HumanMessage(content=[PDF_SHAPES["v1 file"](data)])])
    (part,) = last_body(vllm)["messages"][-1]["content"]
    _observed(OAI, row, set(part["file"]) == {"file_data", "filename"}, part)


def test_row_a_video_reaches_a_vlm_server_as_frames(vllm: ChatServer) -> None:
    pytest.importorskip("av")
    from tests.support.media import video

    row = "a video block, what reaches the server"
    block = {
        "type": "video",
        "base64": base64.b64encode(video(seconds=2)).decode(),
        "mime_type": "video/mp4",
    }
    assert _part_types(vllm, make_model(vllm).invoke, block) == ["text", "image_url"] * 8

    got = _part_types(vllm, hf_chat(vllm).invoke, block)
    _observed(HF, row, got == ["video"], got)  # passed through unchanged

    got = _part_types(vllm, openai_chat(vllm).invoke, block)
    _observed(
        OAI,
        row,
        isinstance(got, ValueError)
        and "video is not supported" in str(got)
        and chat_posts(vllm) == [],
        got,
    )
