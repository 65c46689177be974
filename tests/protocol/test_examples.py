"""The examples run end to end against a server given by --base-url."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.chat_server import ChatServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, server: ChatServer) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--base-url", server.url, "--model", "tiny/vlm"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("dialect", ["vllm"])
def test_quickstart_streams_answer_and_usage(server: ChatServer) -> None:
    out = _run("quickstart.py", server)
    assert "answer: images=1; text=Describe this image in one sentence." in out
    assert "usage: {'input_tokens': 16, 'output_tokens': 7, 'total_tokens': 23}" in out
    assert server.requests[-1].json["stream"] is True


@pytest.mark.parametrize("dialect", ["vllm"])
def test_lcel_chain_batches_images(server: ChatServer) -> None:
    out = _run("lcel_chain.py", server)
    assert out.count("images=1; text=What is in this image?") == 3
    assert len(server.requests) == 3


@pytest.mark.parametrize("dialect", ["vllm"])
def test_agent_example_runs(server: ChatServer) -> None:
    out = _run("agent_tools.py", server)
    assert "ai: images=1; text=Which city is shown here?" in out
    assert server.requests[-1].json["tools"][0]["function"]["name"] == "get_weather"
