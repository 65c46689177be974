"""How images are prepared for one model: the limits, and the size they give an image. Pure."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from langchain_hf_vlm._media.headers import ImageHeader

DEFAULT_MAX_SIDE = 1568
"""Longest side, in pixels, of an image sent to the model (1568 = 56 x 28, a whole number of
the 14 and 28 px patches most VLM vision encoders use). Binds for elongated images such as
panoramas and full-page screenshots; for usual aspect ratios ``DEFAULT_MAX_PIXELS`` binds first."""
DEFAULT_MAX_PIXELS = 1120 * 1120
"""Pixel budget of one image: about 1.25 MP, e.g. 1293 x 970 for a 4:3 photo. That is about
1,600 vision tokens for Qwen2-VL-style 28 px patches, more detail than most VLMs keep after their
own preprocessing, while a photo at JPEG quality 85 takes about 100-400 KB (130-530 KB as
base64): three or more images fit inside TGI's 2 MB request body limit, where a phone photo
sent as is (3-5 MB) is refused with 413. Screenshots stay lossless PNG, 0.2-1 MB at this size."""
DEFAULT_MAX_INPUT_PIXELS = 89_478_485
"""Largest image decoded at all: Pillow's own decompression-bomb threshold (a quarter of a
gigabyte as RGB). A header claiming more is refused before any pixel is decoded."""
DEFAULT_JPEG_QUALITY = 85
DEFAULT_FETCH_TIMEOUT = 10.0
DEFAULT_FETCH_MAX_BYTES = 20_000_000
"""Download cap for ``fetch_urls``: above the 4-15 MB of a full-resolution camera JPEG."""
DEFAULT_CACHE_BYTES = 64_000_000

Detail = Literal["low", "high", "auto"]
DETAILS: tuple[Detail, ...] = ("low", "high", "auto")
"""OpenAI's ``detail`` hint on an image block, which sizes that image (``low``, ``high``) or
leaves it to the model's limits (``auto``, or no hint)."""


@dataclass(frozen=True)
class Budget:
    """The pixel budget of one image: at most ``max_pixels`` pixels and ``max_side`` a side
    (None: no limit)."""

    max_pixels: int | None
    max_side: int | None


@dataclass(frozen=True)
class ImageSettings:
    """How images are prepared for one model.

    Attributes:
        max_pixels: Larger images are downscaled to at most this many pixels (None: no limit).
        max_side: Larger images are downscaled so that neither side exceeds this (None: no
            limit).
        max_request_bytes: A request body estimated above this is refused before sending
            (None: no check).
        fetch_urls: Download http(s) image URLs on the client and send them inline.
        fetch_timeout: Seconds allowed for each network wait of a download, and for the whole
            download.
        fetch_max_bytes: A download larger than this is stopped and refused.
        fetch_allow_private: Let downloads connect to loopback, private, link-local, multicast
            and reserved addresses (refused by default: see ``_wire.addresses``).
        max_input_pixels: Images whose header claims more pixels are refused undecoded
            (decompression bombs).
        jpeg_quality: Quality of re-encoded JPEG images (1-95).
        cache_bytes: Budget of the cache of prepared images, counted as the length of the
            cached URLs and keys (0 disables the cache).
        grid: The model's patch grid in pixels (Qwen2.5-VL: 28, Qwen3-VL: 32), where it has
            one: a downscaled image lands on it, each side a multiple, so the size sent is
            the size the model's processor keeps (None: no grid).
        low: The budget of an image block with ``detail="low"`` (None: the model's).
        high: The budget of an image block with ``detail="high"`` (None: the model's).
    """

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_side: int | None = DEFAULT_MAX_SIDE
    max_request_bytes: int | None = None
    fetch_urls: bool = False
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT
    fetch_max_bytes: int = DEFAULT_FETCH_MAX_BYTES
    fetch_allow_private: bool = False
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    jpeg_quality: int = DEFAULT_JPEG_QUALITY
    cache_bytes: int = DEFAULT_CACHE_BYTES
    grid: int | None = None
    low: Budget | None = None
    high: Budget | None = None

    def for_detail(self, detail: str | None) -> ImageSettings:
        """The settings that size an image block with this ``detail`` (the model's own for
        ``auto`` or none)."""
        budget = self.low if detail == "low" else self.high if detail == "high" else None
        return self if budget is None else _with_budget(self, budget)

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_side", "max_request_bytes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")
        for name in ("fetch_timeout", "fetch_max_bytes", "max_input_pixels"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be between 1 and 95, got {self.jpeg_quality}")
        if self.cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {self.cache_bytes}")


@functools.lru_cache(maxsize=64)  # a few models per process, two budgets each
def _with_budget(settings: ImageSettings, budget: Budget) -> ImageSettings:
    return replace(
        settings, max_pixels=budget.max_pixels, max_side=budget.max_side, low=None, high=None
    )


def target_size(width: int, height: int, settings: ImageSettings) -> tuple[int, int]:
    """The size an image is sent at: the largest within the limits, never larger than it is;
    when it must shrink, on the model's grid if it has one."""
    scale = 1.0
    if settings.max_side is not None:
        scale = min(scale, settings.max_side / max(width, height))
    if settings.max_pixels is not None:
        scale = min(scale, math.sqrt(settings.max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    # Rounding to the nearest keeps the aspect ratio best; where that crosses the pixel budget
    # by a few pixels, rounding down keeps within it.
    for rounding in (round, math.floor):
        new_width = min(width, max(1, rounding(width * scale)))
        new_height = min(height, max(1, rounding(height * scale)))
        if settings.max_pixels is None or new_width * new_height <= settings.max_pixels:
            break
    if settings.grid:  # down to the grid: within the limits still; a side below it stays
        new_width = new_width // settings.grid * settings.grid or new_width
        new_height = new_height // settings.grid * settings.grid or new_height
    return new_width, new_height


def fits(header: ImageHeader | None, settings: ImageSettings) -> bool:
    """Whether an image is sent at its own size (an unreadable header: not known to fit)."""
    size = None if header is None else (header.width, header.height)
    return size is not None and target_size(*size, settings) == size
