"""Reasoning sent back to real servers, asserted from the server's side.

An agent loop's tool-call turn from a thinking model (its reasoning as LangChain writes it) goes
back with the next request as ``reasoning_content``. The tiny VLM's chat template renders a
history message's ``reasoning_content`` as ``<think>...</think>`` (as GLM's and Kimi's do), so
the prompt the server reports is longer by exactly those tokens when the reasoning goes back,
if the server hands it to the template: vLLM does; `transformers serve` 5.24 keeps only role,
content and tool calls of a history message, so there the prompt is the same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from tests.realserver.answers import ANS_TOOL_RESULT, TOOL_ARGS, TOOL_NAME
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.realserver import make_model
from tests.support.recording_proxy import RecordingProxy

pytestmark = pytest.mark.realserver

REASONING = "The user wants the weather in Paris, so I call the tool."


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


@contextlib.contextmanager
def recording(server: TinyVLMServer) -> Iterator[RecordingProxy]:
    """A recording proxy in front of ``server`` for the length of the block."""
    recorder = RecordingProxy(server.url.removesuffix("/v1"))
    try:
        yield recorder
    finally:
        recorder.close()


def _thinking_history() -> list[BaseMessage]:
    """A question, the tool-call turn a thinking model wrote (v1 reasoning block), the result."""
    call = {"name": TOOL_NAME, "args": TOOL_ARGS, "id": "call_1", "type": "tool_call"}
    turn = AIMessage(content=[{"type": "reasoning", "reasoning": REASONING}], tool_calls=[call])
    return [
        HumanMessage("What's the weather in Paris?"),
        turn,
        ToolMessage("It's sunny, 21 C.", tool_call_id="call_1"),
    ]


def _loop(server: TinyVLMServer) -> tuple[dict[str, Any], list[int], BaseMessage]:
    """The history sent with its reasoning and without: what the first request carried, the
    prompt tokens the server counted for each, and the answer."""
    with recording(server) as proxy:
        model = make_model(server, base_url=proxy.url).bind_tools([get_weather])
        answer = model.invoke(_thinking_history())
        bare = model.invoke(_thinking_history(), reasoning_in_history="never")
        sent = [exchange.json["messages"][1] for exchange in proxy.chat_requests()]
    assert "reasoning_content" not in sent[1]
    counts = [message.usage_metadata for message in (answer, bare)]
    return sent[0], [usage["input_tokens"] for usage in counts if usage is not None], answer


@pytest.mark.vllm
def test_vllm_renders_the_reasoning_sent_back(vllm_server: TinyVLMServer) -> None:
    sent, (with_reasoning, without), answer = _loop(vllm_server)
    assert sent["reasoning_content"] == REASONING
    assert sent["tool_calls"][0]["function"]["name"] == TOOL_NAME
    assert answer.content == ANS_TOOL_RESULT
    rendered = httpx.post(
        vllm_server.url.removesuffix("/v1") + "/tokenize",
        json={"model": vllm_server.model, "prompt": f"<think>{REASONING}</think>"},
        timeout=60,
    ).json()["count"]
    assert with_reasoning - without == rendered > 0


def test_transformers_serve_drops_the_reasoning_sent_back(tiny_vlm: TinyVLMServer) -> None:
    sent, (with_reasoning, without), answer = _loop(tiny_vlm)
    assert sent["reasoning_content"] == REASONING
    assert answer.content == ANS_TOOL_RESULT
    assert with_reasoning == without
