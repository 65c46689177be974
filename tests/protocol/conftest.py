"""Fixtures for tests over real HTTP against the loopback chat server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huggingface_hub import constants

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.servers.chat_server import ChatServer


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the developer's own HF token or login."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path_factory.mktemp("hf") / "token"))


@pytest.fixture(params=["router", "tgi", "vllm", "transformers"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(dialect: str) -> Iterator[ChatServer]:
    with ChatServer(dialect) as srv:
        yield srv


def make_model(server: ChatServer, **kwargs: object) -> ChatHuggingFaceVLM:
    """A model pointed at the loopback server; the router dialect needs an hf_ token."""
    params: dict[str, object] = {"model": "tiny/vlm", "base_url": server.url, "max_retries": 0}
    if server.dialect == "router":
        params["api_key"] = "hf_test_token"
    if server.dialect in ("tgi", "vllm"):
        params["backend"] = server.dialect
    params.update(kwargs)
    return ChatHuggingFaceVLM(**params)  # type: ignore[arg-type]
