"""Image type and size from the first bytes of the file: pure Python, no Pillow, no decoding."""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from langchain_hf_vlm._media.mime import sniff_image_mime

_SMALL_HEAD_CHARS = 2 * 1024
"""Base64 characters of a data URI decoded first to read the header (1.5 KB of data): enough
for PNG, GIF, WebP and most JPEGs."""
_HEAD_CHARS = 64 * 1024
"""Base64 characters decoded next (48 KB of data), for JPEGs with long EXIF or ICC segments
first; a header further in needs the whole payload decoded."""


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: its type and stored size (before EXIF rotation)."""

    mime_type: str
    width: int
    height: int


def read_image_header(data: bytes) -> ImageHeader | None:
    """Type and size of PNG, JPEG, GIF or WebP data from its first bytes; None if unreadable."""
    mime = sniff_image_mime(data)
    if mime is None:
        return None
    size = _HEADER_READERS[mime](data)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return ImageHeader(mime, size[0], size[1])


def data_uri_header(url: str) -> ImageHeader | None:
    """The header of a data URI's image from its first bytes: 2 KB hold it for PNG, GIF, WebP
    and most JPEGs; 64 KB for JPEGs with a large EXIF block first. None: not found there (or
    unreadable); decoding all of the data then decides."""
    start = url.index(",") + 1
    for chars in (_SMALL_HEAD_CHARS, _HEAD_CHARS):
        header = read_image_header(_decode_head(url[start : start + chars]))
        if header is not None or len(url) - start <= chars:
            return header
    return None


def _decode_head(payload: str) -> bytes:
    """The first bytes of base64 data, or none when that prefix does not decode on its own
    (whitespace in the data)."""
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return b""


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""Start-of-frame markers; C4, C8 and CC in that range are tables and extensions."""


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        if marker in (0xD9, 0xDA):
            return None
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


_HEADER_READERS = {
    "image/png": _png_size,
    "image/gif": _gif_size,
    "image/webp": _webp_size,
    "image/jpeg": _jpeg_size,
}
