"""Models pointed at the loopback chat server (``tests/servers/chat_server.py``)."""

from __future__ import annotations

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.servers.chat_server import ChatServer


def make_model(server: ChatServer, **kwargs: object) -> ChatHuggingFaceVLM:
    """A model pointed at the loopback server; the router dialect needs an hf_ token."""
    params: dict[str, object] = {"model": "tiny/vlm", "base_url": server.url, "max_retries": 0}
    if server.dialect == "router":
        params["api_key"] = "hf_test_token"
    if server.dialect in ("tgi", "vllm"):
        params["backend"] = server.dialect
    params.update(kwargs)
    return ChatHuggingFaceVLM(**params)  # type: ignore[arg-type]
