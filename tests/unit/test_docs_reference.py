"""What users read: docs/configuration.md lists every field, ``help(ChatHuggingFaceVLM)``
names the public module and sends nobody to a private one, and the pages' relative links (and
their heading anchors) resolve."""

from __future__ import annotations

import pydoc
import re
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
    page = pydoc.plain(pydoc.render_doc(ChatHuggingFaceVLM))
    assert "in module langchain_hf_vlm.chat_models" in page
    for text in (ChatHuggingFaceVLM.__doc__, chat_models.__doc__):
        assert text and "langchain_hf_vlm._" not in text and "_model" not in text
    assert "example.com" not in (ChatHuggingFaceVLM.__doc__ or "")


REPO = PAGE.parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)?(?:#([^)\s]+))?\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    heads = [line.lstrip("#").strip() for line in page.read_text().splitlines() if line[:1] == "#"]
    return {re.sub(r"[^\w\- ]", "", head.lower()).replace(" ", "-") for head in heads}


def test_relative_links_of_the_docs_resolve() -> None:
    broken = []
    for page in [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(REPO.glob("docs/*.md"))]:
        for target, anchor in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists() or (
                anchor and path.suffix == ".md" and anchor not in _anchors(path)
            ):
                broken.append(f"{page.relative_to(REPO)} -> {target}#{anchor}")
    assert not broken, broken
