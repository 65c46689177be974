"""How many tokens an image costs a model family, and the size that costs the fewest. Pure.

Three shapes cover the families of :mod:`.table`; each is a keyword-built record whose
:meth:`tokens` takes the size the package really sends (after its own resize).

- :class:`Grid`: one token per ``block`` x ``block`` pixels after the processor resizes the
  image onto that grid within a pixel budget (Qwen2/2.5-VL: 14 px patches merged 2 x 2 = 28 px;
  Qwen3-VL: 16 px merged 2 x 2 = 32 px; GLM-4.xV, Kimi-VL alike).
- :class:`Fixed`: the same count whatever the size (LLaVA-1.5: 576; Gemma 3: 256).
- :class:`Tiles`: a count per tile of a fixed size, up to a number of tiles, plus a global view
  when there are several (Llama 4, aya-vision, Idefics3 and SmolVLM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Grid:
    """One token per ``block`` px square, the image resized onto the grid within a budget."""

    block: int
    min_pixels: int
    max_pixels: int
    extra: int = 2
    """Tokens around each image (vision start and end markers)."""

    def fit(self, width: int, height: int) -> tuple[int, int]:
        """The size the model's processor resizes an image to: each side a multiple of
        ``block``, the aspect ratio kept, the area within the pixel budget (Qwen's
        ``smart_resize``)."""
        b = self.block
        w, h = max(b, round(width / b) * b), max(b, round(height / b) * b)
        if w * h > self.max_pixels:
            scale = math.sqrt(width * height / self.max_pixels)
            w = max(b, math.floor(width / scale / b) * b)
            h = max(b, math.floor(height / scale / b) * b)
        elif w * h < self.min_pixels:
            scale = math.sqrt(self.min_pixels / (width * height))
            w, h = math.ceil(width * scale / b) * b, math.ceil(height * scale / b) * b
        return w, h

    def tokens(self, width: int, height: int) -> int:
        w, h = self.fit(width, height)
        return (w // self.block) * (h // self.block) + self.extra

    @property
    def largest(self) -> int:
        """The most pixels of an image the processor keeps (its budget)."""
        return self.max_pixels


@dataclass(frozen=True, kw_only=True)
class Fixed:
    """The same number of tokens for any image (the processor resizes to one square)."""

    count: int

    def fit(self, width: int, height: int) -> tuple[int, int]:
        return width, height

    def tokens(self, width: int, height: int) -> int:
        return self.count

    @property
    def largest(self) -> None:
        """Not known here: the processor resizes every image to one square."""
        return None


@dataclass(frozen=True, kw_only=True)
class Tiles:
    """``per_tile`` tokens per ``tile`` px tile, at most ``max_tiles`` tiles, plus one global
    view of ``per_tile`` tokens when the image takes more than one tile."""

    tile: int
    per_tile: int
    max_tiles: int
    extra: int = 0

    def fit(self, width: int, height: int) -> tuple[int, int]:
        return width, height

    def tokens(self, width: int, height: int) -> int:
        across, down = math.ceil(width / self.tile), math.ceil(height / self.tile)
        while across * down > self.max_tiles:  # the processor shrinks the image to fit
            if across >= down:
                across -= 1
            else:
                down -= 1
        tiles = across * down
        return (tiles + (tiles > 1)) * self.per_tile + self.extra

    @property
    def largest(self) -> int:
        """The most pixels of an image the processor keeps: all its tiles."""
        return self.tile * self.tile * self.max_tiles


ImageTokens = Grid | Fixed | Tiles
