"""Plain-text files (text, Markdown, CSV, JSON) as text parts. Pure: no I/O.

The file goes in whole, as one text part introduced by its name and type, or not at all: a
file over ``max_bytes`` or not UTF-8 is an :class:`InvalidContentError`.
"""

from __future__ import annotations

from langchain_hf_vlm.errors import InvalidContentError

TEXT_MIME_TYPES = ("text/plain", "text/markdown", "text/csv", "application/json")
TEXT_SUFFIXES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
}
"""Text files have no signature: their type comes from the name when it is not given."""
DEFAULT_MAX_TEXT_BYTES = 100_000
"""Largest text file: about 25,000 tokens of English, most of a 32k context."""


def text_file_part(data: bytes | str, *, mime_type: str, name: str, max_bytes: int) -> str:
    """The text part for a text file: a line naming it, then its content.

    Raises:
        InvalidContentError: The file is larger than ``max_bytes`` or not UTF-8 text.
    """
    size = len(data.encode()) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise InvalidContentError(
            f"text file {name}: it is {size:,} bytes, over the limit of {max_bytes:,} "
            "(text_file_max_bytes)"
        )
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidContentError(
                f"text file {name}: it is not UTF-8 text (byte {exc.start}: {exc.reason})"
            ) from None
    return f"File {name} ({mime_type}):\n{text}"


__all__ = ["DEFAULT_MAX_TEXT_BYTES", "TEXT_MIME_TYPES", "TEXT_SUFFIXES", "text_file_part"]
