"""What only vLLM does: constrained decoding, its tool parser, its usage stream, its error bodies,
and how the package recognises it. The tiny VLM answers by fixed rules (answers.py), so a valid
structured answer can only come from vLLM enforcing the schema the package sent; a recording
proxy between the two shows that request body and vLLM's own answer bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest
from langchain_core.exceptions import ContextOverflowError
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel
from typing_extensions import TypedDict

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.errors import InvalidRequestError, NotFoundError
from tests.realserver.answers import ANS_DEFAULT, ANS_IMAGE, TOOL_ARGS, TOOL_NAME
from tests.realserver.tiny_server import TinyVLMServer
from tests.realserver.vllm_server import MAX_MODEL_LEN
from tests.support.realserver import ImageHost, make_model
from tests.support.recording_proxy import RecordingProxy

pytestmark = [pytest.mark.realserver, pytest.mark.vllm]


class Colour(BaseModel):
    """The main colour of the picture."""

    colour: Literal["red", "green", "blue"]


class ColourDict(TypedDict):
    """The main colour of the picture."""

    colour: Literal["red", "green", "blue"]


COLOUR_SCHEMA = Colour.model_json_schema()


@tool
def get_weather(city: Literal["Paris", "Rome"]) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


@tool
def current_time() -> str:
    """The current time (takes no arguments)."""
    return "noon"


@pytest.fixture
def proxy(vllm_server: TinyVLMServer) -> Iterator[RecordingProxy]:
    recorder = RecordingProxy(vllm_server.url.removesuffix("/v1"))
    yield recorder
    recorder.close()


def _via(proxy: RecordingProxy, vllm_server: TinyVLMServer, **kwargs: Any) -> ChatHuggingFaceVLM:
    return make_model(vllm_server, base_url=proxy.url, **kwargs)


def _photo_question(host: ImageHost) -> list[HumanMessage]:
    photo = base64.b64encode((host.folder / "photo.jpg").read_bytes()).decode()
    return [
        HumanMessage(
            content=[
                {"type": "text", "text": "What colour is this picture?"},
                {"type": "image", "base64": photo, "mime_type": "image/jpeg"},
            ]
        )
    ]


# ------------------------------------------------------- structured output, enforced by vLLM


@pytest.mark.parametrize(
    "schema", [Colour, ColourDict, COLOUR_SCHEMA], ids=["pydantic", "typeddict", "json_schema"]
)
def test_structured_output_is_the_schema_the_server_enforced(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, image_host: ImageHost, schema: Any
) -> None:
    """Unconstrained, the model answers this question with a sentence (ANS_IMAGE)."""
    question = _photo_question(image_host)
    plain = _via(proxy, vllm_server).invoke(question)
    assert plain.content == ANS_IMAGE
    structured = _via(proxy, vllm_server).with_structured_output(schema).invoke(question)
    colour = structured.colour if isinstance(structured, Colour) else dict(structured)["colour"]
    assert colour in ("red", "green", "blue")
    (_, sent) = proxy.chat_requests()
    response_format = sent.json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["properties"]["colour"]["enum"] == [
        "red",
        "green",
        "blue",
    ]


async def test_structured_output_async_and_streamed(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, image_host: ImageHost
) -> None:
    structured = _via(proxy, vllm_server).with_structured_output(Colour)
    question = _photo_question(image_host)
    answer = await structured.ainvoke(question)
    chunks = [chunk async for chunk in structured.astream(question)]
    assert isinstance(answer, Colour)
    assert chunks[-1] == answer
    bodies = [e.json for e in proxy.chat_requests()]
    assert [b.get("stream", False) for b in bodies] == [False, True]
    assert all(b["response_format"]["type"] == "json_schema" for b in bodies)


def test_json_mode_without_a_schema_returns_the_object_vllm_enforced(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, image_host: ImageHost
) -> None:
    parsed = (
        _via(proxy, vllm_server)
        .with_structured_output(method="json_mode")
        .invoke(_photo_question(image_host))
    )
    assert isinstance(parsed, dict)
    (sent,) = proxy.chat_requests()
    assert sent.json["response_format"] == {"type": "json_object"}


# ---------------------------------------------------------- tools, through vLLM's parser


@pytest.mark.parametrize("choice", ["any", "required", "get_weather", True])
def test_tool_choice_forces_the_call(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, choice: Any
) -> None:
    model = _via(proxy, vllm_server).bind_tools([get_weather], tool_choice=choice)
    answer = model.invoke("Hello!")
    assert [c["name"] for c in answer.tool_calls] == [TOOL_NAME]
    assert answer.invalid_tool_calls == []
    (sent,) = proxy.chat_requests()
    assert sent.json["tool_choice"] in (
        "required",
        {"type": "function", "function": {"name": TOOL_NAME}},
    )


def test_auto_tool_call_is_parsed_by_the_hermes_parser(vllm_server: TinyVLMServer) -> None:
    """The model writes <tool_call>{json}</tool_call>; vLLM's parser makes it an OpenAI call."""
    answer = make_model(vllm_server).bind_tools([get_weather]).invoke("Weather?")
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [(TOOL_NAME, TOOL_ARGS)]
    assert answer.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("strict", [True, None], ids=["strict", "not-strict"])
def test_tool_without_parameters_is_called_with_no_arguments(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, strict: bool | None
) -> None:
    """vLLM 0.32 constrains a call's arguments to the tool's schema for ``strict`` tools, and
    for every tool when served with ``--tool-strict-level parameter`` (vllm_server.py); at the
    default level ("auto") a non-strict tool's arguments are free, and this model, never
    taught a parameter-less tool, writes junk until the length limit. Pinned, the only
    arguments it can write are ``{}``, streamed and not."""
    # the forced text is many tokens of this tokenizer: 24 (make_model's default) cut it short
    model = _via(proxy, vllm_server, max_tokens=64)
    bound = model.bind_tools([current_time], tool_choice="any", strict=strict)
    invoked = bound.invoke("What time is it?")
    streamed: AIMessageChunk | None = None
    for chunk in bound.stream("What time is it?"):
        assert isinstance(chunk, AIMessageChunk)
        streamed = chunk if streamed is None else streamed + chunk
    assert isinstance(streamed, AIMessageChunk)
    for answer in (invoked, streamed):
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == [("current_time", {})]
        assert answer.invalid_tool_calls == []
    functions = [e.json["tools"][0]["function"] for e in proxy.chat_requests()]
    assert [f.get("strict") for f in functions] == [strict, strict]


# ------------------------------------------------------------- usage, stop, generation


def test_continuous_usage_stats_are_counted_once(
    vllm_server: TinyVLMServer, proxy: RecordingProxy, image_host: ImageHost
) -> None:
    """vLLM's ``continuous_usage_stats`` puts cumulative usage on every chunk."""
    extra = {"stream_options": {"continuous_usage_stats": True}}
    model = _via(proxy, vllm_server, extra_body=extra)
    chunks = list(model.stream(_photo_question(image_host)))
    (exchange,) = proxy.chat_requests()
    events = exchange.events()
    assert len(events) > 3 and all(event.get("usage") for event in events)
    assert exchange.json["stream_options"] == {
        "continuous_usage_stats": True,
        "include_usage": True,
    }
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.content == ANS_IMAGE
    assert sum(c.usage_metadata is not None for c in chunks) == 1
    final = events[-1]["usage"]
    assert whole.usage_metadata is not None
    assert whole.usage_metadata["input_tokens"] == final["prompt_tokens"]
    assert whole.usage_metadata["output_tokens"] == final["completion_tokens"]


def test_stop_sequence_cuts_the_answer(vllm_server: TinyVLMServer) -> None:
    model = make_model(vllm_server)
    answer = model.invoke("hi", stop=["tiny"])
    assert answer.content == ANS_DEFAULT.split("tiny")[0]
    streamed = "".join(str(c.content) for c in model.stream("hi", stop=["tiny"]))
    assert streamed == answer.content


# ----------------------------------------------------------------- vLLM's own error bodies


OVER_THE_CONTEXT = "hello " * (MAX_MODEL_LEN + 10)


ERRORS: dict[str, tuple[dict[str, Any], type[BaseException], str]] = {
    "unknown model": ({"model": "nobody/no-such-model"}, NotFoundError, "does not exist"),
    "max_tokens over the limit": (
        {"max_tokens": MAX_MODEL_LEN * 10},
        InvalidRequestError,
        "max_tokens",
    ),
}


def _check_error(error: BaseException, kind: type[BaseException], fragment: str) -> None:
    assert isinstance(error, kind)
    assert not isinstance(error, ContextOverflowError)
    assert fragment in str(error)


@pytest.mark.parametrize("case", ERRORS, ids=ERRORS)
def test_error_answers_and_the_model_keeps_working(vllm_server: TinyVLMServer, case: str) -> None:
    kwargs, kind, fragment = ERRORS[case]
    model = make_model(vllm_server)
    with pytest.raises(kind) as info:
        model.invoke("hi", **kwargs)
    _check_error(info.value, kind, fragment)
    assert model.invoke("hi").content == ANS_DEFAULT


@pytest.mark.parametrize("case", ERRORS, ids=ERRORS)
async def test_error_answers_and_the_model_keeps_working_async(
    vllm_server: TinyVLMServer, case: str
) -> None:
    kwargs, kind, fragment = ERRORS[case]
    model = make_model(vllm_server)
    with pytest.raises(kind) as info:
        await model.ainvoke("hi", **kwargs)
    _check_error(info.value, kind, fragment)
    assert (await model.ainvoke("hi")).content == ANS_DEFAULT


def test_prompt_over_max_model_len_is_a_context_overflow(vllm_server: TinyVLMServer) -> None:
    model = make_model(vllm_server)
    with pytest.raises(ContextOverflowError, match="maximum context length") as info:
        model.invoke(OVER_THE_CONTEXT)
    assert isinstance(info.value, InvalidRequestError)  # and the package's own class
    assert model.invoke("hi").content == ANS_DEFAULT


async def test_prompt_over_max_model_len_async(vllm_server: TinyVLMServer) -> None:
    model = make_model(vllm_server)
    with pytest.raises(ContextOverflowError, match="maximum context length"):
        await model.ainvoke(OVER_THE_CONTEXT)
    chunks = [c async for c in model.astream("hi")]
    assert "".join(str(c.content) for c in chunks) == ANS_DEFAULT


def _unreadable_image(host: ImageHost) -> list[HumanMessage]:
    """An image URL whose bytes are not an image (only the server can tell)."""
    image = {"type": "image", "url": host.url("not-an-image.png")}
    return [HumanMessage(content=[{"type": "text", "text": "What is it?"}, image])]


def test_image_vllm_cannot_decode_is_an_invalid_request(
    vllm_server: TinyVLMServer, image_host: ImageHost
) -> None:
    """vLLM answers 400 with its own message (transformers serve: a plain 500)."""
    model = make_model(vllm_server)
    question = _unreadable_image(image_host)
    with pytest.raises(InvalidRequestError) as info:
        model.invoke(question)
    assert (info.value.server_message or "").startswith("Failed to load image")
    assert model.invoke("hi").content == ANS_DEFAULT


async def test_image_vllm_cannot_decode_async(
    vllm_server: TinyVLMServer, image_host: ImageHost
) -> None:
    model = make_model(vllm_server)
    question = _unreadable_image(image_host)
    with pytest.raises(InvalidRequestError):
        await model.ainvoke(question)
    assert (await model.ainvoke("hi")).content == ANS_DEFAULT


# ------------------------------------------------------------------ telling vLLM apart


def test_vllm_routes_that_tell_it_apart(vllm_server: TinyVLMServer) -> None:
    """What a client can see before and after a request: no TGI ``/info``, ``owned_by:
    "vllm"`` in ``/v1/models`` (what the package probes), ``/version`` with only a version (a
    shape other servers share), and a ``vllm-`` system fingerprint on every answer."""
    base = vllm_server.url.removesuffix("/v1")
    version = httpx.get(f"{base}/version", timeout=10)
    assert version.status_code == 200 and set(version.json()) == {"version"}
    assert httpx.get(f"{base}/info", timeout=10).status_code == 404
    models = httpx.get(f"{vllm_server.url}/models", timeout=10).json()["data"]
    assert {m["owned_by"] for m in models} == {"vllm"}
    answer = make_model(vllm_server).invoke("hi")
    assert str(answer.response_metadata["system_fingerprint"]).startswith("vllm-")


def test_package_recognises_vllm(vllm_server: TinyVLMServer, proxy: RecordingProxy) -> None:
    model = _via(proxy, vllm_server)
    assert model._target.dialect.name == "openai" and not model._target.dialect_known
    model.bind_tools([get_weather]).invoke("Weather?")
    assert model._target.dialect.name == "vllm"
    assert [(e.method, e.path) for e in proxy.exchanges] == [
        ("GET", "/info"),
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
    ]
