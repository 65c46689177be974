"""LangChain's standard integration suite against a real server running the tiny VLM, written once
for both servers (``transformers serve`` and vLLM).

A server's suite names its session fixture, the model parameters it adds, and its expected
failures: a table from the suite's test name to the reason (and the error it must fail with). The
root conftest turns each entry into a strict ``xfail`` at collection, so a test that starts to
pass fails the run and the table cannot go stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.realserver.tiny_server import ALT_MODEL_ID, TinyVLMServer
from tests.support.capabilities import VLMCapabilities
from tests.support.realserver import ClosedModels, ImageHost, serve_standard_suite_images_locally


@dataclass(frozen=True)
class ExpectedFailure:
    """Why a standard test fails against this server; ``raises``: the only error it may fail with."""

    reason: str
    raises: type[BaseException] | None = None


class TinyVLMStandardSuite(ClosedModels, VLMCapabilities, ChatModelIntegrationTests):
    """The suite against the server of the session fixture ``server_fixture``."""

    server_fixture: ClassVar[str]
    extra_params: ClassVar[Mapping[str, Any]] = {}
    expected_failures: ClassVar[Mapping[str, ExpectedFailure]] = {}
    _server: TinyVLMServer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # An entry for a test the suite no longer has would silently expect nothing.
        unknown = sorted(name for name in cls.expected_failures if not hasattr(cls, name))
        if unknown:
            raise TypeError(
                f"{cls.__name__}.expected_failures names no test of the suite: {unknown}"
            )

    @pytest.fixture(autouse=True)
    def _local_servers(
        self, request: pytest.FixtureRequest, image_host: ImageHost, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        type(self)._server = request.getfixturevalue(self.server_fixture)
        serve_standard_suite_images_locally(image_host, monkeypatch)

    @property
    def chat_model_class(self) -> type[ChatHuggingFaceVLM]:
        return ChatHuggingFaceVLM

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": self._server.model,
            "base_url": self._server.url,
            "max_retries": 0,
            **self.extra_params,
        }

    @property
    def model_override_value(self) -> str:
        return ALT_MODEL_ID  # the same tiny model, served under a second name
