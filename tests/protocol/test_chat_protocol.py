"""ChatHuggingFaceVLM over real HTTP against the loopback server, in every dialect."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Generator

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelRateLimitError,
)
from langchain_core.messages import AIMessageChunk, HumanMessage

from langchain_hf_vlm import (
    ChatHuggingFaceVLM,
    IncompleteStreamError,
    InvalidContentError,
    MissingTokenError,
)
from tests.servers.chat_server import ChatReply, ChatServer, Fault, Reply, Stream
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.messages import merge_chunks
from tests.support.pngs import tiny_png

PNG = base64.b64encode(tiny_png()).decode()


def _image_message(question: str = "what is this?") -> HumanMessage:
    return HumanMessage(
        content=[
            {"type": "text", "text": question},
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ]
    )


def test_invoke_sends_images_and_parameters(server: ChatServer) -> None:
    # transformers serve rejects unknown top-level fields, so extra_body goes elsewhere only.
    extra = {} if server.dialect == "transformers" else {"top_k": 5}
    model = make_model(server, temperature=0, max_tokens=16, seed=0, extra_body=extra)
    answer = model.invoke([_image_message()])
    assert answer.content == "images=2; text=what is this?"
    body = server.requests[-1].json
    assert list(body)[:2] == ["model", "messages"]
    assert body["model"] == "tiny/vlm"
    assert body["temperature"] == 0
    assert body["max_tokens"] == 16
    assert body["seed"] == 0
    assert body.get("top_k") == extra.get("top_k")
    assert "stream" not in body and "stream_options" not in body
    assert body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}"},
    }
    assert answer.usage_metadata == {"input_tokens": 23, "output_tokens": 4, "total_tokens": 27}
    assert answer.response_metadata["model_provider"] == model._get_ls_params()["ls_provider"]
    assert answer.response_metadata["finish_reason"] == "stop"


async def test_ainvoke_matches_invoke(server: ChatServer) -> None:
    async with make_model(server) as model:
        sync_answer = await asyncio.to_thread(model.invoke, [_image_message()])
        async_answer = await model.ainvoke([_image_message()])
    assert async_answer.content == sync_answer.content
    assert async_answer.usage_metadata == sync_answer.usage_metadata
    assert server.requests[-1].json == server.requests[-2].json


def test_stream_usage_once_and_finish_once(server: ChatServer) -> None:
    model = make_model(server)
    chunks = list(model.stream([_image_message("one two three")]))
    merged = merge_chunks(chunks)
    assert merged.content == "images=2; text=one two three"
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["output_tokens"] == 4  # one chunk per word
    assert merged.response_metadata["finish_reason"] == "stop"
    assert merged.response_metadata["model_name"] == "tiny/vlm"
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    body = server.requests[-1].json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_astream(server: ChatServer) -> None:
    async with make_model(server) as model:
        chunks = [chunk async for chunk in model.astream([_image_message("x y")])]
    merged = merge_chunks(chunks)
    assert merged.content == "images=2; text=x y"
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] == 3


def test_invoke_with_streaming_true_streams(server: ChatServer) -> None:
    model = make_model(server, streaming=True)
    answer = model.invoke("hello there")
    assert answer.content == "images=0; text=hello there"
    assert server.requests[-1].json["stream"] is True
    assert answer.usage_metadata is not None


@pytest.mark.parametrize("dialect", ["vllm"])
@pytest.mark.parametrize("placement", ["final", "last", "every", "every+final"])
def test_stream_usage_placements_counted_once(server: ChatServer, placement: str) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    deltas = [{"role": "assistant", "content": "a"}, {"content": "b"}, {"content": "c"}]
    server.enqueue(Stream(deltas=deltas, usage=usage, usage_placement=placement))
    merged = merge_chunks(list(make_model(server).stream("hi")))
    assert merged.content == "abc"
    assert merged.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}


@pytest.mark.parametrize("dialect", ["vllm"])
def test_stream_quirks_done_without_space_and_empty_choices(server: ChatServer) -> None:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": []}
    lines = [
        ": keep-alive",
        "data:" + json.dumps({**chunk, "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
        "",
        "data: " + json.dumps(chunk),
        "",
        "data:"
        + json.dumps({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        "",
        "data:[DONE]",
        "",
    ]
    server.enqueue(Stream(event_lines=lines))
    merged = merge_chunks(list(make_model(server).stream("hi")))
    assert merged.content == "hi"
    assert merged.response_metadata["finish_reason"] == "stop"


@pytest.mark.parametrize("dialect", ["tgi", "vllm"])
def test_error_event_mid_stream_carries_partial_text(server: ChatServer) -> None:
    deltas = [{"role": "assistant", "content": "Hel"}, {"content": "lo"}, {"content": "!"}]
    server.enqueue(Stream(deltas=deltas, error_after=2))
    received = []
    with pytest.raises(IncompleteStreamError) as info:
        for chunk in make_model(server).stream("hi"):
            received.append(chunk.text)
    assert "".join(received) == "Hello"
    assert info.value.partial_text == "Hello"
    assert "boom" in str(info.value)


@pytest.mark.parametrize("dialect", ["vllm"])
def test_stream_without_finish_is_incomplete(server: ChatServer) -> None:
    deltas = [{"role": "assistant", "content": "Hel"}, {"content": "lo"}]
    server.enqueue(Stream(deltas=deltas, close_without_finish=True, done_line=None))
    with pytest.raises(IncompleteStreamError, match="without a finish reason") as info:
        list(make_model(server).stream("hi"))
    assert info.value.partial_text == "Hello"


@pytest.mark.parametrize(
    ("dialect", "fault", "error_class", "message"),
    [
        (
            "router",
            Fault("status", status=401, message="Invalid credentials"),
            ModelAuthenticationError,
            "Invalid credentials",
        ),
        (
            "tgi",
            Fault("status", status=422, message="Input validation error"),
            ModelInvalidRequestError,
            "Input validation error",
        ),
        (
            "tgi",
            Fault(
                "status",
                status=400,
                message="Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 5000",
            ),
            ContextOverflowError,
            "must be <= 4096",
        ),
        (
            "vllm",
            Fault("status", status=404, message="The model `x` does not exist."),
            ModelNotFoundError,
            "does not exist",
        ),
        (
            "vllm",
            Fault("status", status=429, message="slow down", shape="openai"),
            ModelRateLimitError,
            "slow down",
        ),
        (
            "transformers",
            Fault("status", status=422, message="bad field", shape="fastapi"),
            ModelInvalidRequestError,
            "bad field",
        ),
        (
            "transformers",
            Fault("status", status=500, message="Internal Server Error", shape="plain"),
            ModelAPIError,
            "Internal Server Error",
        ),
    ],
)
def test_error_bodies_map_to_standard_errors(
    server: ChatServer, fault: Fault, error_class: type[Exception], message: str
) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    server.enqueue(fault)
    with pytest.raises(error_class) as info:
        make_model(server).invoke("hi")
    error = info.value
    assert isinstance(error, HfHubHTTPError)
    assert error.response.status_code == fault.status
    assert error.server_message is not None and message in error.server_message
    assert error.request_id is not None and error.request_id.startswith("req-")
    assert len(server.requests) == 1


@pytest.mark.parametrize("dialect", ["vllm"])
async def test_stream_errors_before_output_are_http_errors(server: ChatServer) -> None:
    server.enqueue(Fault("status", status=404, message="no such model"))
    async with make_model(server) as model:
        with pytest.raises(ModelNotFoundError, match="no such model"):
            async for _ in model.astream("hi"):
                pass


@pytest.mark.parametrize("dialect", ["vllm"])
def test_http_200_error_body_is_an_error(server: ChatServer) -> None:
    server.enqueue(Reply(body={"error": {"message": "overloaded", "type": "server_error"}}))
    with pytest.raises(ModelAPIError, match="overloaded"):
        make_model(server).invoke("hi")


@pytest.mark.parametrize("dialect", ["router"])
def test_router_provider_header_and_reasoning(server: ChatServer) -> None:
    server.enqueue(ChatReply(content="42", reasoning="thinking hard", provider="novita"))
    answer = make_model(server).invoke("hi")
    assert answer.response_metadata["inference_provider"] == "novita"
    assert answer.additional_kwargs["reasoning_content"] == "thinking hard"
    assert {"type": "reasoning", "reasoning": "thinking hard"} in [
        {k: v for k, v in block.items() if k in ("type", "reasoning")}
        for block in answer.content_blocks
    ]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_bad_input_fails_before_sending(server: ChatServer) -> None:
    bad = HumanMessage(content=[{"type": "text", "text": "x"}, {"type": "audio", "url": "a"}])
    with pytest.raises(InvalidContentError, match="message 0, content block 1"):
        make_model(server).invoke([bad])
    assert server.requests == []


# ---- the token rule


@pytest.mark.parametrize("dialect", ["vllm"])
def test_ambient_token_never_sent_to_third_party(
    server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_ambient")
    model = make_model(server)
    assert model.api_key is not None  # read from the environment ...
    model.invoke("hi")
    list(model.stream("hi"))
    for request in server.requests:  # ... but never sent to a non-HF host
        assert "authorization" not in request.headers
        assert b"hf_secret_ambient" not in request.body


@pytest.mark.parametrize("dialect", ["vllm"])
def test_explicit_key_is_sent(server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_ambient")
    make_model(server, api_key="sk-mine").invoke("hi")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-mine"


def test_router_without_token_says_how_to_fix() -> None:
    model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    with pytest.raises(MissingTokenError, match="HF_TOKEN") as info:
        model.invoke("hi")
    assert "api_key" in str(info.value)


# ---- connections and event loops


@pytest.mark.parametrize("dialect", ["vllm", "transformers"])
def test_sequential_streams_reuse_one_connection(server: ChatServer) -> None:
    model = make_model(server)
    for _ in range(5):
        list(model.stream("hi"))
        model.invoke("hi")
    assert server.connections_opened == 1


@pytest.mark.parametrize("dialect", ["vllm"])
def test_one_instance_across_event_loops(server: ChatServer) -> None:
    model = make_model(server)
    first = run_in_new_loop(model, lambda: model.ainvoke("one"))
    second = run_in_new_loop(model, lambda: model.ainvoke("two"))
    chunks = run_in_new_loop(model, lambda: _collect(model))
    assert (first.content, second.content) == ("images=0; text=one", "images=0; text=two")
    assert merge_chunks(chunks).content == "images=0; text=three"


async def _collect(model: ChatHuggingFaceVLM) -> list[AIMessageChunk]:
    return [chunk async for chunk in model.astream("three")]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_breaking_out_of_a_stream_releases_it(server: ChatServer) -> None:
    deltas = [{"role": "assistant", "content": "a"}] + [{"content": "b"}] * 50
    server.enqueue(Stream(deltas=deltas, stall_after=3))
    model = make_model(server, timeout=30)
    stream = model.stream("hi")
    assert isinstance(stream, Generator)
    assert next(stream).content == "a"
    stream.close()
    assert model.invoke("after").content == "images=0; text=after"
