"""Reading an image's size from its first bytes (``_media.headers``), without decoding it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from langchain_hf_vlm._media.headers import read_image_header
from tests.support.images import (
    encode,
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
