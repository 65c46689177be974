"""Agents and the examples against `transformers serve` running the tiny VLM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from tests.realserver.answers import ANS_DEFAULT, ANS_IMAGE, ANS_TOOL_RESULT, TOOL_ARGS, TOOL_NAME
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.realserver import ImageHost, make_model

pytestmark = pytest.mark.realserver

REPO = Path(__file__).resolve().parents[2]


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def _question(host: ImageHost) -> HumanMessage:
    return HumanMessage(
        content=[
            {"type": "text", "text": "Which city is shown here? What is its weather?"},
            {"type": "image", "url": host.url("photo.jpg")},
        ]
    )


def test_create_agent_runs_a_full_tool_loop(tiny_vlm: TinyVLMServer, image_host: ImageHost) -> None:
    agent = create_agent(make_model(tiny_vlm), tools=[get_weather])
    result = agent.invoke({"messages": [_question(image_host)]})
    human, call, tool_result, final = result["messages"]
    assert isinstance(human, HumanMessage)
    assert isinstance(call, AIMessage)
    assert [(c["name"], c["args"]) for c in call.tool_calls] == [(TOOL_NAME, TOOL_ARGS)]
    assert isinstance(tool_result, ToolMessage)
    assert tool_result.tool_call_id == call.tool_calls[0]["id"]
    assert tool_result.content == "It is sunny and 21 C in Paris."
    assert isinstance(final, AIMessage) and final.content == ANS_TOOL_RESULT


async def test_create_agent_async_streams_tokens_in_messages_mode(
    tiny_vlm: TinyVLMServer, image_host: ImageHost
) -> None:
    async with make_model(tiny_vlm) as model:
        agent = create_agent(model, tools=[get_weather])
        chunks: list[Any] = [  # (message, metadata) pairs
            item
            async for item in agent.astream(
                {"messages": [_question(image_host)]}, stream_mode="messages"
            )
        ]
    from_model = [m for m, meta in chunks if meta.get("langgraph_node") == "model"]
    assert all(isinstance(m, AIMessageChunk) for m in from_model)
    final_tokens = [m.content for m in from_model if isinstance(m.content, str) and m.content]
    assert "".join(final_tokens) == ANS_TOOL_RESULT
    assert len(final_tokens) > 3  # token by token, not the whole answer at once
    tool_messages = [m for m, _ in chunks if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_messages] == ["It is sunny and 21 C in Paris."]


def test_agent_without_tools_answers_about_the_image(
    tiny_vlm: TinyVLMServer, image_host: ImageHost
) -> None:
    agent = create_agent(make_model(tiny_vlm), tools=[])
    result = agent.invoke({"messages": [_question(image_host)]})
    assert result["messages"][-1].content == ANS_IMAGE


# ------------------------------------------------------------------------------- examples


def _run_example(script: str, *args: str, timeout: float = 300, folder: str = "examples") -> str:
    """Run an example as a user would (no HF token), return what it printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "BASE_URL", "MODEL")}
    env["HF_TOKEN_PATH"] = str(REPO / ".cache" / "no-hf-login" / "token")  # nor a login
    done = subprocess.run(
        [sys.executable, str(REPO / folder / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _against(tiny: TinyVLMServer) -> tuple[str, ...]:
    return ("--base-url", tiny.url, "--model", tiny.model)


def test_quickstart_against_the_real_server(tiny_vlm: TinyVLMServer) -> None:
    out = _run_example("quickstart.py", *_against(tiny_vlm))
    assert f"answer: {ANS_IMAGE}\n" in out
    assert "usage: {'input_tokens':" in out


def test_agent_example_against_the_real_server(tiny_vlm: TinyVLMServer) -> None:
    out = _run_example("agent_tools.py", *_against(tiny_vlm))
    assert f"ai: {ANS_TOOL_RESULT}" in out
    assert "tool: It is sunny and 21 C in Paris." in out


def test_lcel_example_against_the_real_server(tiny_vlm: TinyVLMServer) -> None:
    out = _run_example("lcel_chain.py", *_against(tiny_vlm))
    assert out.count(ANS_IMAGE) == 3
    assert ANS_DEFAULT not in out


def test_demo_offline_default_uses_the_tiny_model() -> None:
    """`make demo` with no token and no --base-url: scripts/demo.py starts the tiny model, runs
    the quickstart against it and says plainly where the answer comes from and how to use a real
    model."""
    out = _run_example("demo.py", timeout=600, folder="scripts")
    assert "tiny test model" in out
    assert "HF_TOKEN" in out and "--base-url" in out
    assert f"answer: {ANS_IMAGE}\n" in out
    assert "usage: {'input_tokens':" in out
