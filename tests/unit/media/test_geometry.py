"""Image sizes as given and as sent, and boxes mapped back to the original image (pure)."""

from __future__ import annotations

import base64

import pytest

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._media.geometry import image_geometry
from langchain_hf_vlm._media.refs import ImageRef
from langchain_hf_vlm._media.settings import target_size
from langchain_hf_vlm.images import box_to_original
from tests.support.pngs import tiny_png


def _data_uri(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(tiny_png(width, height)).decode()


IMAGE = {"original": [2400, 1800], "sent": [1293, 970], "message": 0, "block": 1}


def test_pixel_boxes_are_scaled_from_the_grid_the_model_saw() -> None:
    # Qwen2.5-VL's processor puts 1293 x 970 on its 28 px grid: 1288 x 980
    box = box_to_original([0, 0, 1288, 980], IMAGE, "Qwen/Qwen2.5-VL-7B-Instruct")
    assert box == pytest.approx([0, 0, 2400, 1800])


def test_normalised_boxes_are_scaled_from_0_to_1000() -> None:
    box = box_to_original([100, 200, 300, 400], IMAGE, "zai-org/GLM-4.5V")
    assert box == pytest.approx([240, 360, 720, 720])


def test_the_convention_can_be_given_and_must_be_known() -> None:
    assert box_to_original([0, 0, 1293, 970], IMAGE, coordinates="pixels") == pytest.approx(
        [0, 0, 2400, 1800]
    )
    with pytest.raises(ValueError, match="coordinates="):
        box_to_original([0, 0, 1, 1], IMAGE, "my-own/model")
    with pytest.raises(ValueError, match="fetch_image_urls"):
        box_to_original([0, 0, 1, 1], {"original": None, "sent": None}, coordinates="0-1000")
    with pytest.raises(ValueError, match=r"\[x1, y1, x2, y2\]"):
        box_to_original([0, 0, 1], IMAGE, coordinates="0-1000")


def test_geometry_follows_message_order_and_exif_rotation() -> None:
    later = ImageRef(
        message_index=2, block_index=0, number=1, url=_data_uri(10, 20), original=(10, 20)
    )
    later.sent = (10, 20)
    rotated = ImageRef(
        message_index=0, block_index=3, number=2, url=_data_uri(8, 6), original=(4000, 3000)
    )
    rotated.sent = (970, 1293)  # re-encoding applied an EXIF rotation
    assert image_geometry([later, rotated]) == [
        {"original": [3000, 4000], "sent": [970, 1293], "message": 0, "block": 3},
        {"original": [10, 20], "sent": [10, 20], "message": 2, "block": 0},
    ]


def test_a_downscaled_image_lands_on_the_models_grid() -> None:
    qwen25 = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    assert target_size(2400, 1800, qwen25._pipeline.settings) == (46 * 28, 34 * 28)
    qwen3 = ChatHuggingFaceVLM(model="Qwen/Qwen3-VL-8B-Instruct")
    assert target_size(2400, 1800, qwen3._pipeline.settings) == (40 * 32, 30 * 32)
    # an image within the limits is sent as it is; an unknown model has no grid
    assert target_size(1000, 999, qwen25._pipeline.settings) == (1000, 999)
    assert target_size(2400, 1800, ChatHuggingFaceVLM(model="m")._pipeline.settings) == (1293, 970)
    # a side below the grid is kept rather than enlarged
    assert target_size(3000, 20, qwen25._pipeline.settings) == (1568, 10)
