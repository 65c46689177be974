"""LangChain's standard integration suite against vLLM serving the tiny VLM.

The same package flags (tests/capabilities.py), model and local image fixtures as against
`transformers serve` (test_standard_integration.py); what differs is the server. vLLM constrains
decoding to ``response_format`` and ``tool_choice`` (and, served with ``--tool-strict-level
parameter``, tool arguments to their schemas as if every tool were strict) and honours ``stop``,
so those tests pass here. What still needs a model that reads the prompt (pick the suite's tool by its description,
fill its arguments) is ``xfail`` (strict: a pass would be noticed) with that reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.errors import APIError
from tests.capabilities import VLMCapabilities
from tests.realserver.tiny_server import ALT_MODEL_ID, TinyVLMServer
from tests.support.realserver import (
    ClosedModels,
    ImageHost,
    serve_standard_suite_images_locally,
)

pytestmark = [pytest.mark.realserver, pytest.mark.vllm]

NEEDS_CAPABLE_MODEL = (
    "needs a capable model: the tiny test VLM answers by fixed rules (offered tools, it calls "
    "get_weather(city='Paris')), so it cannot pick the suite's tool or fill its arguments; vLLM "
    "enforces tool_choice but not which tool an 'auto' answer calls"
)
UNBOUNDED_STRING_ARGUMENT = (
    "needs a capable model: served with --tool-strict-level parameter, vLLM 0.32 pins the "
    "arguments to the schema (test_tool_calling_with_no_arguments passes), but the suite's "
    "get_weather(location: str) takes any string, and the tiny VLM, taught get_weather(city) "
    "only, writes one string until max_tokens, so the call never closes"
)
JSON_MODE_HAS_NO_KEYS = (
    "needs a capable model: json_mode sends no schema (response_format json_object), so vLLM "
    "enforces a JSON object but not the 'setup'/'punchline' keys the prompt asks for; the tiny "
    "VLM writes {'name': ...} (json_schema, where vLLM enforces the keys, passes)"
)
SERVED_NAME_IN_ANSWERS = (
    "vLLM 0.32 answers with its first --served-model-name whichever alias the request named "
    "(the request with the override is served: the response's `model` says tiny/llava-vlm)"
)
IMAGE_URL_OFFLINE = (
    "the suite's last case sends the image by its GitHub URL, which vLLM cannot fetch offline "
    "(HTTP 500); the data-URI and base64 cases before it pass, and test_tiny_vlm.py sends every "
    "URL shape from a local host"
)


class TestVLLMStandardIntegration(ClosedModels, VLMCapabilities, ChatModelIntegrationTests):
    _server: TinyVLMServer

    @pytest.fixture(autouse=True)
    def _local_servers(
        self, vllm_server: TinyVLMServer, image_host: ImageHost, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        type(self)._server = vllm_server
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
            "timeout": 120,
            "temperature": 0.0,
            # vLLM's default is the rest of the context; junk from the tiny model where it
            # cannot follow the suite would run for minutes on a busy 2-core machine
            "max_tokens": 64,
        }

    @property
    def model_override_value(self) -> str:
        return ALT_MODEL_ID  # vLLM serves the model under both names

    @pytest.mark.xfail(reason=SERVED_NAME_IN_ANSWERS, strict=True)
    def test_invoke_with_model_override(self, model: BaseChatModel) -> None:
        super().test_invoke_with_model_override(model)

    @pytest.mark.xfail(reason=SERVED_NAME_IN_ANSWERS, strict=True)
    async def test_ainvoke_with_model_override(self, model: BaseChatModel) -> None:
        await super().test_ainvoke_with_model_override(model)

    @pytest.mark.xfail(reason=SERVED_NAME_IN_ANSWERS, strict=True)
    def test_stream_with_model_override(self, model: BaseChatModel) -> None:
        super().test_stream_with_model_override(model)

    @pytest.mark.xfail(reason=SERVED_NAME_IN_ANSWERS, strict=True)
    async def test_astream_with_model_override(self, model: BaseChatModel) -> None:
        await super().test_astream_with_model_override(model)

    @pytest.mark.xfail(reason=IMAGE_URL_OFFLINE, raises=APIError, strict=True)
    def test_image_inputs(self, model: BaseChatModel) -> None:
        super().test_image_inputs(model)

    @pytest.mark.xfail(reason=JSON_MODE_HAS_NO_KEYS, strict=True)
    def test_json_mode(self, model: BaseChatModel) -> None:
        super().test_json_mode(model)

    @pytest.mark.xfail(reason=UNBOUNDED_STRING_ARGUMENT, strict=True)
    def test_tool_choice(self, model: BaseChatModel) -> None:
        super().test_tool_choice(model)

    @pytest.mark.xfail(reason=NEEDS_CAPABLE_MODEL, strict=True)
    def test_tool_calling(self, model: BaseChatModel) -> None:
        super().test_tool_calling(model)

    @pytest.mark.xfail(reason=NEEDS_CAPABLE_MODEL, strict=True)
    async def test_tool_calling_async(self, model: BaseChatModel) -> None:
        await super().test_tool_calling_async(model)

    @pytest.mark.xfail(reason=NEEDS_CAPABLE_MODEL, strict=True)
    def test_agent_loop(self, model: BaseChatModel) -> None:
        super().test_agent_loop(model)

    @pytest.mark.xfail(reason=NEEDS_CAPABLE_MODEL, strict=True)
    def test_bind_runnables_as_tools(self, model: BaseChatModel) -> None:
        super().test_bind_runnables_as_tools(model)

    @pytest.mark.xfail(reason=NEEDS_CAPABLE_MODEL, strict=True)
    def test_unicode_tool_call_integration(  # the suite's own signature
        self,
        model: BaseChatModel,
        *,
        tool_choice: str | None = None,  # noqa: PT028
        force_tool_call: bool = True,  # noqa: PT028
    ) -> None:
        super().test_unicode_tool_call_integration(
            model, tool_choice=tool_choice, force_tool_call=force_tool_call
        )
