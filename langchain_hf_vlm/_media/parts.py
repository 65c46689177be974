"""What a document or video becomes before it goes on the wire: labelled images and text.

Pure: no I/O. The PDF and video cores return :class:`MediaPart` lists; ``wire_parts`` turns
them into chat-completion content parts (text, and ``image_url`` with a data URI) that then go
through the same image preparation and request size guard as any other image.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MediaPart:
    """One page or frame as the model receives it.

    Attributes:
        label: The text part sent before the image ("Document a.pdf, page 3 of 12").
        mime_type: The image's type (``image/png`` or ``image/jpeg``).
        data: The encoded image, already at the size the model receives.
        width: The image's width in pixels.
        height: The image's height in pixels.
        text: Text sent after the image (a PDF page's text layer), if any.
    """

    label: str
    mime_type: str
    data: bytes
    width: int
    height: int
    text: str | None = None


def wire_parts(parts: Iterable[MediaPart]) -> list[dict[str, Any]]:
    """Chat-completion content parts for ``parts``: label, image, then text when there is."""
    return _interleaved(
        parts,
        lambda part, encoded: {
            "type": "image_url",
            "image_url": {"url": f"data:{part.mime_type};base64,{encoded}"},
        },
    )


def content_blocks(parts: Iterable[MediaPart]) -> list[dict[str, Any]]:
    """LangChain v1 content blocks for ``parts``: label, image, then text when there is."""
    return _interleaved(
        parts,
        lambda part, encoded: {"type": "image", "base64": encoded, "mime_type": part.mime_type},
    )


def _interleaved(
    parts: Iterable[MediaPart], image: Callable[[MediaPart, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        out.append({"type": "text", "text": part.label})
        out.append(image(part, base64.b64encode(part.data).decode("ascii")))
        if part.text:
            out.append({"type": "text", "text": part.text})
    return out


def clock(seconds: float) -> str:
    """A timestamp as m:ss.s (or h:mm:ss.s), the way video players show it."""
    tenths = round(seconds * 10)
    minutes, tenths_in_minute = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    second = f"{tenths_in_minute // 10:02d}.{tenths_in_minute % 10}"
    return f"{hours}:{minutes:02d}:{second}" if hours else f"{minutes}:{second}"
