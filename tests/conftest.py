"""Fixtures for every tier, in one place. Helpers that tests import are in ``tests/support/``.

- every test but the live tier's: no ambient HF token or login (``_no_ambient_token``);
- protocol tier: the loopback chat server, per dialect (``dialect``, ``server``) or one dialect
  (``vllm``, ``tgi``);
- real-server tier: `transformers serve` with the tiny VLM (``tiny_vlm``, once per session) and
  an image host on 127.0.0.1 (``image_host``); a failing test shows the end of the server's log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from huggingface_hub import constants

from tests.media import handwritten_pdf
from tests.pngs import tiny_png
from tests.realserver.tiny_server import ServeEnvironmentMissing, TinyVLMServer
from tests.servers.chat_server import DIALECTS, ChatServer
from tests.support.realserver import ImageHost

_SERVERS: list[TinyVLMServer] = []


@pytest.fixture(autouse=True)
def _no_ambient_token(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No test sees the developer's own HF token or login; the live tier needs the token."""
    if request.node.get_closest_marker("live"):
        return
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path_factory.mktemp("hf") / "token"))


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(dialect: str) -> Iterator[ChatServer]:
    with ChatServer(dialect) as srv:
        yield srv


@pytest.fixture
def vllm() -> Iterator[ChatServer]:
    with ChatServer("vllm") as srv:
        yield srv


@pytest.fixture
def tgi() -> Iterator[ChatServer]:
    with ChatServer("tgi") as srv:
        yield srv


@pytest.fixture(scope="session")
def tiny_vlm() -> Iterator[TinyVLMServer]:
    """Skipped only on a developer machine without the serving environment; under CI (``CI``
    set) a missing environment is an error, so the tier can never silently not run."""
    try:
        server = TinyVLMServer()
    except ServeEnvironmentMissing as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with server:
        _SERVERS.append(server)
        yield server
        _SERVERS.remove(server)


@pytest.fixture(scope="session")
def image_host(
    tiny_vlm: TinyVLMServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImageHost]:
    """The tiny model's fixture images, a PNG diagram and a one-page PDF, served over HTTP from
    127.0.0.1."""
    folder = tmp_path_factory.mktemp("images")
    for path in tiny_vlm.images.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "diagram.png").write_bytes(tiny_png(64, 48))
    (folder / "dummy.pdf").write_bytes(handwritten_pdf("Dummy PDF file"))
    (folder / "not-an-image.png").write_bytes(b"<html>this is not an image</html>")
    host = ImageHost(folder)
    yield host
    host.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing test shows the end of the tiny server's log."""
    report = yield
    if report.failed and _SERVERS:
        for server in _SERVERS:
            report.sections.append(
                (f"transformers serve log ({server.log_path})", server.log_tail())
            )
    return report
