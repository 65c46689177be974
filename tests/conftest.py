"""Fixtures for every tier, in one place. Helpers that tests import are in ``tests/support/``.

- every test but the live tier's: no ambient HF token or login (``_no_ambient_token``);
- Hypothesis: no deadline and no "too slow" check (a busy machine is not a failure);
- unit tier: a package without Pillow (``no_pillow``);
- protocol tier: the loopback chat server, per dialect (``dialect``, ``server``) or one dialect
  (``vllm``, ``tgi``);
- real-server tier: `transformers serve` with the tiny VLM (``tiny_vlm``, once per session),
  vLLM with the same model (``vllm_server``, marker ``vllm``; ``make vllm``), each in turn
  (``real_server``), and an image host on 127.0.0.1 (``image_host``); a failing test shows the end
  of each running server's log.
- the standard suites: each expected failure in a suite's table is a strict xfail with its reason
  (``tests/support/standard_suite.py``).

A tier is skipped only on a developer machine without its serving environment; under CI (``CI``
set) a missing environment is an error, so a tier can never silently not run. The vLLM tests are
required likewise when ``LANGCHAIN_HF_VLM_VLLM_VENV`` (which ``make`` sets) names the venv.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from huggingface_hub import constants
from hypothesis import HealthCheck, settings

from langchain_hf_vlm._media import codec
from tests.realserver.tiny_server import (
    ServeEnvironmentMissing,
    TinyModel,
    TinyVLMServer,
    ensure_model,
)
from tests.realserver.vllm_server import VLLMServer
from tests.servers.chat_server import DIALECTS, ChatServer
from tests.support.closing import close_made_models
from tests.support.media import handwritten_pdf
from tests.support.pngs import tiny_png
from tests.support.realserver import ImageHost

_SERVERS: list[TinyVLMServer] = []

# No wall-clock bound in tests: Hypothesis' default deadline (200 ms per example) and its
# "too slow" health check fail a property test that waited for the CPU on a busy machine.
settings.register_profile(
    "no-wall-clock", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("no-wall-clock")


@pytest.fixture(autouse=True)
async def _close_loopback_models() -> AsyncIterator[None]:
    """The models the helpers' ``make_model`` built for a test are closed after it, in its
    event loop (``tests/support/closing.py``)."""
    yield
    await close_made_models()


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


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package behaves as where Pillow is not installed (``_media.codec.has_pillow``)."""
    monkeypatch.setattr(codec, "has_pillow", lambda: False)


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


REAL_SERVERS = ["transformers", pytest.param("vllm", marks=pytest.mark.vllm)]


@pytest.fixture(scope="session", params=REAL_SERVERS)
def real_server(request: pytest.FixtureRequest) -> TinyVLMServer:
    """Each real server in turn, for the tests whose behaviour is the same on both."""
    fixture = "tiny_vlm" if request.param == "transformers" else "vllm_server"
    server: TinyVLMServer = request.getfixturevalue(fixture)
    return server


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
    """The tiny model's fixture images, a PNG diagram and a one-page PDF, served over HTTP from
    127.0.0.1."""
    folder = tmp_path_factory.mktemp("images")
    for path in tiny_model.images.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "diagram.png").write_bytes(tiny_png(64, 48))
    (folder / "dummy.pdf").write_bytes(handwritten_pdf("Dummy PDF file"))
    (folder / "not-an-image.png").write_bytes(b"<html>this is not an image</html>")
    host = ImageHost(folder)
    yield host
    host.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A standard suite's expected failures (``tests/support/standard_suite.py``) are strict
    xfails, each with its reason."""
    for item in items:
        failures = getattr(getattr(item, "cls", None), "expected_failures", {})
        expected = failures.get(getattr(item, "originalname", item.name))
        if expected is not None:
            mark = pytest.mark.xfail(reason=expected.reason, raises=expected.raises, strict=True)
            item.add_marker(mark)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing test shows the end of each running server's log."""
    report = yield
    if report.failed and _SERVERS:
        for server in _SERVERS:
            report.sections.append((f"{server.name} log ({server.log_path})", server.log_tail()))
    return report
