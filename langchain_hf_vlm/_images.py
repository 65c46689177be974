"""Image preparation before sending: sizing, re-encoding, URL fetching, request size guard.

Contract used by chat_models (keep it): ``ImagePipeline(settings).prepare(wire_messages)`` and
``await ImagePipeline(settings).aprepare(wire_messages)`` rewrite the ``image_url.url`` of
every image part in place (data URIs resized/re-encoded as needed; http(s) URLs left alone
unless ``fetch_urls``), then check the request size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_SIDE = 2048
DEFAULT_MAX_PIXELS = 2048 * 2048


@dataclass(frozen=True)
class ImageSettings:
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_side: int | None = DEFAULT_MAX_SIDE
    max_request_bytes: int | None = None
    fetch_urls: bool = False


class ImagePipeline:
    def __init__(self, settings: ImageSettings) -> None:
        self.settings = settings

    def prepare(self, wire_messages: Sequence[dict[str, Any]]) -> None:
        """Prepare every image of the payload in place (sync path)."""

    async def aprepare(self, wire_messages: Sequence[dict[str, Any]]) -> None:
        """Prepare every image of the payload in place (async path)."""
