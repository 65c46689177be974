"""LangChain's standard integration suite against the live Hugging Face router.

Needs ``HF_TOKEN`` (and a route to huggingface.co); skipped without it. These are the tests that
need a capable model, which the offline tiny model of tests/realserver cannot be.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.support.capabilities import VLMCapabilities

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("HF_TOKEN"), reason="needs HF_TOKEN (live router)"),
]

MODEL = os.environ.get("LANGCHAIN_HF_VLM_LIVE_MODEL", "Qwen/Qwen2.5-VL-7B-Instruct")


class TestRouterStandardIntegration(VLMCapabilities, ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatHuggingFaceVLM]:
        return ChatHuggingFaceVLM

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL, "temperature": 0.0, "max_retries": 3}
