"""What the model takes and gives: LangChain's model profile (``llm.profile``)."""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

PROFILE = ModelProfile(
    text_inputs=True,
    image_inputs=True,
    image_url_inputs=True,
    pdf_inputs=True,  # pages rendered to images on the client
    audio_inputs=False,
    video_inputs=True,  # frames sampled on the client
    text_outputs=True,
    tool_calling=True,
    tool_choice=True,
    structured_output=True,
)
