"""Models pointed at the loopback chat server (``tests/servers/chat_server.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.servers.chat_server import ChatServer
from tests.support.closing import closed_after_the_test

T = TypeVar("T")


def make_model(server: ChatServer, **kwargs: object) -> ChatHuggingFaceVLM:
    """A model pointed at the loopback server; the router dialect needs an hf_ token."""
    params: dict[str, object] = {"model": "tiny/vlm", "base_url": server.url, "max_retries": 0}
    if server.dialect == "router":
        params["api_key"] = "hf_test_token"
    if server.dialect in ("tgi", "vllm"):
        params["backend"] = server.dialect
    params.update(kwargs)
    return closed_after_the_test(ChatHuggingFaceVLM(**params))  # type: ignore[arg-type]


def run_in_new_loop(model: ChatHuggingFaceVLM, call: Callable[[], Awaitable[T]]) -> T:
    """``asyncio.run(call())``, closing the client ``model`` made in that loop before the loop
    ends (an async client cannot outlive its loop: left open, its sockets warn when collected)."""

    async def run() -> T:
        async with model:
            return await call()

    return asyncio.run(run())
