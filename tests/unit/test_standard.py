"""LangChain's standard unit suite for chat models, with honest capability flags."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_hf_vlm import ChatHuggingFaceVLM


class TestChatHuggingFaceVLMStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatHuggingFaceVLM]:
        return ChatHuggingFaceVLM

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "Qwen/Qwen2.5-VL-7B-Instruct"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"HF_TOKEN": "hf_from_env"},
            {"model": "Qwen/Qwen2.5-VL-7B-Instruct"},
            {"api_key": "hf_from_env"},
        )

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True
