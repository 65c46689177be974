"""The image pipeline (``_media.pipeline``): sizing, re-encoding, broken input, limits, the cache."""

from __future__ import annotations

import asyncio
import base64
import io
import subprocess
import sys
import threading

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from PIL import GifImagePlugin, Image, ImageChops, ImageOps

from langchain_hf_vlm import InvalidContentError, image_block
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._media.settings import Budget, ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages
from tests.support.images import (
    SMALL,
    b64,
    data_uri,
    encode,
    open_uri,
    photo,
    png,
    png_header_only,
    prepared,
    screenshot,
    sent,
    sent_urls,
    wire_for,
)

# ---------------------------------------------------------------- sizing


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png((64, 48)), id="png"),
        pytest.param(encode(photo((64, 48)), "JPEG", quality=97), id="jpeg"),
        pytest.param(encode(Image.new("P", (64, 48)), "GIF"), id="gif"),
        pytest.param(encode(photo((60, 20)), "WEBP", lossless=True), id="webp-lossless"),
        pytest.param(encode(photo((60, 20)), "WEBP"), id="webp-lossy"),
        pytest.param(encode(Image.new("RGBA", (64, 48)), "WEBP"), id="webp-alpha"),
    ],
)
def test_images_within_the_limits_are_sent_byte_for_byte(data: bytes) -> None:
    mime = Image.open(io.BytesIO(data)).get_format_mimetype()
    assert mime is not None
    assert prepared({"type": "image", "base64": b64(data), "mime_type": mime}) == [
        data_uri(mime, data)
    ]


def test_jpeg_with_a_long_header_within_the_limits_is_unchanged() -> None:
    # A 200 KB ICC profile puts the frame header far past the bytes read first.
    data = encode(photo((64, 48)), "JPEG", icc_profile=bytes(200_000))
    assert prepared(image_block(data)) == [data_uri("image/jpeg", data)]


def test_large_photo_is_downscaled_keeping_its_aspect_ratio() -> None:
    data = encode(photo((800, 600)), "JPEG", quality=90)
    (url,) = prepared(image_block(data), settings=ImageSettings(max_side=400, max_pixels=None))
    result = open_uri(url)
    assert url.startswith("data:image/jpeg;base64,")
    assert (result.format, result.size) == ("JPEG", (400, 300))


def test_resized_jpeg_matches_a_full_resolution_resize() -> None:
    """Reduced-scale decoding must not shift, darken or blur the picture."""
    source = photo((1600, 1200))
    data = encode(source, "JPEG", quality=95)
    (url,) = prepared(image_block(data), settings=ImageSettings(max_side=500, max_pixels=None))
    result = open_uri(url).convert("RGB")
    reference = source.resize(result.size, Image.Resampling.LANCZOS)
    histogram = ImageChops.difference(result, reference).histogram()
    mean_error = sum((value % 256) * count for value, count in enumerate(histogram))
    assert mean_error / (result.width * result.height * 3) < 3


def test_exif_orientation_is_applied_before_sending() -> None:
    # Stored landscape, left half red and right half blue; orientation 6 means "rotate 90
    # degrees clockwise to display": upright, red is on top.
    stored = Image.new("RGB", (400, 200), (255, 0, 0))
    stored.paste((0, 0, 255), (200, 0, 400, 200))
    exif = stored.getexif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", exif=exif.tobytes(), quality=95)
    (url,) = prepared(image_block(data), settings=ImageSettings(max_side=100, max_pixels=None))
    result = open_uri(url).convert("RGB")
    assert result.size == (50, 100)
    assert result.getexif().get(0x0112) is None
    top, bottom = result.getpixel((25, 10)), result.getpixel((25, 90))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert top[0] > 200 > top[2]
    assert bottom[2] > 200 > bottom[0]
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(data))).getpixel((100, 20)) == top


def test_metadata_is_dropped_when_re_encoding() -> None:
    image = photo((300, 200))
    exif = image.getexif()
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPS position
    data = encode(image, "JPEG", exif=exif.tobytes(), icc_profile=b"icc" * 100)
    (url,) = prepared(image_block(data))
    result = open_uri(url)
    assert "exif" not in result.info
    assert "icc_profile" not in result.info


def test_transparency_is_kept_as_png() -> None:
    image = Image.new("RGBA", (300, 200), (0, 128, 0, 0))
    image.paste((255, 0, 0, 255), (100, 50, 200, 150))
    (url,) = prepared(image_block(image))
    result = open_uri(url)
    assert url.startswith("data:image/png;base64,")
    assert (result.mode, result.size) == ("RGBA", (64, 43))
    assert result.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert result.getpixel((32, 21))[3] == 255  # type: ignore[index]


def test_opaque_alpha_channel_is_dropped() -> None:
    (url,) = prepared(image_block(photo((300, 200)).convert("RGBA")))
    assert url.startswith("data:image/jpeg;base64,")


def test_flat_graphics_stay_png_and_photos_become_jpeg() -> None:
    shot, picture = prepared(image_block(screenshot((640, 400))), image_block(photo((640, 400))))
    assert shot.startswith("data:image/png;base64,")
    assert picture.startswith("data:image/jpeg;base64,")


def test_animated_gif_over_the_limits_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (200, 150), color) for color in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    animated = Image.open(io.BytesIO(data))
    assert isinstance(animated, GifImagePlugin.GifImageFile) and animated.n_frames == 2
    (url,) = prepared(image_block(data))
    result = open_uri(url)
    assert url.startswith("data:image/png;base64,")
    assert getattr(result, "n_frames", 1) == 1
    assert result.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def test_animated_gif_within_the_limits_is_unchanged() -> None:
    frames = [Image.new("RGB", (20, 15), color) for color in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert prepared(image_block(data)) == [data_uri("image/gif", data)]


def test_formats_servers_do_not_take_are_re_encoded_even_when_small() -> None:
    data = encode(screenshot((40, 30)), "BMP")
    (url,) = prepared({"type": "image", "base64": b64(data), "mime_type": "image/bmp"})
    assert url.startswith("data:image/png;base64,")
    assert open_uri(url).size == (40, 30)


def test_sixteen_bit_grayscale_is_scaled_not_clipped() -> None:
    deep = Image.new("I;16", (200, 100), 0x8000)
    (url,) = prepared(image_block(encode(deep, "PNG")))
    assert open_uri(url).convert("L").getpixel((5, 5)) == 128


# ---------------------------------------------------------------- broken input


def test_corrupt_image_that_needs_resizing_is_a_clear_error() -> None:
    data = png((640, 480))
    broken = data[:40] + bytes(len(data) - 40)
    with pytest.raises(InvalidContentError, match=r"image 2 of the request .*corrupt or trunc"):
        prepared(image_block(png()), image_block(broken))


def test_image_errors_name_the_message_and_block_the_image_came_from() -> None:
    broken = image_block(png((640, 480))[:60])
    messages: list[BaseMessage] = [
        HumanMessage(content=["look", image_block(png())]),
        AIMessage(content="", tool_calls=[{"name": "shot", "args": {}, "id": "c1"}]),
        ToolMessage(content=["screenshot:", broken], tool_call_id="c1"),
    ]
    with pytest.raises(InvalidContentError) as caught:
        ImagePipeline(SMALL).prepare(to_wire_messages(messages))
    error = caught.value
    # The tool's image travels in a user message after the tool result; the error names
    # where the user put it.
    assert str(error).startswith(
        "message 2, content block 1: image 2 of the request (data:image/png;base64, 60 bytes): "
    )
    assert (error.message_index, error.block_index, error.image_number) == (2, 1, 2)


def test_truncated_jpeg_is_a_clear_error() -> None:
    data = encode(photo((640, 480)), "JPEG")
    with pytest.raises(InvalidContentError, match=r"image 1 of the request .*truncated"):
        prepared(image_block(data[: len(data) // 2]))


def test_data_that_is_no_image_is_a_clear_error() -> None:
    block = {"type": "image", "base64": b64(b"<html>not an image</html>"), "mime_type": "image/png"}
    with pytest.raises(InvalidContentError, match=r"image 1 .*not an image format Pillow can read"):
        prepared(block)


def test_decompression_bomb_is_refused_without_decoding() -> None:
    bomb = png_header_only(100_000, 100_000)
    pipeline = ImagePipeline(ImageSettings())
    wire = wire_for(image_block(bomb))
    with pytest.raises(InvalidContentError, match=r"100000x100000 .*decompression bomb"):
        pipeline.prepare(wire)
    assert pipeline.stats.decoded == 0


def test_max_input_pixels_applies_to_formats_read_by_pillow_only() -> None:
    data = encode(screenshot((300, 200)), "BMP")
    settings = ImageSettings(max_input_pixels=10_000)
    with pytest.raises(InvalidContentError, match=r"claims 300x200 pixels"):
        prepared(
            {"type": "image", "base64": b64(data), "mime_type": "image/bmp"}, settings=settings
        )


# ---------------------------------------------------------------- request size guard


def test_request_over_the_limit_names_the_largest_images() -> None:
    low = Budget(max_pixels=512 * 512, max_side=512)
    settings = ImageSettings(max_side=None, max_pixels=None, max_request_bytes=100_000, low=low)
    small, large, medium = png((10, 10)), encode(photo((300, 200)), "PNG"), png((200, 200))
    with pytest.raises(InvalidContentError) as caught:
        prepared(image_block(small), image_block(large), image_block(medium), settings=settings)
    message = str(caught.value)
    assert "over the limit of 0.10 MB (max_request_bytes)" in message
    large_size = len(data_uri("image/png", large))
    assert f"image 2 ({large_size / 1e6:.2f} MB)" in message
    assert message.index("image 2") < message.index("image 3") < message.index("image 1")
    assert f"image 2 ({large_size / 1e6:.2f} MB) in message 0, content block 2" in message
    assert "image_max_pixels" in message
    assert 'give images detail="low" (within 512 px a side)' in message
    assert 'detail="high"' not in message


def test_request_over_the_limit_names_an_image_sent_at_detail_high() -> None:
    settings = ImageSettings(max_side=None, max_pixels=None, max_request_bytes=100_000)
    large = data_uri("image/png", encode(photo((300, 200)), "PNG"))
    small = data_uri("image/png", png((10, 10)))
    blocks = [
        {"type": "image_url", "image_url": {"url": small}},
        {"type": "image_url", "image_url": {"url": large, "detail": "high"}},
    ]
    with pytest.raises(InvalidContentError) as caught:
        prepared(*blocks, settings=settings)
    message = str(caught.value)
    named = f'image 2 ({len(large) / 1e6:.2f} MB, detail="high") in message 0, content block 2'
    assert named in message
    # Without a low budget, detail="low" would change nothing: it is not offered.
    assert 'detail="low"' not in message


def test_request_within_the_limit_or_without_one_passes() -> None:
    block = image_block(encode(photo((300, 200)), "PNG"))
    body_size = len(data_uri("image/png", base64.b64decode(block["base64"])))
    for limit in (None, body_size + 1000):
        settings = ImageSettings(max_side=None, max_pixels=None, max_request_bytes=limit)
        assert len(prepared(block, settings=settings)[0]) == body_size


def test_guard_counts_the_prepared_size_not_the_original() -> None:
    data = encode(photo((1200, 900)), "PNG")
    assert len(data) > 1_000_000
    settings = ImageSettings(max_side=300, max_pixels=None, max_request_bytes=200_000)
    (url,) = prepared(image_block(data), settings=settings)
    assert len(url) < 200_000


# ---------------------------------------------------------------- cache


def test_second_turn_does_no_decoding() -> None:
    pipeline = ImagePipeline(SMALL)
    block = image_block(encode(photo((640, 480)), "JPEG"))
    first, second = wire_for(block), wire_for(block)
    pipeline.prepare(first)
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (1, 0)
    pipeline.prepare(second)
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (1, 1)
    assert sent_urls(first) == sent_urls(second)
    # the cached entry carries the sizes: the second turn reports them without a decode
    assert [(ref.original, ref.sent) for ref in second.images] == [((640, 480), (64, 48))]
    assert [(ref.original, ref.sent) for ref in first.images] == [((640, 480), (64, 48))]


def test_sizes_are_recorded_as_the_pipeline_computes_them() -> None:
    pipeline = ImagePipeline(SMALL)
    wire = wire_for(image_block(png((40, 30))), image_block(encode(photo((300, 100)), "JPEG")))
    pipeline.prepare(wire)
    assert [(ref.original, ref.sent) for ref in wire.images] == [
        ((40, 30), (40, 30)),  # sent as given
        ((300, 100), (64, 21)),  # downscaled: the size of the file sent
    ]
    assert [open_uri(url).size for url in sent_urls(wire)] == [(40, 30), (64, 21)]


def test_the_same_image_at_two_details_is_two_cache_entries() -> None:
    settings = ImageSettings(max_side=64, max_pixels=None, low=Budget(max_pixels=None, max_side=32))
    pipeline = ImagePipeline(settings)
    data = b64(encode(photo((640, 480)), "JPEG"))

    def block(detail: str | None) -> dict[str, object]:
        url = f"data:image/jpeg;base64,{data}"
        return {"type": "image_url", "image_url": {"url": url, "detail": detail}}

    first = wire_for(block("low"), block(None), block("auto"))
    pipeline.prepare(first)
    assert [ref.sent for ref in first.images] == [(32, 24), (64, 48), (64, 48)]
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (2, 1)  # auto is the default
    second = wire_for(block("auto"), block("low"))
    pipeline.prepare(second)
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (2, 3)
    assert [ref.sent for ref in second.images] == [(64, 48), (32, 24)]
    # the hint is still sent as given
    assert [part["image_url"].get("detail") for part in sent(second)[0]["content"][1:]] == [
        "auto",
        "low",
    ]


def test_images_within_the_limits_are_neither_decoded_nor_cached() -> None:
    pipeline = ImagePipeline(SMALL)
    for _ in range(2):
        pipeline.prepare(wire_for(image_block(png())))
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (0, 0)


def test_cache_is_bounded_and_least_recently_used_goes_first() -> None:
    blocks = [image_block(encode(photo((640, 480), seed), "JPEG")) for seed in range(3)]
    entries = sorted(len(url) + len("sha256:") + 64 for url in prepared(*blocks))
    budget = entries[1] + entries[2]
    assert budget < sum(entries)
    pipeline = ImagePipeline(ImageSettings(max_side=64, max_pixels=64 * 48, cache_bytes=budget))
    for index in (0, 1, 0, 2, 0, 1):
        pipeline.prepare(wire_for(blocks[index]))
    # 0, 1 decoded; 0 hit; 2 decoded and evicts 1; 0 hit; 1 decoded again.
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (4, 2)


def test_cache_can_be_turned_off() -> None:
    pipeline = ImagePipeline(ImageSettings(max_side=64, cache_bytes=0))
    block = image_block(encode(photo((640, 480)), "JPEG"))
    for _ in range(2):
        pipeline.prepare(wire_for(block))
    assert (pipeline.stats.decoded, pipeline.stats.cache_hits) == (2, 0)


def test_pipeline_is_safe_to_share_between_threads() -> None:
    pipeline = ImagePipeline(SMALL)
    blocks = [image_block(encode(photo((400, 300), seed), "JPEG")) for seed in range(4)]
    results: list[list[str]] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        wire = wire_for(*blocks)
        pipeline.prepare(wire)
        results.append(sent_urls(wire))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result == results[0] for result in results)
    assert pipeline.stats.decoded + pipeline.stats.cache_hits == 32
    assert pipeline.stats.decoded >= 4


# ---------------------------------------------------------------- async and the rest


def test_async_prepare_gives_the_same_payload() -> None:
    blocks = [image_block(encode(photo((640, 480)), "JPEG")), image_block(png())]
    sync_wire, async_wire = wire_for(*blocks), wire_for(*blocks)
    ImagePipeline(SMALL).prepare(sync_wire)
    asyncio.run(ImagePipeline(SMALL).aprepare(async_wire))
    assert json_bytes(async_wire.messages) == json_bytes(sync_wire.messages)


def test_urls_are_left_to_the_server_by_default() -> None:
    url = "https://example.com/a.png"
    assert prepared(image_block(url, detail="high")) == [url]


def test_text_only_payload_is_untouched() -> None:
    wire = to_wire_messages([HumanMessage(content="hello")])
    ImagePipeline(ImageSettings(max_request_bytes=1000)).prepare(wire)
    assert sent(wire) == [{"role": "user", "content": "hello"}]
    with pytest.raises(InvalidContentError, match=r"about \d\d bytes, over the limit of 10 bytes"):
        ImagePipeline(ImageSettings(max_request_bytes=10)).prepare(wire)


def test_package_works_where_pillow_cannot_be_imported() -> None:
    """The real thing, not the hook: a fresh interpreter in which importing PIL fails."""
    script = f"""
import sys
class NoPillow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "PIL":
            raise ImportError("no Pillow here")
sys.meta_path.insert(0, NoPillow())
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_hf_vlm import image_block
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._media.settings import Budget, ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages
small = {png((4, 3))!r}
wire = to_wire_messages([HumanMessage(content=[image_block(small)])])
ImagePipeline(ImageSettings()).prepare(wire)
assert {b64(png((4, 3)))!r}.encode() + b'"' in json_bytes(wire.messages)
assert "PIL" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
