"""A box a model wrote, mapped back to pixels of the image the user gave. Pure.

Models answer in the geometry of what they received: Qwen2.5-VL in pixels of the image its
processor made (the image sent, resized onto its 28 px grid), Qwen2-VL, Qwen3-VL and GLM-4.xV
in 0-1000 of each side. The package may have downscaled the image before sending it;
``response_metadata["images"]`` holds both sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_hf_vlm._families.table import Coordinates, family_for


def box_to_original(
    box: Sequence[float],
    image: Mapping[str, Any],
    model: str | None = None,
    *,
    coordinates: Coordinates | None = None,
) -> list[float]:
    """Map a box ``[x1, y1, x2, y2]`` written by a model back to pixels of the original image.

    Args:
        box: The box as the model wrote it.
        image: The image's entry of ``response_metadata["images"]`` (``original`` and
            ``sent`` sizes).
        model: The model id; its family says how it writes boxes.
        coordinates: ``"pixels"`` (of the image the model's processor made from the one
            sent, for a family known to answer so; of the image sent otherwise) or
            ``"0-1000"``; overrides what the family says.

    Returns:
        The box in pixels of the original image, ``[x1, y1, x2, y2]``.

    Raises:
        ValueError: the convention is not known for ``model``, or a size needed is not known
            (an image URL the server fetched itself).
    """
    family = family_for(model or "")
    convention = coordinates or family.coordinates
    if convention is None:
        raise ValueError(
            f"how {model!r} writes boxes is not known; pass coordinates='pixels' or '0-1000'"
        )
    if len(box) != 4:
        raise ValueError(f"a box is [x1, y1, x2, y2], got {list(box)!r}")
    original: Sequence[int] | None = image.get("original")
    sent: Sequence[int] | None = image.get("sent")
    if original is None or sent is None:
        raise ValueError(
            f"image sizes not known ({dict(image)!r}): an image URL the server fetched itself "
            "has none; send it inline (fetch_image_urls=True)"
        )
    if convention == "0-1000":
        frame_width, frame_height = 1000, 1000
    elif family.coordinates == "pixels":  # the family's processor resized what was sent
        frame_width, frame_height = family.image_tokens.fit(sent[0], sent[1])
    else:
        frame_width, frame_height = sent
    x_scale, y_scale = original[0] / frame_width, original[1] / frame_height
    x1, y1, x2, y2 = box
    return [x1 * x_scale, y1 * y_scale, x2 * x_scale, y2 * y_scale]
