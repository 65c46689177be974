"""Document, video and text-file blocks in every shape LangChain users write. Pure: no I/O.

:func:`read_media_block` reads one content block into a :class:`MediaSource` (what it holds,
where its bytes are, how to name it, which pages or frames), or None when the block is no
document, video or text file. It checks the shape and the base64 (without decoding it), never
the content: that is for the preparation step, which has the limits.

Shapes read:

- LangChain v1 ``file`` blocks (``base64`` or ``url``, ``mime_type``; the name in
  ``filename`` or ``extras["filename"]``), and v0 ones (``source_type`` "base64" | "url" |
  "text", ``data``). OpenAI chat-completion ``file`` blocks (``file.file_data`` as a data URI,
  ``file.filename``).
- Anthropic ``document`` blocks: ``source`` of type "base64", "url" or "text"; ``title``.
- LangChain v1 and v0 ``video`` blocks; vLLM's ``video_url`` part.
- LangChain v1 ``text-plain`` blocks (``text``, ``base64`` or ``url``; ``title``).

Options the public helpers put in ``extras``: ``pages`` (PDF), ``max_frames`` and
``frames_per_second`` (video).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from langchain_hf_vlm._media.detect import sniff_base64
from langchain_hf_vlm._media.mime import check_base64, without_whitespace
from langchain_hf_vlm._media.pdf import PDF_MIME_TYPE, parse_pages
from langchain_hf_vlm._media.text import TEXT_MIME_TYPES, TEXT_SUFFIXES
from langchain_hf_vlm._media.uris import check_http_url, parse_data_uri
from langchain_hf_vlm._media.video import VideoLimits

MediaKind = Literal["pdf", "video", "text"]

_MEDIA_BLOCKS = frozenset({"file", "document", "video", "video_url", "text-plain"})
_URL_SUFFIXES: dict[str, tuple[MediaKind, str]] = {
    ".pdf": ("pdf", PDF_MIME_TYPE),
    **{suffix: ("text", mime) for suffix, mime in TEXT_SUFFIXES.items()},
}
_NO_FILE_STORE = (
    "a file given by id refers to a provider's file store, which chat-completion servers do "
    "not have; send the file as base64 data or a URL"
)


@dataclass(frozen=True)
class MediaSource:
    """What one document, video or text-file block holds.

    Attributes:
        kind: "pdf", "video" or "text"; None for a URL whose type its bytes will tell.
        mime_type: The stated or detected type (None: unknown yet).
        base64: The data as validated base64 text (no whitespace), if inline.
        url: The http(s) URL to download, if not inline.
        text: The text itself, for text sources given as text.
        name: The file name or title the block gives, if any.
        pages: PDF pages to send (1-based, in order); None: all.
        max_frames: Frames to send of a video; None: the model's setting.
        frames_per_second: Sampling rate of a video; None: the model's setting.
    """

    kind: MediaKind | None
    mime_type: str | None = None
    base64: str | None = None
    url: str | None = None
    text: str | None = None
    name: str | None = None
    pages: tuple[int, ...] | None = None
    max_frames: int | None = None
    frames_per_second: float | None = None


def read_media_block(block: Mapping[str, Any]) -> MediaSource | None:
    """The media a content block holds; None if it is no document, video or text file.

    Raises:
        ValueError: The block is one of these but malformed: no data, a file id, invalid
            base64, a type that is none of PDF, video and the text types, bad options.
    """
    kind = block.get("type")
    if not isinstance(kind, str) or kind not in _MEDIA_BLOCKS:
        return None
    if "file_id" in block or block.get("source_type") == "id":
        raise ValueError(_NO_FILE_STORE)
    if kind == "document":
        source = _anthropic_document(block)
    elif kind == "video_url":
        source = _video_url(block)
    elif kind == "file" and isinstance(block.get("file"), Mapping):
        source = _openai_file(block["file"])
    else:
        source = _standard_block(block, kind)
    return _with_options(source, block)


def _standard_block(block: Mapping[str, Any], kind: str) -> _Raw:
    """v1 and v0 ``file``, ``video`` and ``text-plain`` blocks."""
    mime = _mime(block.get("mime_type"))
    if kind == "text-plain":
        mime = mime or "text/plain"
    name = _name(block, "filename", "title")
    source_type = block.get("source_type")
    if source_type == "text" or (source_type is None and kind == "text-plain" and "text" in block):
        return _Raw(kind, mime or "text/plain", text=_text(block.get("text")), name=name)
    if source_type == "url" or (source_type is None and "url" in block):
        return _Raw(kind, mime, url=_checked_url(block.get("url")), name=name)
    if source_type == "base64" or (source_type is None and "base64" in block):
        data = block.get("base64") if "base64" in block else block.get("data")
        return _Raw(kind, mime, base64=_checked_base64(data), name=name)
    raise ValueError(f"a {kind} block needs 'base64' or 'url'")


def _openai_file(file: Mapping[str, Any]) -> _Raw:
    if "file_id" in file:
        raise ValueError(_NO_FILE_STORE)
    data = file.get("file_data")
    if not isinstance(data, str):
        raise ValueError("an OpenAI file block needs file.file_data (a data URI)")
    name = file.get("filename") if isinstance(file.get("filename"), str) else None
    if not data.startswith("data:"):  # OpenAI also takes bare base64
        return _Raw("file", None, base64=_checked_base64(data), name=name)
    mime, payload = _data_uri(data)
    return _Raw("file", mime, base64=_checked_base64(payload), name=name)


def _anthropic_document(block: Mapping[str, Any]) -> _Raw:
    source = block.get("source")
    if not isinstance(source, Mapping):
        raise ValueError("an Anthropic document block needs a 'source'")
    name = _name(block, "title")
    source_type = source.get("type")
    mime = _mime(source.get("media_type"))
    if source_type == "base64":
        return _Raw("file", mime, base64=_checked_base64(source.get("data")), name=name)
    if source_type == "url":
        return _Raw("file", mime, url=_checked_url(source.get("url")), name=name)
    if source_type == "text":
        return _Raw("file", mime or "text/plain", text=_text(source.get("data")), name=name)
    if source_type == "file":
        raise ValueError(_NO_FILE_STORE)
    raise ValueError(
        f"unsupported Anthropic document source type {source_type!r}; supported: base64, url, text"
    )


def _video_url(block: Mapping[str, Any]) -> _Raw:
    value = block.get("video_url")
    url = value.get("url") if isinstance(value, Mapping) else value
    if isinstance(url, str) and url.startswith("data:"):
        mime, payload = _data_uri(url)
        return _Raw("video", mime, base64=_checked_base64(payload))
    return _Raw("video", None, url=_checked_url(url))


@dataclass(frozen=True)
class _Raw:
    """A block's source before its kind is decided."""

    block_type: str
    mime_type: str | None
    base64: str | None = None
    url: str | None = None
    text: str | None = None
    name: str | None = None


def _with_options(raw: _Raw, block: Mapping[str, Any]) -> MediaSource:
    kind, mime = _kind(raw)
    extras = block.get("extras")
    options: Mapping[str, Any] = extras if isinstance(extras, Mapping) else {}
    pages = parse_pages(options["pages"]) if options.get("pages") is not None else None
    if pages is not None and kind not in ("pdf", None):
        raise ValueError(f"'pages' applies to PDFs, not to a {mime} file")
    max_frames = options.get("max_frames")
    fps = options.get("frames_per_second")
    if max_frames is not None or fps is not None:
        if kind not in ("video", None):
            raise ValueError(f"'max_frames' and 'frames_per_second' apply to videos, not {mime}")
        VideoLimits(max_frames=1 if max_frames is None else max_frames, frames_per_second=fps)
    return MediaSource(
        kind=kind,
        mime_type=mime,
        base64=raw.base64,
        url=raw.url,
        text=raw.text,
        name=raw.name or (url_file_name(raw.url) if raw.url else None),
        pages=pages,
        max_frames=max_frames,
        frames_per_second=fps,
    )


def _kind(raw: _Raw) -> tuple[MediaKind | None, str | None]:
    """What a source is: from its stated type, else its first bytes, else its URL's suffix."""
    mime = raw.mime_type
    if raw.text is not None:
        return "text", mime
    if mime is None and raw.base64 is not None:
        mime = sniff_base64(raw.base64)
    if mime is None and raw.url is not None:
        suffix = PurePosixPath(urlsplit(raw.url).path).suffix.lower()
        if raw.block_type == "video":
            return "video", None
        if suffix in _URL_SUFFIXES:
            return _URL_SUFFIXES[suffix]
        return None, None  # the download's first bytes tell (a PDF or a video)
    if mime is None:
        raise ValueError(
            f"the {raw.block_type} block has no mime_type and is neither a PDF nor a video; "
            f"give mime_type for text files ({', '.join(TEXT_MIME_TYPES)})"
        )
    if mime == PDF_MIME_TYPE:
        return "pdf", mime
    if mime.startswith("video/"):
        return "video", mime
    if mime in TEXT_MIME_TYPES or raw.block_type == "text-plain":
        return "text", mime
    if mime.startswith("image/"):
        raise ValueError(f"a {raw.block_type} block of type {mime}: send images as image blocks")
    raise ValueError(
        f"files of type {mime!r} cannot be sent; supported: PDF, video, "
        f"{', '.join(TEXT_MIME_TYPES)}"
    )


def _checked_base64(data: Any) -> str:
    if isinstance(data, bytes):
        return binascii.b2a_base64(data, newline=False).decode("ascii")
    if not isinstance(data, str) or not data:
        raise ValueError("the file data is empty")
    text = without_whitespace(data)
    check_base64(text)
    return text


def _checked_url(url: Any) -> str:
    return check_http_url(url, "file")


def _data_uri(uri: str) -> tuple[str | None, str]:
    parsed = parse_data_uri(uri, "a file")
    return parsed.mime, parsed.payload


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a text source needs its text as a string")
    return value


def _mime(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _name(block: Mapping[str, Any], *keys: str) -> str | None:
    extras = block.get("extras")
    for holder in (block, extras if isinstance(extras, Mapping) else {}):
        for key in keys:
            value = holder.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def url_file_name(url: str) -> str | None:
    """The last segment of a URL's path, when there is one."""
    return PurePosixPath(urlsplit(url).path).name or None


__all__ = ["MediaKind", "MediaSource", "read_media_block", "url_file_name"]
