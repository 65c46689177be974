"""Image settings (``_media.settings``): the target size of a resize, and the checks on each setting."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_hf_vlm._media.settings import ImageSettings, target_size


def test_pixel_budget_binds_for_usual_shapes_and_max_side_for_long_ones() -> None:
    settings = ImageSettings(max_side=1000, max_pixels=10_000)
    assert target_size(400, 300, settings) == (115, 86)
    assert target_size(4000, 100, ImageSettings(max_side=1000, max_pixels=None)) == (1000, 25)
    assert target_size(50, 40, settings) == (50, 40)


@given(
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.one_of(st.none(), st.integers(1, 5000)),
    st.one_of(st.none(), st.integers(1, 5_000_000)),
)
def test_target_size_keeps_limits_and_aspect_and_never_upscales(
    width: int, height: int, max_side: int | None, max_pixels: int | None
) -> None:
    settings = ImageSettings(max_side=max_side, max_pixels=max_pixels)
    new_width, new_height = target_size(width, height, settings)
    assert 1 <= new_width <= width
    assert 1 <= new_height <= height
    if max_side is not None and max_side >= 1 and max(width, height) > max_side:
        assert max(new_width, new_height) <= max_side
    if max_pixels is not None and new_width > 1 and new_height > 1:
        assert new_width * new_height <= max_pixels
    if (new_width, new_height) != (width, height) and min(new_width, new_height) >= 20:
        assert abs(new_width / new_height - width / height) <= 2 * width / height / min(
            new_width, new_height
        )


@pytest.mark.parametrize(
    "options",
    [
        {"max_pixels": 0},
        {"max_side": -1},
        {"max_request_bytes": 0},
        {"fetch_timeout": 0},
        {"jpeg_quality": 100},
        {"cache_bytes": -1},
    ],
)
def test_settings_are_validated(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        ImageSettings(**options)
