"""docs/configuration.md lists every field of ChatHuggingFaceVLM (LangChain's own aside)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from langchain_hf_vlm import ChatHuggingFaceVLM

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_field_is_in_the_configuration_reference() -> None:
    ours = set(ChatHuggingFaceVLM.model_fields) - set(BaseChatModel.model_fields)
    text = PAGE.read_text()
    missing = sorted(name for name in ours if f"`{name}`" not in text)
    assert ours and not missing, f"docs/configuration.md does not list {missing}"
