"""Documents, videos and text files of a request, expanded into text and image parts.

Translation leaves one :class:`MediaRef` where a PDF, video or text-file block stood (it knows
its message and block, and what the block holds: :class:`~.sources.MediaSource`). At
preparation time :func:`expand_media` turns every ref into its parts: for a PDF, a label and
an image per page (and the page's text layer, per ``text_layer``); for a video, a label and an
image per sampled frame; for a text file, one text part. The images become
:class:`~.refs.ImageRef` s of the request like any other, so the image pipeline, the request
size guard and the body writer treat them as they treat every image; the body writer writes
the ref's parts where the block stood.

CPU-bound and free of I/O (URL sources arrive downloaded in :attr:`MediaRef.fetched`); the
async path runs it in a thread. Pages per request are counted over all the request's PDFs
before any page is rendered. Expansions of PDFs and videos are cached by content, so that the
next turn of a conversation does not render the same document again.
"""

from __future__ import annotations

import binascii
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_hf_vlm._media.cache import PreparedCache
from langchain_hf_vlm._media.detect import sniff_media_mime
from langchain_hf_vlm._media.fetch import Wanted
from langchain_hf_vlm._media.parts import MediaPart, wire_parts
from langchain_hf_vlm._media.pdf import PdfLimits, PdfPlan, plan_pdf, render_pdf
from langchain_hf_vlm._media.refs import ImageProblem, ImageRef, Slot, WireMessage, WirePart
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._media.sources import MediaKind, MediaSource
from langchain_hf_vlm._media.text import DEFAULT_MAX_TEXT_BYTES, text_file_part
from langchain_hf_vlm._media.video import VideoLimits, sample_video
from langchain_hf_vlm.errors import InvalidContentError


@dataclass(frozen=True)
class MediaLimits:
    """How documents, videos and text files are turned into parts for one model.

    Attributes:
        pdf: Pages per request, text layer, file size, render time.
        video: Frames, sampling rate, duration, file size.
        text_max_bytes: Largest text file.
    """

    pdf: PdfLimits = field(default_factory=PdfLimits)
    video: VideoLimits = field(default_factory=VideoLimits)
    text_max_bytes: int = DEFAULT_MAX_TEXT_BYTES

    def __post_init__(self) -> None:
        if self.text_max_bytes <= 0:
            raise ValueError(f"text_max_bytes must be positive, got {self.text_max_bytes}")

    def download(self, kind: MediaKind | None) -> Wanted:
        """What a download of a URL source of this kind must be: any content type (its bytes
        decide), within the kind's size limit."""
        if kind == "text":
            return Wanted("a text file", None, self.text_max_bytes, "text_file_max_bytes")
        if kind == "pdf":
            return Wanted("a PDF", None, self.pdf.max_bytes, "pdf_max_bytes")
        if kind == "video":
            return Wanted("a video", None, self.video.max_bytes, "video_max_bytes")
        limit = max(self.pdf.max_bytes, self.video.max_bytes)
        return Wanted("a PDF or video", None, limit, "pdf_max_bytes / video_max_bytes")


@dataclass(eq=False)
class MediaRef(Slot):
    """One document, video or text file of the request, and what it became.

    Attributes:
        message_index: Index of the message in the input that holds the block.
        block_index: Index of the block in that message's content.
        number: Position (1-based) among the request's documents, videos and text files; it
            names the unnamed ones ("Document 2, page 1 of 3").
        source: What the block holds.
        fetched: The downloaded bytes of a URL source, once the pipeline has them.
        items: Text parts and image refs it expands into, in order (None: not yet).
    """

    message_index: int
    block_index: int
    number: int
    source: MediaSource
    fetched: bytes | None = field(default=None, repr=False)
    items: list[WirePart | ImageRef] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.source.name or str(self.number)

    def parts(self) -> list[WirePart]:
        if self.items is None:
            raise RuntimeError("a media ref is written before the pipeline expanded it")
        out: list[WirePart] = []
        for item in self.items:
            out += item.parts() if isinstance(item, ImageRef) else [item]
        return out

    def error(self, problem: str) -> InvalidContentError:
        """An error naming this block by its place in the input."""
        return InvalidContentError(
            problem, message_index=self.message_index, block_index=self.block_index
        )

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """A context in which problems of the cores and downloads name this block."""
        try:
            yield
        except InvalidContentError as exc:
            if exc.message_index is not None:
                raise
            raise self.error(exc.problem) from exc
        except ImageProblem as problem:
            raise self.error(f"{_noun(self.source.kind)} {self.name}: {problem}") from None


@dataclass
class WireMessages:
    """Translated messages: chat-completion message dicts whose content lists hold an
    :class:`ImageRef` where each image goes and a :class:`MediaRef` where each
    document, video or text file goes, and the refs of each kind in request order."""

    messages: list[WireMessage]
    images: list[ImageRef] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)


@dataclass
class MediaStats:
    """Counters of the expansion work, for tests and monitoring.

    Attributes:
        pages: PDF pages rendered.
        frames: Video frames sampled.
        cache_hits: Documents and videos taken from the cache.
    """

    pages: int = 0
    frames: int = 0
    cache_hits: int = 0


def expand_media(
    refs: Sequence[MediaRef],
    settings: ImageSettings,
    limits: MediaLimits,
    *,
    first_number: int,
    cache: PreparedCache | None = None,
    stats: MediaStats | None = None,
) -> list[ImageRef]:
    """Expand every ref into its parts (:attr:`MediaRef.items`).

    Args:
        refs: The request's media refs, in request order.
        settings: The image limits that size pages and frames.
        limits: The document, video and text limits.
        first_number: The request number of the first new image (after the request's own).
        cache: Expansions by content, shared between requests.
        stats: Counters to add the work to.

    Returns:
        The new image refs, in request order.

    Raises:
        InvalidContentError: A source cannot be sent, naming its message and block.
    """
    stats = stats if stats is not None else MediaStats()
    loaded = [(ref, *_load(ref)) for ref in refs]
    plans = _plan_pages(loaded, limits.pdf)
    images: list[ImageRef] = []
    for ref, kind, data in loaded:
        with ref.naming_errors():
            parts = _expanded(ref, kind, data, plans.get(id(ref)), settings, limits, cache, stats)
        ref.items = []
        for part in parts:
            if part["type"] != "image_url":
                ref.items.append(part)
                continue
            image = ImageRef(
                ref.message_index,
                ref.block_index,
                first_number + len(images),
                part["image_url"]["url"],
            )
            images.append(image)
            ref.items.append(image)
    return images


def _load(ref: MediaRef) -> tuple[MediaKind, bytes | str]:
    """What a ref is and its data (bytes; the text for text given inline)."""
    source = ref.source
    with ref.naming_errors():
        if source.text is not None:
            return "text", source.text
        if source.base64 is not None:
            try:
                data = binascii.a2b_base64(source.base64)
            except (binascii.Error, ValueError) as exc:
                raise InvalidContentError(f"invalid base64 data ({exc})") from None
        elif ref.fetched is not None:
            data = ref.fetched
        else:
            raise RuntimeError("a URL source is expanded before it was downloaded")
        if source.kind is not None:
            return source.kind, data
        detected = sniff_media_mime(data)
        if detected == "application/pdf":
            return "pdf", data
        if detected is not None and detected.startswith("video/"):
            return "video", data
        raise InvalidContentError(
            f"file {ref.name}: the download is neither a PDF nor a video (starts with "
            f"{data[:8]!r}); for a text file, give mime_type"
        )


def _plan_pages(
    loaded: Sequence[tuple[MediaRef, MediaKind, bytes | str]], limits: PdfLimits
) -> dict[int, PdfPlan]:
    """The pages of every PDF, checked against the pages-per-request limit before any is
    rendered."""
    plans: dict[int, PdfPlan] = {}
    total = 0
    for ref, kind, data in loaded:
        if kind != "pdf" or not isinstance(data, bytes):
            continue
        with ref.naming_errors():
            plan = plan_pdf(data, name=ref.name, pages=ref.source.pages, limits=limits)
            total += len(plan.pages)
            if total > limits.max_pages:
                raise InvalidContentError(
                    f"PDF {ref.name}: with the documents before it, {total} pages would be "
                    f"sent, over the limit of {limits.max_pages} pages per request "
                    "(pdf_max_pages); choose pages, e.g. document_block(..., pages='1-5')"
                )
        plans[id(ref)] = plan
    return plans


def _expanded(
    ref: MediaRef,
    kind: MediaKind,
    data: bytes | str,
    plan: PdfPlan | None,
    settings: ImageSettings,
    limits: MediaLimits,
    cache: PreparedCache | None,
    stats: MediaStats,
) -> list[WirePart]:
    source = ref.source
    if kind == "text":
        text = text_file_part(
            data,
            mime_type=source.mime_type or "text/plain",
            name=ref.name,
            max_bytes=limits.text_max_bytes,
        )
        return [{"type": "text", "text": text}]
    assert isinstance(data, bytes)
    key = _cache_key(kind, data, ref)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        stats.cache_hits += 1
        parts: list[WirePart] = json.loads(cached)
        return parts
    media: list[MediaPart]
    if kind == "pdf":
        assert plan is not None
        media = render_pdf(data, plan, settings, limits.pdf)
        stats.pages += len(media)
    else:
        media = sample_video(data, name=ref.name, settings=settings, limits=_video(source, limits))
        stats.frames += len(media)
    parts = wire_parts(media)
    if cache is not None:
        cache.put(key, json.dumps(parts))
    return parts


def _video(source: MediaSource, limits: MediaLimits) -> VideoLimits:
    """The model's video limits with the block's own sampling options."""
    chosen: dict[str, Any] = {}
    if source.max_frames is not None:
        chosen["max_frames"] = source.max_frames
    if source.frames_per_second is not None:
        chosen["frames_per_second"] = source.frames_per_second
    return dataclasses.replace(limits.video, **chosen) if chosen else limits.video


def _cache_key(kind: MediaKind, data: bytes, ref: MediaRef) -> str:
    """The content and every option that shapes the parts (the settings are the pipeline's
    own, fixed for its cache); the name, since labels carry it."""
    source = ref.source
    options = (kind, ref.name, source.pages, source.max_frames, source.frames_per_second)
    return f"{kind}:{hashlib.sha256(data).hexdigest()}:{options!r}"


def _noun(kind: MediaKind | None) -> str:
    return {"pdf": "PDF", "video": "video", "text": "text file"}.get(kind or "", "file")


__all__ = ["MediaLimits", "MediaRef", "MediaStats", "expand_media"]
