"""LangChain's model profile (``llm.profile``) for a model on a kind of server. Pure.

What the package itself gives every model (PDF pages and video frames rendered to images on the
client, images in tool results moved into a user turn), what the family says
(:mod:`.table`: context, output length, tools in the chat template, reasoning), and what the
server enforces (:class:`~langchain_hf_vlm._servers.dialects.Dialect`: ``tool_choice`` and
schemas; a server of unknown kind, such as ``transformers serve``, is assumed to enforce
neither until it is identified or refreshed).
"""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

from langchain_hf_vlm._families.table import Family
from langchain_hf_vlm._servers.dialects import Dialect

PACKAGE_PROFILE = ModelProfile(
    text_inputs=True,
    image_inputs=True,
    image_url_inputs=True,
    pdf_inputs=True,  # pages rendered to images on the client
    audio_inputs=False,
    video_inputs=True,  # frames sampled on the client
    text_outputs=True,
    image_tool_message=True,  # sent in a user turn right after the tool results
    pdf_tool_message=True,
)


def profile_for(family: Family, model: str, dialect: Dialect) -> ModelProfile:
    """The profile of ``model``, of ``family``, served by a server of ``dialect``."""
    profile = PACKAGE_PROFILE.copy()
    if family.max_input_tokens is not None:
        profile["max_input_tokens"] = family.max_input_tokens
    if family.max_output_tokens is not None:
        profile["max_output_tokens"] = family.max_output_tokens
    profile["tool_calling"] = family.tool_calling
    profile["tool_choice"] = family.tool_calling and dialect.enforces_tool_choice
    profile["structured_output"] = dialect.enforces_schemas
    profile["reasoning_output"] = family.reasons(model)
    return profile
