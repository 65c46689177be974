"""Fixtures for the real-server tier: `transformers serve` and vLLM with the tiny VLM, and an
image host.

The tier is skipped only on a developer machine without the serving environment; under CI
(``CI`` set) a missing environment is an error, so the tier can never silently not run. The
vLLM tests (marker ``vllm``; ``make vllm``) are skipped likewise without the vLLM environment,
unless ``CI`` or ``LANGCHAIN_HF_VLM_VLLM_VENV`` (which ``make`` sets) says it must be there.
"""

from __future__ import annotations

import http.server
import os
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import constants
from langchain_tests.integration_tests import chat_models as standard_module

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.pngs import tiny_png
from tests.realserver.tiny_server import (
    ServeEnvironmentMissing,
    TinyModel,
    TinyVLMServer,
    ensure_model,
)
from tests.realserver.vllm_server import VLLMServer

_SERVERS: list[TinyVLMServer] = []


def _running(server_class: type[TinyVLMServer], required: bool) -> Iterator[TinyVLMServer]:
    try:
        server = server_class()
    except ServeEnvironmentMissing as exc:
        if required:
            raise
        pytest.skip(str(exc))
    with server:
        _SERVERS.append(server)
        yield server
        _SERVERS.remove(server)


@pytest.fixture(scope="session")
def tiny_vlm() -> Iterator[TinyVLMServer]:
    yield from _running(TinyVLMServer, required=bool(os.environ.get("CI")))


@pytest.fixture(scope="session")
def vllm_server() -> Iterator[TinyVLMServer]:
    """vLLM with the tiny VLM (one per session: it takes about a minute to start)."""
    required = bool(os.environ.get("CI") or os.environ.get("LANGCHAIN_HF_VLM_VLLM_VENV"))
    yield from _running(VLLMServer, required=required)


SERVERS = ["transformers", pytest.param("vllm", marks=pytest.mark.vllm)]


@pytest.fixture(scope="session", params=SERVERS)
def real_server(request: pytest.FixtureRequest) -> TinyVLMServer:
    """Each real server in turn, for the tests whose behaviour is the same on both."""
    fixture = "tiny_vlm" if request.param == "transformers" else "vllm_server"
    server: TinyVLMServer = request.getfixturevalue(fixture)
    return server


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the developer's own HF token or login."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path_factory.mktemp("hf") / "token"))


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
    return ChatHuggingFaceVLM(**params)  # type: ignore[arg-type]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing test shows the end of the server's log."""
    report = yield
    if report.failed and _SERVERS:
        for server in _SERVERS:
            report.sections.append((f"{server.name} log ({server.log_path})", server.log_tail()))
    return report


class ImageHost:
    """A plain HTTP server on 127.0.0.1 serving files from one folder (the servers fetch URLs)."""

    def __init__(self, folder: Path) -> None:
        handler = _quiet_handler(folder)
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.folder = folder
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _quiet_handler(folder: Path) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def tiny_model() -> TinyModel:
    """The built tiny VLM (its folder, fixture images), whichever server serves it."""
    try:
        return ensure_model()
    except ServeEnvironmentMissing as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def image_host(
    tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImageHost]:
    """The tiny model's fixture images plus a PNG diagram, served over HTTP from 127.0.0.1."""
    folder = tmp_path_factory.mktemp("images")
    for path in tiny_model.images.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "diagram.png").write_bytes(tiny_png(64, 48))
    (folder / "not-an-image.png").write_bytes(b"<html>this is not an image</html>")
    host = ImageHost(folder)
    yield host
    host.close()


def serve_standard_suite_images_locally(host: ImageHost, monkeypatch: pytest.MonkeyPatch) -> None:
    """LangChain's standard suite downloads its fixture images with ``httpx.get``; serve them
    from 127.0.0.1 instead (the machine is offline)."""
    local_png = host.url("diagram.png")

    def get(url: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(local_png, timeout=10.0)

    monkeypatch.setattr(standard_module, "httpx", types.SimpleNamespace(get=get))
