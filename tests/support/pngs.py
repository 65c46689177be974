"""Real, decodable PNGs written with the standard library (no binary fixtures in the repo)."""

from __future__ import annotations

import struct
import zlib


def rgb_png(width: int, height: int, rows: bytes, *, level: int = 6) -> bytes:
    """An RGB PNG of ``rows`` (each a filter byte, then 3 bytes a pixel), zlib ``level``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, level))
        + chunk(b"IEND", b"")
    )


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A real red RGB PNG of the given size."""
    return rgb_png(
        width, height, b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    )
