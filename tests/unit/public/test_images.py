"""``image_block`` (``langchain_hf_vlm.images``): every source kind to its exact block and wire form."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from langchain_hf_vlm import image_block
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.settings import ImageSettings
from tests.support.images import (
    b64,
    data_uri,
    encode,
    photo,
    png,
    screenshot,
    sent,
    wire_for,
)


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


def test_files_bytes_and_urls_need_no_pillow(tmp_path: Path, no_pillow: None) -> None:
    data = png()
    (tmp_path / "a.png").write_bytes(data)
    assert image_block(tmp_path / "a.png")["base64"] == b64(data)
    assert image_block(data)["mime_type"] == "image/png"
    assert image_block("http://example.com/a.png") == {
        "type": "image",
        "url": "http://example.com/a.png",
    }
    with pytest.raises(ValueError, match=r"image bytes .*langchain-hf-vlm\[images\]"):
        image_block(encode(Image.new("RGB", (5, 5)), "BMP"))


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
