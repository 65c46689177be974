"""The size of each image as given and as sent, for ``response_metadata["images"]``. Pure.

Models that answer with boxes answer in the geometry of what they received: pixels of the image
sent (Qwen2.5-VL) or 0-1000 of each side (Qwen3-VL, GLM-4.xV). The package may have downscaled
the image; these sizes are what ``langchain_hf_vlm.images.box_to_original`` maps a box back
with. The image pipeline records both on each ref as it prepares it (nothing is read again
here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_hf_vlm._media.refs import ImageRef


def image_geometry(images: Sequence[ImageRef]) -> list[dict[str, Any]]:
    """One entry per image sent, in message order: ``original`` and ``sent`` as ``[width,
    height]`` (None where not known: an image URL the server fetches itself), and the
    ``message`` and ``block`` of the input it came from."""
    entries = []
    for ref in sorted(images, key=lambda ref: (ref.message_index, ref.block_index, ref.number)):
        original, sent = ref.original, ref.sent
        if original and sent and (original[0] - original[1]) * (sent[0] - sent[1]) < 0:
            original = (original[1], original[0])  # re-encoding applied the EXIF rotation
        entries.append(
            {
                "original": None if original is None else list(original),
                "sent": None if sent is None else list(sent),
                "message": ref.message_index,
                "block": ref.block_index,
            }
        )
    return entries
