"""Images: every source kind to its exact block and wire form, sizing, limits, the cache."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from PIL import GifImagePlugin, Image, ImageChops, ImageDraw, ImageOps

from langchain_hf_vlm import InvalidContentError, image_block
from langchain_hf_vlm._media.headers import read_image_header
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import WireMessages, json_bytes
from langchain_hf_vlm._media.settings import ImageSettings, target_size
from langchain_hf_vlm._request.messages import to_wire_messages

SMALL = ImageSettings(max_side=64, max_pixels=64 * 48)


# ---------------------------------------------------------------- image makers


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Smooth colour gradients under sensor-like noise: never repeats a neighbour."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    channels = [gradient, gradient.transpose(Image.Transpose.ROTATE_180), Image.new("L", size, 90)]
    base = Image.merge("RGB", channels)
    rnd = random.Random(seed)
    noise = Image.frombytes("RGB", size, rnd.randbytes(width * height * 3))
    return Image.blend(base, noise, 0.15)


def screenshot(size: tuple[int, int]) -> Image.Image:
    """Flat areas, lines of "text" and boxes: what a UI screenshot looks like."""
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 20), fill=(32, 36, 44))
    for y in range(30, size[1] - 10, 14):
        draw.text((10, y), "lorem ipsum dolor sit amet " * 4, fill=(30, 30, 30))
    draw.rounded_rectangle((size[0] // 2, 40, size[0] - 20, 120), radius=6, fill=(200, 220, 255))
    return image


def png(size: tuple[int, int] = (40, 30), color: tuple[int, ...] = (200, 30, 30)) -> bytes:
    return encode(Image.new("RGB", size, color), "PNG")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{b64(data)}"


def decode_uri(url: str) -> tuple[str, bytes]:
    header, _, payload = url.partition(",")
    return header.removeprefix("data:").removesuffix(";base64"), base64.b64decode(payload)


def open_uri(url: str) -> Image.Image:
    return Image.open(io.BytesIO(decode_uri(url)[1]))


def wire_for(*blocks: Any) -> WireMessages:
    return to_wire_messages([HumanMessage(content=[{"type": "text", "text": "hi"}, *blocks])])


def sent(wire: WireMessages) -> list[dict[str, Any]]:
    """The ``messages`` JSON that leaves the process."""
    messages: list[dict[str, Any]] = json.loads(json_bytes(wire.messages))
    return messages


def sent_urls(wire: WireMessages) -> list[str]:
    return [
        part["image_url"]["url"]
        for message in sent(wire)
        for part in message["content"]
        if part["type"] == "image_url"
    ]


def prepared(*blocks: Any, settings: ImageSettings = SMALL) -> list[str]:
    wire = wire_for(*blocks)
    ImagePipeline(settings).prepare(wire)
    return sent_urls(wire)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its (empty) data does not have."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- image_block: every source


def test_path_string_gives_a_base64_block(tmp_path: Path) -> None:
    data = png()
    path = tmp_path / "red.png"
    path.write_bytes(data)
    assert image_block(str(path)) == {
        "type": "image",
        "base64": b64(data),
        "mime_type": "image/png",
    }


def test_mime_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    data = encode(photo((20, 10)), "JPEG")
    path = tmp_path / "actually-a-jpeg.png"
    path.write_bytes(data)
    assert image_block(path) == {"type": "image", "base64": b64(data), "mime_type": "image/jpeg"}


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like_sources(kind: type) -> None:
    data = encode(Image.new("RGB", (5, 5)), "GIF")
    block = image_block(kind(data))
    assert block == {"type": "image", "base64": b64(data), "mime_type": "image/gif"}


def test_http_url_stays_a_url_with_detail_in_extras() -> None:
    url = "https://example.com/cat.png"
    assert image_block(url) == {"type": "image", "url": url}
    assert image_block(url, detail="low") == {
        "type": "image",
        "url": url,
        "extras": {"detail": "low"},
    }


def test_data_uri_is_normalised_and_its_mime_type_checked() -> None:
    data = encode(Image.new("RGB", (5, 5)), "WEBP")
    text = b64(data)
    uri = f"data:image/png;base64,{text[:10]}\n{text[10:]}"
    assert image_block(uri) == {"type": "image", "base64": text, "mime_type": "image/webp"}


def test_pil_photo_becomes_jpeg_and_transparent_image_png() -> None:
    opaque = image_block(photo((60, 40)))
    assert opaque["mime_type"] == "image/jpeg"
    assert Image.open(io.BytesIO(base64.b64decode(opaque["base64"]))).size == (60, 40)

    transparent = Image.new("RGBA", (30, 30), (255, 0, 0, 0))
    transparent.paste((0, 0, 255, 255), (10, 10, 20, 20))
    block = image_block(transparent)
    assert block["mime_type"] == "image/png"
    decoded = Image.open(io.BytesIO(base64.b64decode(block["base64"])))
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((0, 0)) == (255, 0, 0, 0)


def test_pil_flat_graphics_become_png() -> None:
    assert image_block(screenshot((200, 120)))["mime_type"] == "image/png"


def test_pil_image_is_encoded_upright_and_left_untouched() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6
    with_orientation = Image.open(io.BytesIO(encode(image, "JPEG", exif=exif.tobytes())))
    block = image_block(with_orientation)
    assert Image.open(io.BytesIO(base64.b64decode(block["base64"]))).size == (20, 40)
    assert with_orientation.size == (40, 20)


def test_other_formats_are_converted_with_pillow() -> None:
    block = image_block(encode(screenshot((50, 40)), "BMP"))
    assert block["mime_type"] == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(block["base64"]))).size == (50, 40)


def test_files_bytes_and_urls_are_kept_as_they_are(tmp_path: Path) -> None:
    data = png()
    (tmp_path / "a.png").write_bytes(data)
    assert image_block(tmp_path / "a.png")["base64"] == b64(data)
    assert image_block(data)["mime_type"] == "image/png"
    assert image_block("http://example.com/a.png") == {
        "type": "image",
        "url": "http://example.com/a.png",
    }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"hello, world", r"image bytes \(12 bytes\): it is not an image format Pillow can read"),
        (b"\x89PNG\r\n\x1a\n" + bytes(8), r"image bytes .*image/png header is corrupt"),
        ("data:image/png;base64,!!!!", r"data URI 'data:image/png;base64,!!!!': invalid base64"),
        ("data:image/png,abc", r"must look like data:<mime>;base64"),
        ("ftp://example.com/a.png", r"only http\(s\) URLs and data URIs"),
        ("file:///etc/passwd", r"only http\(s\) URLs and data URIs"),
    ],
)
def test_unreadable_sources_are_clear_errors(source: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        image_block(source)


def test_unreadable_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    with pytest.raises(ValueError, match=r"file '.*notes\.txt'"):
        image_block(path)
    with pytest.raises(FileNotFoundError):
        image_block(tmp_path / "missing.png")


def test_wrong_kind_and_wrong_detail() -> None:
    with pytest.raises(TypeError, match="got int"):
        image_block(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="detail must be one of"):
        image_block("https://example.com/a.png", detail="ultra")  # type: ignore[arg-type]


# ---------------------------------------------------------------- exact wire form


def test_each_source_kind_reaches_the_wire_exactly(tmp_path: Path) -> None:
    data = png()
    (tmp_path / "a.png").write_bytes(data)
    url = "https://example.com/cat.png"
    blocks = [
        image_block(tmp_path / "a.png"),
        image_block(data, detail="high"),
        image_block(data_uri("image/png", data)),
        image_block(url, detail="low"),
    ]
    wire = wire_for(*blocks)
    ImagePipeline(ImageSettings()).prepare(wire)
    assert sent(wire)[0]["content"][1:] == [
        {"type": "image_url", "image_url": {"url": data_uri("image/png", data)}},
        {"type": "image_url", "image_url": {"url": data_uri("image/png", data), "detail": "high"}},
        {"type": "image_url", "image_url": {"url": data_uri("image/png", data)}},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
    ]


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


@given(st.binary(max_size=200))
def test_header_reader_never_fails_on_arbitrary_bytes(data: bytes) -> None:
    for prefix in (b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8"):
        read_image_header(prefix + data)


@pytest.mark.parametrize(
    ("fmt", "mode", "options"),
    [
        ("PNG", "RGB", {}),
        ("JPEG", "RGB", {"progressive": True}),
        ("JPEG", "CMYK", {}),
        ("GIF", "P", {}),
        ("WEBP", "RGB", {}),
        ("WEBP", "RGB", {"lossless": True}),
        ("WEBP", "RGBA", {}),
    ],
)
def test_header_reader_agrees_with_pillow(fmt: str, mode: str, options: dict[str, Any]) -> None:
    data = encode(Image.new(mode, (317, 211)), fmt, **options)
    header = read_image_header(data)
    assert header is not None
    assert (header.width, header.height) == (317, 211)


# ---------------------------------------------------------------- request size guard


def test_request_over_the_limit_names_the_largest_images() -> None:
    settings = ImageSettings(max_side=None, max_pixels=None, max_request_bytes=100_000)
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


def test_images_that_fit_never_import_pillow() -> None:
    """Pillow is imported only to decode (it costs start-up time): a fresh interpreter in which
    importing PIL fails still sends an image that fits."""
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
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages
small = {png((4, 3))!r}
wire = to_wire_messages([HumanMessage(content=[image_block(small)])])
ImagePipeline(ImageSettings()).prepare(wire)
assert {b64(png((4, 3)))!r}.encode() + b'"' in json_bytes(wire.messages)
assert "PIL" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


# ------------------------------------------------------------------ the model's image fields


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
