"""Images for the image tests: photos, screenshots, PNGs, data URIs, and what reaches the wire."""

from __future__ import annotations

import base64
import io
import json
import random
import struct
import zlib
from typing import Any

from langchain_core.messages import HumanMessage
from PIL import Image, ImageDraw

from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages

SMALL = ImageSettings(max_side=64, max_pixels=64 * 48)


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
