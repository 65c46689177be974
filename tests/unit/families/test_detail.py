"""``detail="low"`` / ``"high"`` on an image block: the pixel budget per family (pure)."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._families.detail import detail_budgets
from langchain_hf_vlm._families.table import BY_NAME, family_for
from langchain_hf_vlm._media.settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    Budget,
    target_size,
)
from tests.support.images import b64, png

QWEN25 = family_for("Qwen/Qwen2.5-VL-7B-Instruct")


def test_low_is_one_512_view_and_high_the_familys_maximum() -> None:
    low, high = detail_budgets(QWEN25, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE)
    assert low == Budget(max_pixels=512 * 512, max_side=512)
    assert high == Budget(max_pixels=28 * 28 * 16384, max_side=None)  # 12.8 M px, its processor's
    # a tiling family: all its tiles (Llama 4: 16 of 336 px)
    assert detail_budgets(BY_NAME["llama-4-scout"], DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE)[1] == (
        Budget(max_pixels=336 * 336 * 16, max_side=None)
    )


@pytest.mark.parametrize("family", ["gemma-3", "llava", "default"])
def test_high_keeps_the_models_limits_where_the_family_maximum_is_not_known(family: str) -> None:
    assert detail_budgets(BY_NAME[family], 1000, 50)[1] == Budget(max_pixels=1000, max_side=50)


def test_low_never_exceeds_the_models_own_limits_and_high_never_goes_below() -> None:
    low, high = detail_budgets(QWEN25, 100_000, 300)
    assert low == Budget(max_pixels=100_000, max_side=300)
    assert high.max_pixels == 28 * 28 * 16384
    low, high = detail_budgets(QWEN25, 20_000_000, None)
    assert low == Budget(max_pixels=512 * 512, max_side=512)
    assert high == Budget(max_pixels=20_000_000, max_side=None)
    # no limit at all stays no limit
    assert detail_budgets(QWEN25, None, None)[1] == Budget(max_pixels=None, max_side=None)


@pytest.mark.parametrize(
    ("model", "detail", "size"),
    [
        ("Qwen/Qwen2.5-VL-7B-Instruct", "low", (18 * 28, 13 * 28)),  # on its 28 px grid
        ("Qwen/Qwen3-VL-8B-Instruct", "low", (16 * 32, 12 * 32)),  # on its 32 px grid
        ("my-own/model", "low", (512, 384)),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "auto", (46 * 28, 34 * 28)),
        ("Qwen/Qwen2.5-VL-7B-Instruct", None, (46 * 28, 34 * 28)),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "high", (2400, 1800)),  # 4.3 M px: within 12.8 M
        ("my-own/model", "high", (1293, 970)),  # no maximum known: the model's limits
    ],
)
def test_a_model_sizes_each_image_by_its_detail(
    model: str, detail: str | None, size: tuple[int, int]
) -> None:
    settings = ChatHuggingFaceVLM(model=model)._pipeline.settings.for_detail(detail)
    assert target_size(2400, 1800, settings) == size


def test_token_counts_follow_the_detail() -> None:
    llm = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    data = b64(png((2400, 1800)))

    def count(detail: str | None) -> int:
        image_url = {"url": f"data:image/png;base64,{data}", "detail": detail}
        block = {"type": "image_url", "image_url": image_url}
        return llm.get_num_tokens_from_messages([HumanMessage(content=[block])])

    framing = count("low") - (18 * 13 + 2)
    assert count("high") - framing == 86 * 64 + 2  # 2400 x 1800 onto the grid: 2408 x 1792
    assert count(None) == count("auto") == framing + 46 * 34 + 2
