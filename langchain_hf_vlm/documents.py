"""Turn documents and videos a user holds into standard LangChain content blocks.

Two kinds of helpers:

- :func:`document_block` and :func:`video_block` make one plain LangChain v1 ``file`` or
  ``video`` block. ``ChatHuggingFaceVLM`` turns it into page or frame images when it sends the
  request, sized for its model; other chat models receive an ordinary file or video block.
  Page selection and frame sampling ride along in the block's ``extras``.
- :func:`pdf_blocks` and :func:`video_frame_blocks` do the turning now and return text and
  image blocks, which any chat model that takes images can read.

Files, bytes and data URIs are read here; http(s) URLs are not downloaded by the block
helpers (``ChatHuggingFaceVLM`` downloads them when it sends the request).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeAlias, Union

from langchain_hf_vlm._media.mime import decode_base64
from langchain_hf_vlm._media.parts import content_blocks
from langchain_hf_vlm._media.pdf import (
    DEFAULT_MAX_PAGES,
    DEFAULT_TEXT_LAYER,
    PDF_MIME_TYPE,
    PdfLimits,
    TextLayer,
    is_pdf,
    parse_pages,
    plan_pdf,
    render_pdf,
)
from langchain_hf_vlm._media.settings import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE
from langchain_hf_vlm._media.settings import ImageSettings as _ImageSettings
from langchain_hf_vlm._media.sources import url_file_name
from langchain_hf_vlm._media.text import TEXT_MIME_TYPES, TEXT_SUFFIXES
from langchain_hf_vlm._media.uris import parse_data_uri, scheme_of
from langchain_hf_vlm._media.video import (
    DEFAULT_MAX_FRAMES,
    VideoLimits,
    sample_video,
    sniff_video_mime,
)

DocumentSource: TypeAlias = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]
"""A file path, raw bytes, an http(s) URL or a ``data:`` URI."""


def document_block(
    source: DocumentSource,
    *,
    name: str | None = None,
    pages: str | Iterable[int] | None = None,
    mime_type: str | None = None,
) -> dict[str, Any]:
    """Make a standard LangChain ``file`` block of a PDF or a text file.

    ``ChatHuggingFaceVLM`` sends a PDF as one image per page (each after a text part naming
    the document and page) and a text file as text; see ``pdf_max_pages`` and
    ``pdf_text_layer`` on the model.

    Args:
        source: A path, bytes, an http(s) URL or a ``data:`` URI. PDFs are recognised by
            their signature; text files (plain text, Markdown, CSV, JSON) by the path's
            suffix or ``mime_type``.
        name: How the model is told the document's name ("Document <name>, page 3 of 12");
            defaults to the file's name. Kept as ``extras["filename"]``, where LangChain's
            other integrations look for it.
        pages: The PDF pages to send, 1-based: "1-3, 5" or page numbers; None: all. Kept as
            ``extras["pages"]``.
        mime_type: The file's type, for bytes or URLs of text files (PDFs are recognised).

    Returns:
        ``{"type": "file", "base64" | "url": ..., "mime_type": ..., "extras": {...}}``.

    Raises:
        ValueError: The data is neither a PDF nor of a known text type, or ``pages`` is
            malformed or given for a text file.
        FileNotFoundError: The path does not exist.

    Example:
        ```python
        from langchain_core.messages import HumanMessage
        from langchain_hf_vlm.documents import document_block

        message = HumanMessage(content=[
            {"type": "text", "text": "What is the total of this invoice?"},
            document_block("invoice.pdf", pages="1-2"),
        ])
        ```
    """
    selection = parse_pages(pages)
    data, url, file_name = _read(source)
    name = name or file_name
    if data is not None:
        mime = _document_mime(data, mime_type, file_name)
        block: dict[str, Any] = {"type": "file", "base64": _base64(data), "mime_type": mime}
    else:
        mime = (mime_type or TEXT_SUFFIXES.get(_suffix(file_name), PDF_MIME_TYPE)).lower()
        block = {"type": "file", "url": url, "mime_type": mime}
    if selection is not None and mime != PDF_MIME_TYPE:
        raise ValueError(f"pages apply to PDFs, not to a {mime} file")
    extras: dict[str, Any] = {}
    if name:
        extras["filename"] = name
    if selection is not None:
        extras["pages"] = list(selection)
    if extras:
        block["extras"] = extras
    return block


def video_block(
    source: DocumentSource,
    *,
    name: str | None = None,
    max_frames: int | None = None,
    frames_per_second: float | None = None,
) -> dict[str, Any]:
    """Make a standard LangChain ``video`` block.

    ``ChatHuggingFaceVLM`` sends it as frames sampled on the client, each after a text part
    with its timestamp; ``max_frames`` and ``frames_per_second`` here replace the model's
    ``video_max_frames`` and ``video_frames_per_second`` for this video.

    Args:
        source: A path, bytes, an http(s) URL or a ``data:`` URI of an MP4, QuickTime, WebM,
            Matroska or AVI file.
        name: How the model is told the video's name; defaults to the file's name.
        max_frames: Frames to send of this video.
        frames_per_second: Sample at this rate (still at most ``max_frames`` frames).

    Returns:
        ``{"type": "video", "base64" | "url": ..., "mime_type": ..., "extras": {...}}``.

    Raises:
        ValueError: The data is not a video container that is read, or a sampling option is
            not positive.
        FileNotFoundError: The path does not exist.
    """
    VideoLimits(  # checks the options
        max_frames=DEFAULT_MAX_FRAMES if max_frames is None else max_frames,
        frames_per_second=frames_per_second,
    )
    data, url, file_name = _read(source)
    name = name or file_name
    if data is not None:
        mime = sniff_video_mime(data)
        if mime is None:
            raise ValueError(
                "not an MP4, QuickTime, WebM, Matroska or AVI video "
                f"(starts with {bytes(data[:8])!r})"
            )
        block: dict[str, Any] = {"type": "video", "base64": _base64(data), "mime_type": mime}
    else:
        block = {"type": "video", "url": url}
    extras: dict[str, Any] = {}
    if name:
        extras["filename"] = name
    if max_frames is not None:
        extras["max_frames"] = max_frames
    if frames_per_second is not None:
        extras["frames_per_second"] = frames_per_second
    if extras:
        block["extras"] = extras
    return block


def pdf_blocks(
    source: DocumentSource,
    *,
    pages: str | Iterable[int] | None = None,
    name: str | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
    text_layer: TextLayer = DEFAULT_TEXT_LAYER,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> list[dict[str, Any]]:
    """Render a PDF's pages now, into text and image blocks any image-reading model takes.

    Each page becomes a text block naming it, an image block rendered at the size given by
    ``max_pixels`` and ``max_side``, and, depending on ``text_layer``, a text block with the
    page's text layer.

    Args:
        source: A path, bytes or a ``data:`` URI of a PDF (needs the ``[pdf]`` extra).
        pages: The pages, 1-based: "1-3, 5" or page numbers; None: all.
        name: How the labels name the document; defaults to the file's name, else "1".
        max_pixels: Pixel budget of a page image.
        max_side: Longest side of a page image.
        text_layer: "off", "on", or "auto": the text layer of pages that are not scans.
        max_pages: More pages than this is an error.

    Raises:
        ValueError: The PDF cannot be read or rendered (an ``InvalidContentError``), or the
            source is a URL.
    """
    selection = parse_pages(pages)
    data, name = _local(source, name, "pdf_blocks")
    limits = PdfLimits(max_pages=max_pages, text_layer=text_layer)
    plan = plan_pdf(data, name=name, pages=selection, limits=limits)
    settings = _ImageSettings(max_pixels=max_pixels, max_side=max_side)
    return content_blocks(render_pdf(data, plan, settings, limits))


def video_frame_blocks(
    source: DocumentSource,
    *,
    name: str | None = None,
    max_frames: int = DEFAULT_MAX_FRAMES,
    frames_per_second: float | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
) -> list[dict[str, Any]]:
    """Sample a video now, into text and image blocks any image-reading model takes.

    Args:
        source: A path, bytes or a ``data:`` URI of a video (needs the ``[video]``
            extra).
        name: How the labels name the video; defaults to the file's name, else "1".
        max_frames: Frames to take, evenly over the clip.
        frames_per_second: Sample at this rate instead (still at most ``max_frames``).
        max_pixels: Pixel budget of a frame (frames are never upscaled).
        max_side: Longest side of a frame.

    Raises:
        ValueError: The video cannot be read (an ``InvalidContentError``), or the source is
            a URL.
    """
    data, name = _local(source, name, "video_frame_blocks")
    limits = VideoLimits(max_frames=max_frames, frames_per_second=frames_per_second)
    settings = _ImageSettings(max_pixels=max_pixels, max_side=max_side)
    return content_blocks(sample_video(data, name=name, settings=settings, limits=limits))


# ---- reading sources


def _read(source: DocumentSource) -> tuple[bytes | None, str | None, str | None]:
    """(data, None, file name) for local sources; (None, url, file name) for http(s) URLs."""
    if isinstance(source, str):
        scheme = scheme_of(source)
        if scheme in ("http", "https"):
            return None, source, url_file_name(source)
        if scheme == "data":
            return _from_data_uri(source), None, None
        if "://" in source[:16]:
            raise ValueError(
                f"URL {_short(source)!r}: only http(s) URLs and data URIs are supported; "
                "pass a local file as a path"
            )
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.read_bytes(), None, path.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, None
    raise TypeError(
        f"a source must be a path, bytes, an http(s) URL or a data URI, got {type(source).__name__}"
    )


def _local(source: DocumentSource, name: str | None, helper: str) -> tuple[bytes, str]:
    data, url, file_name = _read(source)
    if data is None:
        raise ValueError(
            f"{helper} reads local data; for URL {_short(url or '')!r} use "
            "document_block / video_block, which ChatHuggingFaceVLM downloads when it sends"
        )
    return data, name or file_name or "1"


def _from_data_uri(uri: str) -> bytes:
    try:
        return decode_base64(parse_data_uri(uri, "a").payload)
    except ValueError as exc:
        raise ValueError(f"data URI {_short(uri)!r}: {exc}") from None


def _document_mime(data: bytes, mime_type: str | None, file_name: str | None) -> str:
    if is_pdf(data):
        if mime_type is not None and mime_type.lower() != PDF_MIME_TYPE:
            raise ValueError(f"the data is a PDF, not {mime_type!r}")
        return PDF_MIME_TYPE
    mime = (mime_type or TEXT_SUFFIXES.get(_suffix(file_name), "")).lower()
    if mime == PDF_MIME_TYPE:
        raise ValueError(f"the data does not start with the PDF signature %PDF- ({data[:8]!r})")
    if mime not in TEXT_MIME_TYPES:
        raise ValueError(
            f"not a PDF (starts with {data[:8]!r}) nor a text file of a known type "
            f"({', '.join(TEXT_MIME_TYPES)}); give mime_type for text files"
        )
    return mime


def _suffix(file_name: str | None) -> str:
    return Path(file_name).suffix.lower() if file_name else ""


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "DocumentSource",
    "document_block",
    "pdf_blocks",
    "video_block",
    "video_frame_blocks",
]
