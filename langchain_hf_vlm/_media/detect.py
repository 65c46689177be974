"""Media types read from the bytes, and filled into blocks that do not state theirs. Pure.

langchain-core formats every input for tracing before the model is called, and refuses a v1
base64 image block without ``mime_type`` there (``ValueError: mime_type key is required for
base64 data``), although the type is written in the data's first bytes. :func:`with_mime_types`
gives the model's input copies of such messages with the type filled in; the user's messages
are never changed, and a message with nothing to fill is passed on as it is.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import ChatPromptValue, PromptValue

from langchain_hf_vlm._media.mime import sniff_image_mime
from langchain_hf_vlm._media.pdf import PDF_MIME_TYPE, is_pdf
from langchain_hf_vlm._media.video import sniff_video_mime

_DATA_BLOCKS = frozenset({"image", "file", "video"})
_HEAD_CHARS = 128
"""Base64 characters decoded to sniff a type: 96 bytes, enough for every signature read."""


def sniff_media_mime(data: bytes) -> str | None:
    """The type of PNG, JPEG, GIF, WebP, PDF, MP4, QuickTime, WebM, Matroska or AVI data."""
    if is_pdf(data):
        return PDF_MIME_TYPE
    return sniff_image_mime(data) or sniff_video_mime(data)


def sniff_base64(data: str) -> str | None:
    """:func:`sniff_media_mime` of base64 text, from its first characters only."""
    head = "".join(data[: _HEAD_CHARS + 64].split())[:_HEAD_CHARS]
    head = head[: len(head) - len(head) % 4]
    try:
        return sniff_media_mime(binascii.a2b_base64(head))
    except (binascii.Error, ValueError):
        return None


def with_mime_types(prompt: PromptValue) -> PromptValue:
    """``prompt`` with the detected ``mime_type`` added to v1 base64 image, file and video
    blocks that lack one; ``prompt`` itself when there is none to add."""
    if not isinstance(prompt, ChatPromptValue):
        return prompt
    messages = [_with_mime_types(message) for message in prompt.messages]
    if all(new is old for new, old in zip(messages, prompt.messages, strict=True)):
        return prompt
    return ChatPromptValue(messages=messages)


def _with_mime_types(message: BaseMessage) -> BaseMessage:
    if isinstance(message.content, str):
        return message
    content: list[Any] = [_with_mime_type(block) for block in message.content]
    if all(new is old for new, old in zip(content, message.content, strict=True)):
        return message
    return message.model_copy(update={"content": content})


def _with_mime_type(block: Any) -> Any:
    if not (
        isinstance(block, Mapping)
        and block.get("type") in _DATA_BLOCKS
        and not block.get("mime_type")
        and isinstance(block.get("base64"), str)
    ):
        return block
    mime = sniff_base64(block["base64"])
    return block if mime is None else {**block, "mime_type": mime}


__all__ = ["sniff_base64", "sniff_media_mime", "with_mime_types"]
