"""The model's image fields (``_model.fields``): each one reaches the image settings and takes effect."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import ValidationError

from langchain_hf_vlm import image_block
from langchain_hf_vlm._media.settings import Budget, ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages
from tests.support.images import (
    encode,
    photo,
    sent_urls,
)


def _prepared_with(model: Any, data: bytes) -> str:
    wire = to_wire_messages([HumanMessage(content=[image_block(data)])])
    model._pipeline.prepare(wire)
    (url,) = sent_urls(wire)
    return url


def test_every_image_setting_is_a_model_field() -> None:
    from langchain_hf_vlm import ChatHuggingFaceVLM

    model = ChatHuggingFaceVLM(
        model="m",
        base_url="http://127.0.0.1:9/v1",
        image_max_pixels=1000,
        image_max_side=50,
        max_request_bytes=123_456,
        fetch_image_urls=True,
        image_fetch_allow_private=True,
        image_fetch_timeout=3.5,
        image_fetch_max_bytes=1000,
        image_max_input_pixels=2000,
        image_jpeg_quality=40,
        image_cache_bytes=0,
    )
    assert model._pipeline.settings == ImageSettings(
        max_pixels=1000,
        max_side=50,
        max_request_bytes=123_456,
        fetch_urls=True,
        fetch_allow_private=True,
        fetch_timeout=3.5,
        fetch_max_bytes=1000,
        max_input_pixels=2000,
        jpeg_quality=40,
        cache_bytes=0,
        # detail="low" within both limits already; "high" as they are (no family maximum known)
        low=Budget(max_pixels=1000, max_side=50),
        high=Budget(max_pixels=1000, max_side=50),
    )


def test_jpeg_quality_and_cache_fields_take_effect() -> None:
    from langchain_hf_vlm import ChatHuggingFaceVLM

    big = encode(photo((1600, 1200)), "JPEG", quality=95)
    low = ChatHuggingFaceVLM(
        model="m", base_url="http://127.0.0.1:9/v1", image_jpeg_quality=30, image_cache_bytes=0
    )
    high = ChatHuggingFaceVLM(model="m", base_url="http://127.0.0.1:9/v1", image_jpeg_quality=95)
    assert len(_prepared_with(low, big)) < len(_prepared_with(high, big)) * 0.6
    _prepared_with(low, big)
    _prepared_with(high, big)
    assert (low._pipeline.stats.decoded, low._pipeline.stats.cache_hits) == (2, 0)  # no cache
    assert (high._pipeline.stats.decoded, high._pipeline.stats.cache_hits) == (1, 1)


def test_an_unknown_family_is_refused_with_the_closest_name() -> None:
    from langchain_hf_vlm import ChatHuggingFaceVLM

    with pytest.raises(ValidationError, match=r"did you mean 'qwen2.5-vl'\?"):
        ChatHuggingFaceVLM(model="m", model_family="qwen25-vl")
    assert ChatHuggingFaceVLM(model="m", model_family="Gemma-3").model_family == "gemma-3"
