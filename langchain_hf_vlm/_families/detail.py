"""What ``detail="low"`` and ``detail="high"`` on an image block mean for a model family. Pure.

OpenAI's hint asks for one 512 x 512 view of the image (``low``) or its full detail
(``high``). Hugging Face servers (TGI, vLLM, ``transformers serve``) read no such hint: the
image's size is what decides what the model sees. So the package sizes the image on the client,
each block by its own hint (and still forwards the hint, for a server that reads it):

- ``low``: within a 512 x 512 view, and never more than the model's own limits
  (``image_max_pixels``, ``image_max_side``); on a family with a patch grid a downscaled image
  lands on the grid within that (Qwen2.5-VL: 504 x 504 at most, 18 x 18 tokens).
- ``high``: the family's own maximum (the pixel budget of its processor: Qwen2.5-VL 12.8 M
  pixels; all the tiles of a tiling family), with no limit per side, and never less than the
  model's ``image_max_pixels``. A family whose maximum is not known here (a fixed token count,
  or a model outside the table) keeps the model's limits. The decompression-bomb limit
  (``image_max_input_pixels``) and the request size guard (``max_request_bytes``) still apply.
- ``auto``, or no hint: the model's limits.
"""

from __future__ import annotations

from langchain_hf_vlm._families.table import Family
from langchain_hf_vlm._media.settings import Budget

LOW_SIDE = 512
"""OpenAI's low detail: one 512 x 512 view of the image."""


def detail_budgets(
    family: Family, max_pixels: int | None, max_side: int | None
) -> tuple[Budget, Budget]:
    """The budgets of ``detail="low"`` and ``detail="high"`` image blocks for a model of
    ``family`` whose own limits are ``max_pixels`` and ``max_side`` (None: no limit)."""
    low = Budget(
        max_pixels=_smaller(max_pixels, LOW_SIDE * LOW_SIDE), max_side=_smaller(max_side, LOW_SIDE)
    )
    largest = family.largest_image
    if largest is None or max_pixels is None:  # not known, or no limit already
        return low, Budget(max_pixels=max_pixels, max_side=max_side)
    return low, Budget(max_pixels=max(largest, max_pixels), max_side=None)


def _smaller(limit: int | None, value: int) -> int:
    return value if limit is None else min(limit, value)
