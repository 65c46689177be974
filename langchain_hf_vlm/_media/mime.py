"""Image type detection from the bytes themselves, never from a name or a claim."""

from __future__ import annotations

import base64
import binascii

SUPPORTED_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def sniff_image_mime(data: bytes) -> str | None:
    """Return the mime type of PNG, JPEG, GIF or WebP bytes, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


_WHITESPACE = " \n\r\t\f\v"


def without_whitespace(data: str) -> str:
    """``data`` with whitespace removed; the same string, uncopied, when it has none (images
    are megabytes of base64: a scan per character class is much cheaper than a copy)."""
    if any(char in data for char in _WHITESPACE):
        return "".join(data.split())
    return data


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def check_base64(data: str) -> None:
    """Raise ValueError unless ``data`` (no whitespace) is valid standard base64, without
    decoding it: the alphabet, the length and the padding are all that decoding would check,
    and checking them is several times faster than decoding megabytes."""
    try:
        raw = data.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("invalid base64 data (non-ASCII characters)") from None
    body = raw.rstrip(b"=")
    if len(raw) - len(body) > 2 or len(raw) % 4:
        raise ValueError("invalid base64 data (incorrect length or padding)")
    if body.translate(None, _BASE64_ALPHABET):
        raise ValueError("invalid base64 data (characters outside the base64 alphabet)")


def decode_base64(data: str) -> bytes:
    """Strictly decode standard base64 (whitespace allowed), raising ValueError when invalid."""
    compact = without_whitespace(data)
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64 data ({exc})") from None


def sniff_base64_head(data: str) -> str | None:
    """Sniff the image type from the first bytes of base64 text without decoding all of it."""
    head = "".join(data[:64].split())
    head = head[: len(head) - len(head) % 4]
    try:
        return sniff_image_mime(base64.b64decode(head, validate=True))
    except (binascii.Error, ValueError):
        return None
