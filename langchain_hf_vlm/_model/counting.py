"""Token counts of messages for LangChain (``get_num_tokens_from_messages``,
``trim_messages``, the summarization and context-editing middlewares), without transformers.

Messages are translated as for a request (so tool results, tool calls and every image shape
count as what is sent). Text is counted by ``custom_get_token_ids`` when the user gave one (the
model's own tokenizer), else estimated (:mod:`langchain_hf_vlm._families.tokens`). Each image
is counted by its family's formula (:mod:`langchain_hf_vlm._families.images`) at the size the
package will send it: the size in its data URI's header after the model's resize limits; an
image given by URL, whose size is not known without downloading it, counts as the largest
image the limits let through. A document or video counts as that many pages or frames at that
size (``pdf_max_pages``, or the block's ``pages``; ``video_max_frames``): an upper bound; a
text file counts as its text (given as data: a token per four bytes; by URL: not known, so
not counted).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_hf_vlm._families.table import Family
from langchain_hf_vlm._families.tokens import MESSAGE_OVERHEAD, REPLY_PRIMING, text_tokens
from langchain_hf_vlm._media.expand import MediaRef
from langchain_hf_vlm._media.headers import data_uri_header
from langchain_hf_vlm._media.refs import ImageRef
from langchain_hf_vlm._media.settings import DEFAULT_MAX_SIDE, ImageSettings, target_size
from langchain_hf_vlm._request.messages import to_wire_messages


@dataclass(frozen=True, kw_only=True)
class TokenCounter:
    """Counts for one model: its family, image settings and limits, and the user's tokenizer."""

    family: Family
    images: ImageSettings
    token_ids: Callable[[str], list[int]] | None
    video_max_frames: int
    pdf_max_pages: int

    def text(self, text: str) -> int:
        """Tokens of ``text``: by the user's tokenizer if given, else estimated."""
        if self.token_ids is not None:
            return len(self.token_ids(text))
        return text_tokens(text)

    def messages(self, messages: Sequence[BaseMessage], tools: Sequence[Any] | None) -> int:
        """Tokens of a request holding ``messages`` (and ``tools``), the reply's opening
        included."""
        family = self.family
        wire = to_wire_messages(messages)
        total = REPLY_PRIMING
        for message in wire.messages:
            total += MESSAGE_OVERHEAD
            content = message.get("content") or ""
            parts = [content] if isinstance(content, str) else content
            for part in parts:
                if isinstance(part, str):
                    total += self.text(part)
                elif isinstance(part, ImageRef):
                    total += image_tokens(family, part, self.images)
                elif isinstance(part, MediaRef):
                    total += self._media(family, part)
                elif part.get("type") == "text":
                    total += self.text(part["text"])
            for call in message.get("tool_calls", ()):
                function = call["function"]
                total += self.text(function["name"]) + self.text(function["arguments"])
        if tools:
            schemas = [convert_to_openai_tool(tool) for tool in tools]
            total += self.text(json.dumps(schemas, ensure_ascii=False))
        return total

    def _media(self, family: Family, ref: MediaRef) -> int:
        source = ref.source
        if source.kind == "text":
            # base64 holds 3 bytes per 4 characters, text about 4 bytes per token
            return self.text(source.text or "") + len(source.base64 or "") * 3 // 16
        if source.kind == "video":
            images = source.max_frames or self.video_max_frames
        else:
            images = len(source.pages) if source.pages else self.pdf_max_pages
        return images * _largest_image_tokens(family, self.images)


def image_tokens(family: Family, ref: ImageRef, settings: ImageSettings) -> int:
    """Tokens of one image at the size it will be sent (its block's ``detail`` included)."""
    settings = settings.for_detail(ref.detail)
    header = data_uri_header(ref.url) if ref.url.startswith("data:") else None
    if header is None:
        return _largest_image_tokens(family, settings)
    return family.image_tokens.tokens(*target_size(header.width, header.height, settings))


def _largest_image_tokens(family: Family, settings: ImageSettings) -> int:
    """Tokens of the largest image the limits let through (a square at the pixel budget)."""
    side = math.isqrt(settings.max_pixels) if settings.max_pixels else DEFAULT_MAX_SIDE
    side = min(side, settings.max_side or side)
    return family.image_tokens.tokens(side, side)
