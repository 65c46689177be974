"""Models pointed at a real server (`transformers serve` or vLLM) with the tiny VLM, and a local
image host."""

from __future__ import annotations

import http.server
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import chat_models as standard_module

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.closing import closed_after_the_test
from tests.support.http_host import LoopbackHost


class ClosedModels:
    """Mixed into a standard integration suite: its ``model`` fixture closes the model in the
    test's own event loop when the test ends (an async client left open warns when collected)."""

    @pytest.fixture
    async def model(self, request: Any) -> AsyncIterator[BaseChatModel]:
        suite: Any = self  # a ChatModelIntegrationTests: its params are properties there
        extra_init_params = getattr(request, "param", None) or {}
        params = {
            **suite.standard_chat_model_params,
            **suite.chat_model_params,
            **extra_init_params,
        }
        async with ChatHuggingFaceVLM(**params) as model:
            yield model


def make_model(server: TinyVLMServer, **kwargs: object) -> ChatHuggingFaceVLM:
    """A model pointed at the tiny server: greedy, short answers, no retries unless asked."""
    params: dict[str, object] = {
        "model": server.model,
        "base_url": server.url,
        "max_retries": 0,
        "max_tokens": 24,
        "temperature": 0.0,
        "timeout": 60,
    }
    params.update(kwargs)
    return closed_after_the_test(ChatHuggingFaceVLM(**params))  # type: ignore[arg-type]


class ImageHost(LoopbackHost):
    """A plain HTTP server on 127.0.0.1 serving files from one folder (the servers fetch URLs)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(_quiet_handler(folder))
        self.folder = folder

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


def _quiet_handler(folder: Path) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def serve_standard_suite_images_locally(host: ImageHost, monkeypatch: pytest.MonkeyPatch) -> None:
    """LangChain's standard suite downloads its fixture image and PDF with ``httpx.get``; serve
    them from 127.0.0.1 instead (the machine is offline; the PDF is a one-page document like the
    suite's dummy.pdf)."""

    def get(url: str, **kwargs: Any) -> httpx.Response:
        local = "dummy.pdf" if url.endswith(".pdf") else "diagram.png"
        return httpx.get(host.url(local), timeout=10.0)

    monkeypatch.setattr(standard_module, "httpx", types.SimpleNamespace(get=get))
