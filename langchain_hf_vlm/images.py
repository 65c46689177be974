"""Turn any image a user holds into a standard LangChain image block.

The blocks are plain LangChain v1 content blocks, so messages built with them work with
``ChatHuggingFaceVLM`` and with any other chat model. Sizing for the model happens later, when
the model sends the request (see ``ChatHuggingFaceVLM.image_max_pixels``); the size each image
was sent at comes back in ``response_metadata["images"]``, and :func:`box_to_original` maps a
box the model wrote back to the original image.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeGuard, Union

from langchain_hf_vlm._families.boxes import box_to_original
from langchain_hf_vlm._media.codec import encode_image, is_photo, reencode
from langchain_hf_vlm._media.headers import read_image_header
from langchain_hf_vlm._media.mime import decode_base64, sniff_image_mime
from langchain_hf_vlm._media.refs import ImageProblem
from langchain_hf_vlm._media.settings import DEFAULT_JPEG_QUALITY, ImageSettings
from langchain_hf_vlm._media.uris import parse_data_uri, scheme_of
from langchain_hf_vlm.errors import InvalidContentError

if TYPE_CHECKING:
    from PIL import Image

ImageSource: TypeAlias = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "Image.Image"]
"""A file path, raw bytes, a PIL image, an http(s) URL or a ``data:`` URI."""

_DETAILS = ("auto", "low", "high")
_NO_LIMITS = ImageSettings(max_pixels=None, max_side=None)
"""A block keeps the image's size; the model sizes it when it sends it."""


def image_block(
    source: ImageSource, *, detail: Literal["auto", "low", "high"] | None = None
) -> dict[str, Any]:
    """Make a standard LangChain image content block from any image source.

    Files, bytes and data URIs become ``{"type": "image", "base64": ..., "mime_type": ...}``
    with the mime type read from the bytes themselves, never from a file name or a claim;
    http(s) URLs become ``{"type": "image", "url": ...}`` and are not downloaded. PNG, JPEG,
    GIF and WebP data is kept byte-for-byte (never decoded). Other formats Pillow reads (BMP,
    TIFF...) are converted to PNG or JPEG, and PIL images are encoded upright (EXIF orientation
    applied) as PNG when they have transparency or are flat graphics, JPEG otherwise.

    Args:
        source: A path (``str`` or ``os.PathLike``), ``bytes``-like data, a PIL image, an http(s)
            URL, or a ``data:<mime>;base64,...`` URI.
        detail: OpenAI's ``detail`` hint ("auto", "low" or "high"), kept in the block's
            ``extras``; servers that do not know it ignore it.

    Returns:
        The image content block (a ``langchain_core.messages.content.ImageContentBlock``).

    Raises:
        ValueError: The data is not an image that can be read, naming the source.
        FileNotFoundError: The path does not exist.
        TypeError: The source is of no supported kind.

    Example:
        ```python
        from langchain_core.messages import HumanMessage
        from langchain_hf_vlm.images import image_block

        message = HumanMessage(content=[
            {"type": "text", "text": "What is in this picture?"},
            image_block("holiday.jpg"),
            image_block("https://example.com/cat.png", detail="low"),
        ])
        ```
    """
    if detail is not None and detail not in _DETAILS:
        raise ValueError(f"detail must be one of {', '.join(_DETAILS)}, got {detail!r}")
    block = _block(source)
    if detail is not None:
        block["extras"] = {"detail": detail}
    return block


def _block(source: ImageSource) -> dict[str, Any]:
    if isinstance(source, str):
        scheme = scheme_of(source)
        if scheme in ("http", "https"):
            return {"type": "image", "url": source}
        if scheme == "data":
            return _from_data_uri(source)
        if "://" in source[:16]:
            raise ValueError(
                f"image URL {_short(source)!r}: only http(s) URLs and data URIs are supported; "
                "pass a local file as a path"
            )
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return _from_bytes(path.read_bytes(), f"file {str(path)!r}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _from_bytes(data, f"image bytes ({len(data):,} bytes)")
    if _is_pil_image(source):
        return _from_pil(source)
    raise TypeError(
        "an image source must be a path, bytes, a PIL image, an http(s) URL or a data URI, "
        f"got {type(source).__name__}"
    )


def _from_data_uri(uri: str) -> dict[str, Any]:
    where = f"data URI {_short(uri)!r}"
    try:
        payload = parse_data_uri(uri, "an image").payload
        data = decode_base64(payload)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return _from_bytes(data, where, "".join(payload.split()))


def _from_bytes(data: bytes, where: str, encoded: str | None = None) -> dict[str, Any]:
    header = read_image_header(data)
    if header is not None:
        text = encoded if encoded is not None else _base64(data)
        return {"type": "image", "base64": text, "mime_type": header.mime_type}
    mime = sniff_image_mime(data)
    if mime is not None:
        raise ValueError(f"{where}: the {mime} header is corrupt or truncated")
    return _converted(data, where)


def _converted(data: bytes, where: str) -> dict[str, Any]:
    """Formats servers do not take (BMP, TIFF...), re-encoded as PNG or JPEG with Pillow."""
    try:
        mime, converted = reencode(data, None, _NO_LIMITS)
    except ImageProblem as problem:
        raise InvalidContentError(f"{where}: {problem}") from problem.__cause__
    return {"type": "image", "base64": _base64(converted), "mime_type": mime}


def _from_pil(image: Image.Image) -> dict[str, Any]:
    mime, data = encode_image(image, DEFAULT_JPEG_QUALITY, photo=is_photo(image, image.format))
    return {"type": "image", "base64": _base64(data), "mime_type": mime}


def _is_pil_image(source: object) -> TypeGuard[Image.Image]:
    # A PIL image exists only if Pillow was imported; checking sys.modules avoids importing it.
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(source, module.Image)


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["ImageSource", "box_to_original", "image_block"]
