"""What users read about the chat model: docs/configuration.md lists every field, and
``help(ChatHuggingFaceVLM)`` names the public module and sends nobody to a private one."""

from __future__ import annotations

import pydoc
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from langchain_hf_vlm import ChatHuggingFaceVLM, chat_models

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_field_is_in_the_configuration_reference() -> None:
    ours = set(ChatHuggingFaceVLM.model_fields) - set(BaseChatModel.model_fields)
    text = PAGE.read_text()
    missing = sorted(name for name in ours if f"`{name}`" not in text)
    assert ours and not missing, f"docs/configuration.md does not list {missing}"


def test_help_shows_the_public_module_and_a_self_contained_docstring() -> None:
    assert ChatHuggingFaceVLM.__module__ == "langchain_hf_vlm.chat_models"
    page = pydoc.render_doc(ChatHuggingFaceVLM, renderer=pydoc.plaintext)
    assert "in module langchain_hf_vlm.chat_models" in page
    for text in (ChatHuggingFaceVLM.__doc__, chat_models.__doc__):
        assert text and "langchain_hf_vlm._" not in text and "_model" not in text
    assert "example.com" not in (ChatHuggingFaceVLM.__doc__ or "")
