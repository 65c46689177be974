"""End to end against real servers running the tiny VLM: `transformers serve` and vLLM
(servers written by others). Tests that take ``real_server`` run against each; where the two
servers differ, a test names its server (vLLM's own cases: test_vllm.py).

The tiny model answers by fixed rules (tests/realserver/answers.py): one answer when the last
user message carries an image, another without one, a real tool call when tools are offered,
a reply after a tool result. So each test can assert on what the model received.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from langchain_hf_vlm import ChatHuggingFaceVLM, image_block
from langchain_hf_vlm.errors import APIResponseError, InvalidContentError, NotFoundError
from tests.realserver.answers import (
    ANS_DEFAULT,
    ANS_IMAGE,
    ANS_TOOL_RESULT,
    TOOL_ARGS,
    TOOL_NAME,
)
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.realserver import ImageHost, make_model

pytestmark = pytest.mark.realserver


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _ask(*blocks: dict[str, Any], text: str = "What is in this picture?") -> list[HumanMessage]:
    return [HumanMessage(content=[{"type": "text", "text": text}, *blocks])]


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


# ------------------------------------------------------------------------- images arrive


def _image_blocks(host: ImageHost) -> dict[str, dict[str, Any]]:
    """Every accepted image block shape (README, "Accepted image blocks"), on real images."""
    jpg = host.folder / "photo.jpg"
    png = host.folder / "diagram.png"
    jpg_b64, png_b64 = _b64(jpg), _b64(png)
    url = host.url("photo.jpg")
    return {
        "openai image_url dict": {"type": "image_url", "image_url": {"url": url}},
        "openai image_url + detail": {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{png_b64}", "detail": "low"},
        },
        "openai bare-string image_url": {"type": "image_url", "image_url": url},
        "v1 url": {"type": "image", "url": url},
        "v1 base64": {"type": "image", "base64": jpg_b64, "mime_type": "image/jpeg"},
        "v0 url": {"type": "image", "source_type": "url", "url": url},
        "v0 base64": {
            "type": "image",
            "source_type": "base64",
            "data": png_b64,
            "mime_type": "image/png",
        },
        "anthropic base64": {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": jpg_b64},
        },
        "anthropic url": {"type": "image", "source": {"type": "url", "url": url}},
        "bedrock bytes": {
            "type": "image",
            "image": {"format": "png", "source": {"bytes": png.read_bytes()}},
        },
        "image_block(path) webp": image_block(host.folder / "photo.webp"),
        "image_block(bytes) gif": image_block((host.folder / "photo.gif").read_bytes()),
        "image_block(url)": image_block(host.url("photo.jpg")),
    }


BLOCK_NAMES = [
    "openai image_url dict",
    "openai image_url + detail",
    "openai bare-string image_url",
    "v1 url",
    "v1 base64",
    "v0 url",
    "v0 base64",
    "anthropic base64",
    "anthropic url",
    "bedrock bytes",
    "image_block(path) webp",
    "image_block(bytes) gif",
    "image_block(url)",
]


@pytest.mark.parametrize("shape", BLOCK_NAMES)
def test_every_accepted_image_block_reaches_the_model_as_an_image(
    real_server: TinyVLMServer, image_host: ImageHost, shape: str
) -> None:
    block = _image_blocks(image_host)[shape]
    answer = make_model(real_server).invoke(_ask(block))
    assert answer.content == ANS_IMAGE
    # the server counted the image's tokens: 16 image tokens more than the text alone
    text_only = make_model(real_server).invoke(_ask())
    assert text_only.content == ANS_DEFAULT
    assert answer.usage_metadata is not None and text_only.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == text_only.usage_metadata["input_tokens"] + 16


def test_client_side_fetch_sends_the_image_inline(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    model = make_model(real_server, fetch_image_urls=True, image_fetch_allow_private=True)
    answer = model.invoke(_ask({"type": "image", "url": image_host.url("photo.jpg")}))
    assert answer.content == ANS_IMAGE


def test_two_images_in_one_message(real_server: TinyVLMServer, image_host: ImageHost) -> None:
    blocks = _image_blocks(image_host)
    one = make_model(real_server).invoke(_ask(blocks["v1 base64"]))
    two = make_model(real_server).invoke(_ask(blocks["v1 base64"], blocks["v1 url"]))
    assert two.content == ANS_IMAGE
    assert one.usage_metadata is not None and two.usage_metadata is not None
    assert two.usage_metadata["input_tokens"] == one.usage_metadata["input_tokens"] + 16


def test_large_photo_is_downscaled_and_answered(real_server: TinyVLMServer, tmp_path: Path) -> None:
    """A 4000x3000 camera JPEG (about 2-3 MB, over TGI's 2 MB body limit as base64) goes
    through the image pipeline with the default limits and reaches the server as an image."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (4000, 3000), (30, 80, 150))
    draw = ImageDraw.Draw(img)
    for i in range(0, 4000, 97):
        draw.line((i, 0, 4000 - i, 3000), fill=(i % 255, 120, 255 - i % 255), width=9)
    path = tmp_path / "camera.jpg"
    img.save(path, "JPEG", quality=92)
    model = make_model(real_server)
    answer = model.invoke(_ask(image_block(path)))
    assert answer.content == ANS_IMAGE
    assert model._pipeline.stats.decoded == 1  # it was resized, not sent as it was
    sent = image_block(path)["base64"]
    assert len(sent) > 1_000_000  # the original would have been a large request


def test_image_in_an_earlier_turn_is_sent_again(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    blocks = _image_blocks(image_host)
    model = make_model(real_server)
    first = model.invoke(_ask(blocks["v1 base64"]))
    history = [*_ask(blocks["v1 base64"]), first, HumanMessage("And now?")]
    second = model.invoke(history)
    assert second.content == ANS_DEFAULT  # the last user message has no image
    assert first.usage_metadata is not None and second.usage_metadata is not None
    assert second.usage_metadata["input_tokens"] > first.usage_metadata["input_tokens"] + 16


# ------------------------------------------------------------------ four ways, with usage


def _server_usage(tiny: TinyVLMServer, messages: list[dict[str, Any]]) -> dict[str, int]:
    """The server's own token counts for the same request, asked for without the package."""
    body = {"model": tiny.model, "messages": messages, "max_tokens": 24, "temperature": 0.0}
    response = httpx.post(f"{tiny.url}/chat/completions", json=body, timeout=60)
    response.raise_for_status()
    usage: dict[str, int] = response.json()["usage"]
    return usage


def _expected_usage(tiny: TinyVLMServer, host: ImageHost) -> dict[str, int]:
    data = f"data:image/jpeg;base64,{_b64(host.folder / 'photo.jpg')}"
    return _server_usage(
        tiny,
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": data}},
                ],
            }
        ],
    )


def _check_usage(message: AIMessage, usage: dict[str, int]) -> None:
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == usage["prompt_tokens"]
    assert message.usage_metadata["output_tokens"] == usage["completion_tokens"]
    assert message.usage_metadata["total_tokens"] == usage["total_tokens"]


def _photo(host: ImageHost) -> dict[str, Any]:
    return {"type": "image", "base64": _b64(host.folder / "photo.jpg"), "mime_type": "image/jpeg"}


def test_invoke_usage_matches_the_servers_counts(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    answer = make_model(real_server).invoke(_ask(_photo(image_host)))
    assert answer.content == ANS_IMAGE
    _check_usage(answer, _expected_usage(real_server, image_host))
    assert answer.response_metadata["finish_reason"] == "stop"


async def test_ainvoke_usage_matches_the_servers_counts(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    async with make_model(real_server) as model:
        answer = await model.ainvoke(_ask(_photo(image_host)))
    assert answer.content == ANS_IMAGE
    _check_usage(answer, _expected_usage(real_server, image_host))


def test_stream_usage_matches_the_servers_counts(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    chunks = list(make_model(real_server).stream(_ask(_photo(image_host))))
    assert len(chunks) > 3  # streamed token by token, not in one piece
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.content == ANS_IMAGE
    assert sum(c.usage_metadata is not None for c in chunks) == 1  # counted once
    _check_usage(whole, _expected_usage(real_server, image_host))
    assert whole.response_metadata["finish_reason"] == "stop"


async def test_astream_usage_matches_the_servers_counts(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    async with make_model(real_server) as model:
        chunks = [c async for c in model.astream(_ask(_photo(image_host)))]
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.content == ANS_IMAGE
    _check_usage(whole, _expected_usage(real_server, image_host))


async def test_concurrent_ainvoke_on_one_instance(real_server: TinyVLMServer) -> None:
    async with make_model(real_server) as model:
        answers = await asyncio.gather(*(model.ainvoke(f"Hello number {i}") for i in range(6)))
    assert [a.content for a in answers] == [ANS_DEFAULT] * 6


# ------------------------------------------------------------------------------- tools


def _tool_round_trip(model: ChatHuggingFaceVLM, photo: dict[str, Any]) -> None:
    with_tools = model.bind_tools([get_weather])
    question = _ask(photo, text="What's the weather where this photo was taken?")
    call_message = with_tools.invoke(question)
    assert isinstance(call_message, AIMessage)
    assert [(c["name"], c["args"]) for c in call_message.tool_calls] == [(TOOL_NAME, TOOL_ARGS)]
    call = call_message.tool_calls[0]
    assert call["id"]
    result = get_weather(**call["args"])
    final = with_tools.invoke(
        [*question, call_message, ToolMessage(result, tool_call_id=call["id"])]
    )
    assert final.content == ANS_TOOL_RESULT
    assert final.tool_calls == []


def test_tool_call_round_trip(real_server: TinyVLMServer, image_host: ImageHost) -> None:
    _tool_round_trip(make_model(real_server), _photo(image_host))


def test_streamed_tool_call_matches_the_invoked_one(real_server: TinyVLMServer) -> None:
    with_tools = make_model(real_server).bind_tools([get_weather])
    whole = None
    for chunk in with_tools.stream("What's the weather in Paris?"):
        assert isinstance(chunk, AIMessageChunk)
        whole = chunk if whole is None else whole + chunk
    assert isinstance(whole, AIMessageChunk)
    assert [(c["name"], c["args"]) for c in whole.tool_calls] == [(TOOL_NAME, TOOL_ARGS)]
    assert whole.response_metadata["finish_reason"] == "tool_calls"
    invoked = with_tools.invoke("What's the weather in Paris?")
    assert [c["args"] for c in invoked.tool_calls] == [c["args"] for c in whole.tool_calls]


def test_tool_result_with_an_image(real_server: TinyVLMServer, image_host: ImageHost) -> None:
    """A tool that returns an image: chat-completion tool messages carry text only, so the image
    follows in a user message right after the tool result. The model sees it (16 more input
    tokens) and, the last message being a user turn with tools offered, calls the tool again."""
    with_tools = make_model(real_server).bind_tools([get_weather])
    question = [HumanMessage("Show me the weather map for Paris.")]
    call_message = with_tools.invoke(question)
    call_id = call_message.tool_calls[0]["id"]
    text_result = ToolMessage("sunny", tool_call_id=call_id)
    image_result = ToolMessage(
        [{"type": "text", "text": "sunny"}, _photo(image_host)], tool_call_id=call_id
    )
    plain = with_tools.invoke([*question, call_message, text_result])
    with_image = with_tools.invoke([*question, call_message, image_result])
    assert plain.content == ANS_TOOL_RESULT
    assert [(c["name"], c["args"]) for c in with_image.tool_calls] == [(TOOL_NAME, TOOL_ARGS)]
    assert plain.usage_metadata is not None and with_image.usage_metadata is not None
    assert with_image.usage_metadata["input_tokens"] > plain.usage_metadata["input_tokens"] + 16


# ------------------------------------------------------------------- errors, and recovery


def test_malformed_image_is_refused_before_sending(real_server: TinyVLMServer) -> None:
    model = make_model(real_server)
    bad = {"type": "image", "base64": base64.b64encode(b"not an image").decode()}
    with pytest.raises(InvalidContentError, match=r"^message 0, content block 1: image 1 "):
        model.invoke(_ask({**bad, "mime_type": "image/png"}))
    assert model.invoke("hi").content == ANS_DEFAULT


def test_image_the_server_cannot_decode_is_an_api_error_and_the_model_recovers(
    tiny_vlm: TinyVLMServer, image_host: ImageHost
) -> None:
    """A URL whose bytes are not an image: the server fails (a plain-text 500 from uvicorn)
    and drops the kept-alive connection; the next call on the same instance works."""
    model = make_model(tiny_vlm)
    with pytest.raises(APIResponseError) as info:
        model.invoke(_ask({"type": "image", "url": image_host.url("not-an-image.png")}))
    assert info.value.response is not None and info.value.response.status_code >= 400
    assert model.invoke("hi").content == ANS_DEFAULT
    chunks = list(model.stream("hi"))
    assert "".join(str(c.content) for c in chunks) == ANS_DEFAULT


async def test_server_error_then_async_calls_recover(tiny_vlm: TinyVLMServer) -> None:
    """`stop` crashes this server (a transformers 5.24 bug with LLaVA processors: HTTP 500);
    the async client recovers from the dropped connection too."""
    async with make_model(tiny_vlm) as model:
        for _ in range(2):
            with pytest.raises(APIResponseError) as info:
                await model.ainvoke("hi", stop=["x"])
            assert info.value.response is not None and info.value.response.status_code == 500
            assert (await model.ainvoke("hi")).content == ANS_DEFAULT
            chunks = [c async for c in model.astream("hi")]
            assert "".join(str(c.content) for c in chunks) == ANS_DEFAULT


def test_unknown_model_is_an_error_and_the_model_recovers(tiny_vlm: TinyVLMServer) -> None:
    """transformers serve 5.24 answers a model it cannot load with a plain-text 500 (not a 404),
    so the package can only report the server's error: an APIResponseError with status 500."""
    model = make_model(tiny_vlm)
    with pytest.raises(APIResponseError) as info:
        model.invoke("hi", model="nobody/no-such-model")
    assert not isinstance(info.value, NotFoundError)
    assert info.value.response is not None and info.value.response.status_code == 500
    assert model.invoke("hi").content == ANS_DEFAULT


def test_image_pipeline_output_is_a_valid_image_for_the_server(
    real_server: TinyVLMServer, image_host: ImageHost
) -> None:
    """A PIL image straight from memory (RGBA: sent as PNG) is decoded by the real server."""
    from PIL import Image

    img = Image.new("RGBA", (300, 200), (10, 200, 30, 128))
    answer = make_model(real_server).invoke(_ask(image_block(img)))
    assert answer.content == ANS_IMAGE
