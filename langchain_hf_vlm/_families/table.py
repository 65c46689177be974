"""What is known per model family: one keyword-built :class:`Family` per family, in one table
that reads like a table. Pure: no I/O.

A model id is matched against each family's ``patterns`` (lower-case substrings of the id's last
path component, ``_`` read as ``-``, a router suffix such as ``:fireworks-ai`` dropped), in
table order; the first match wins, and :data:`DEFAULT` answers the rest.

Sources: each model's ``config.json`` (``max_position_embeddings``, the context a vLLM or TGI
server enforces unless told otherwise) and ``preprocessor_config.json`` (patch and merge sizes,
pixel budget, tile size), the model cards (coordinate conventions, output lengths), and the chat
templates (role rules, tools). ``max_input_tokens`` is the model's own context; a provider or a
server may serve less, which ``ChatHuggingFaceVLM.refresh_profile()`` reads from the server.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Literal

from langchain_hf_vlm._families.images import Fixed, Grid, ImageTokens, Tiles

Coordinates = Literal["pixels", "0-1000"]

_QWEN2_GRID = Grid(block=28, min_pixels=56 * 56, max_pixels=28 * 28 * 16384)
_KIMI_GRID = Grid(block=28, min_pixels=28 * 28, max_pixels=28 * 28 * 4096)
_LLAMA4_TILES = Tiles(tile=336, per_tile=144, max_tiles=16)


@dataclass(frozen=True, kw_only=True)
class Family:
    """What one model family takes, costs and answers."""

    name: str
    patterns: tuple[str, ...]
    """Lower-case substrings of a model id that name the family."""
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    tool_calling: bool = True
    """Whether the model's chat template writes tools and reads its calls."""
    reasoning_output: bool | str = False
    """True, or a substring of the id that marks the reasoning variants (``"thinking"``)."""
    image_tokens: ImageTokens = _QWEN2_GRID
    """Tokens an image costs, from the size sent (:mod:`.images`)."""
    coordinates: Coordinates | None = None
    """How the model writes boxes: pixels of the image it received, or 0-1000 of each side."""
    max_images: int | None = None
    """Images per request the model takes (more is refused, or silently dropped by TGI)."""
    alternating_roles: bool = False
    """The chat template refuses a conversation whose turns do not alternate user/assistant."""
    own_formula: bool = True
    """``image_tokens`` is the family's own (False for :data:`DEFAULT`, whose formula is a
    stand-in for counting, not a grid to resize onto)."""

    @property
    def grid(self) -> int | None:
        """The pixels per image token along a side, for a family that resizes onto a grid."""
        if self.own_formula and isinstance(self.image_tokens, Grid):
            return self.image_tokens.block
        return None

    @property
    def largest_image(self) -> int | None:
        """The most pixels of an image the family's processor keeps (None: not known)."""
        return self.image_tokens.largest if self.own_formula else None

    def reasons(self, model: str) -> bool:
        """Whether ``model``, of this family, writes reasoning before its answer."""
        if isinstance(self.reasoning_output, str):
            return self.reasoning_output in normalized(model)
        return self.reasoning_output


FAMILIES: tuple[Family, ...] = (
    Family(
        name="qwen3-vl",
        patterns=("qwen3-vl",),
        max_input_tokens=262_144,
        reasoning_output="thinking",
        image_tokens=Grid(block=32, min_pixels=65_536, max_pixels=16_777_216),
        coordinates="0-1000",
    ),
    Family(
        name="qwen2.5-vl",
        patterns=("qwen2.5-vl", "qwen2-5-vl"),
        max_input_tokens=128_000,
        image_tokens=_QWEN2_GRID,
        coordinates="pixels",
    ),
    Family(
        name="qwen2-vl",
        patterns=("qwen2-vl", "qvq-"),
        max_input_tokens=32_768,
        image_tokens=_QWEN2_GRID,
        coordinates="0-1000",
    ),
    Family(
        name="llama-3.2-vision",
        patterns=("llama-3.2-11b-vision", "llama-3.2-90b-vision", "llama-3.2-vision"),
        max_input_tokens=131_072,
        # Cross-attention: the tiles enter the text model beside the context, which holds one
        # <|image|> token per image.
        image_tokens=Fixed(count=1),
        max_images=1,
    ),
    Family(
        name="llama-4-scout",
        patterns=("llama-4-scout",),
        max_input_tokens=10_485_760,
        image_tokens=_LLAMA4_TILES,
    ),
    Family(
        name="llama-4-maverick",
        patterns=("llama-4-maverick",),
        max_input_tokens=1_048_576,
        image_tokens=_LLAMA4_TILES,
    ),
    Family(
        name="gemma-3",
        patterns=("gemma-3-4b", "gemma-3-12b", "gemma-3-27b"),
        max_input_tokens=131_072,
        max_output_tokens=8_192,
        tool_calling=False,
        image_tokens=Fixed(count=258),  # 256 soft tokens between begin and end markers
        alternating_roles=True,
    ),
    Family(
        # Not measured here: the image formula and the role rule are Gemma 3's until a
        # server says otherwise (refresh_profile() reads the context length).
        name="gemma-4",
        patterns=("gemma-4",),
        image_tokens=Fixed(count=258),
        alternating_roles=True,
    ),
    Family(
        name="glm-4.6v",
        patterns=("glm-4.6v",),
        max_input_tokens=131_072,
        reasoning_output=True,
        image_tokens=Grid(block=28, min_pixels=12_544, max_pixels=9_633_792),
        coordinates="0-1000",
    ),
    Family(
        name="glm-4.5v",
        patterns=("glm-4.5v", "glm-4.1v"),
        max_input_tokens=65_536,
        reasoning_output=True,
        image_tokens=Grid(block=28, min_pixels=12_544, max_pixels=9_633_792),
        coordinates="0-1000",
    ),
    Family(
        name="kimi-vl",
        patterns=("kimi-vl",),
        max_input_tokens=131_072,
        reasoning_output="thinking",
        image_tokens=_KIMI_GRID,
    ),
    Family(
        name="kimi-k2.5",
        patterns=("kimi-k2.5", "kimi-k2-5", "kimi-k3"),
        max_input_tokens=262_144,
        reasoning_output=True,
        image_tokens=_KIMI_GRID,
    ),
    Family(
        name="aya-vision",
        patterns=("aya-vision",),
        max_input_tokens=16_384,
        max_output_tokens=4_096,
        tool_calling=False,
        image_tokens=Tiles(tile=364, per_tile=169, max_tiles=12),
    ),
    Family(
        name="smolvlm",
        patterns=("smolvlm",),
        max_input_tokens=8_192,
        tool_calling=False,
        image_tokens=Tiles(tile=384, per_tile=81, max_tiles=16),
    ),
    Family(
        name="idefics3",
        patterns=("idefics3",),
        max_input_tokens=10_240,
        tool_calling=False,
        image_tokens=Tiles(tile=364, per_tile=169, max_tiles=16),
    ),
    Family(
        name="idefics2",
        patterns=("idefics2",),
        tool_calling=False,
        image_tokens=Fixed(count=320),  # 64 per view: four crops and the whole image
    ),
    Family(
        name="llava-next",
        patterns=("llava-v1.6", "llava-next", "llava-1.6"),
        tool_calling=False,
        image_tokens=Tiles(tile=336, per_tile=576, max_tiles=4),
    ),
    Family(
        name="llava",
        patterns=("llava",),
        tool_calling=False,
        image_tokens=Fixed(count=576),  # LLaVA-1.5: 336 px, 14 px patches
    ),
)

DEFAULT = Family(name="default", patterns=(), own_formula=False)
"""Any other model: nothing known of its limits; images counted on Qwen2-VL's 28 px grid."""


def normalized(model: str) -> str:
    """The part of a model id that names it: last path component, lower case, ``_`` as ``-``,
    without a router suffix."""
    return model.split(":", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower().replace("_", "-")


@functools.lru_cache(maxsize=256)  # pure; asked once per model and call
def family_for(model: str) -> Family:
    """The family of a model id (:data:`DEFAULT` when none of the table's patterns match)."""
    name = normalized(model)
    for family in FAMILIES:
        if any(pattern in name for pattern in family.patterns):
            return family
    return DEFAULT


BY_NAME: dict[str, Family] = {family.name: family for family in (*FAMILIES, DEFAULT)}
"""Every family by its name, ``default`` included (``model_family=``)."""


def checked_family_name(name: str) -> str:
    """``name`` as a family of the table (case ignored); raises ValueError, with the closest
    name and the list, for any other."""
    key = name.strip().lower()
    if key in BY_NAME:
        return key
    close = difflib.get_close_matches(key, list(BY_NAME), n=1, cutoff=0.6)
    meant = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(
        f"model_family={name!r} is not a family the package knows; {meant}"
        f"the families: {', '.join(BY_NAME)} (docs/models.md)"
    )


def resolve_family(model: str, named: str | None) -> Family:
    """The family named (``model_family=``, or found by ``refresh_profile()``), else
    ``model``'s by its id."""
    return BY_NAME[named] if named is not None else family_for(model)
