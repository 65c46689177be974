"""Image preparation before sending: sizing, re-encoding, URL fetching, request size guard.

Contract used by chat_models: ``ImagePipeline(settings, media).prepare(wire)`` and
``await ImagePipeline(settings, media).aprepare(wire)`` first expand the documents, videos and
text files of the translated messages (downloading URL sources; see ``expand``), which adds
their pages and frames to the request's images; then fill in :attr:`ImageRef.prepared` for
every image (data URIs resized/re-encoded as needed; http(s) URLs left alone unless
``fetch_urls``), with the sizes read or computed on the way (:attr:`ImageRef.original`,
:attr:`ImageRef.sent`: nothing reads a header again to report them), then check the request
size.

What happens to one image:

- Its width and height are read from the file header (pure Python for PNG, JPEG, GIF and WebP;
  no decoding). An image in one of those formats that is within ``max_side`` and
  ``max_pixels`` is sent byte-for-byte unchanged, metadata included.
- A larger image is decoded with Pillow and downscaled keeping its aspect ratio, never
  upscaled: first by a whole factor done cheaply (a JPEG is decoded at 1/2, 1/4 or 1/8 scale
  straight from its DCT coefficients, other formats are box-averaged), stopping at 1.5 times
  the target size, then with LANCZOS for the rest. It is turned upright by its EXIF
  orientation and re-encoded without metadata: JPEG for photographs, PNG for transparency
  and flat graphics (screenshots, diagrams). Other formats Pillow reads (BMP, TIFF...) are
  re-encoded the same way, resized or not.
- Animated images (GIF, APNG, WebP) that need re-encoding keep their first frame only; those
  within the limits are sent unchanged, and the server decides which frames it reads.
- The limits are the block's: ``detail="low"`` or ``"high"`` on an image block sizes it by
  :meth:`ImageSettings.for_detail` (the same image at two details is prepared, and cached,
  twice).

Every problem is an :class:`~langchain_hf_vlm.errors.InvalidContentError` naming the message
and content block of the image and its position in the request ("message 0, content block 1:
image 2 of the request (...)"), raised before anything is sent.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._media import fetch
from langchain_hf_vlm._media.cache import PreparedCache
from langchain_hf_vlm._media.codec import reencode
from langchain_hf_vlm._media.expand import (
    MediaLimits,
    MediaRef,
    MediaStats,
    WireMessages,
    expand_media,
)
from langchain_hf_vlm._media.headers import ImageHeader, data_uri_header, read_image_header
from langchain_hf_vlm._media.refs import (
    ImageProblem,
    ImageRef,
    PreparedImage,
    json_size,
    megabytes,
)
from langchain_hf_vlm._media.settings import ImageSettings, fits
from langchain_hf_vlm.errors import InvalidContentError


@dataclass
class PipelineStats:
    """Counters of the work an :class:`ImagePipeline` has done, for tests and monitoring.

    Attributes:
        decoded: Images decoded with Pillow (resized or converted).
        fetched: Image URLs downloaded.
        cache_hits: Images, documents and videos taken from the cache of prepared images.
        pages: PDF pages rendered.
        frames: Video frames sampled.
    """

    decoded: int = 0
    fetched: int = 0
    cache_hits: int = 0
    pages: int = 0
    frames: int = 0


@dataclass
class _Job:
    """One image of the request while it is being prepared."""

    ref: ImageRef
    settings: ImageSettings
    """The limits of this image (its block's ``detail``)."""
    fetched: bytes | None = None
    prepared: PreparedImage | None = None
    _head: ImageHeader | None = field(default=None, init=False, repr=False)
    _head_read: bool = field(default=False, init=False, repr=False)

    @property
    def inline(self) -> bool:
        return self.ref.url.startswith("data:")

    def head(self) -> ImageHeader | None:
        """The header of a data URI's image, from its first bytes only; read once."""
        if not self._head_read:
            self._head = data_uri_header(self.ref.url)
            self._head_read = True
        return self._head

    def key(self, base: str) -> str:
        """The cache key of this image: ``base`` (its URL or hash), and its detail where that
        sizes it."""
        detail = self.ref.detail
        return f"{base} detail={detail}" if detail in ("low", "high") else base


class ImagePipeline:
    """Prepares the images of translated messages; safe to share between threads."""

    def __init__(self, settings: ImageSettings, media: MediaLimits | None = None) -> None:
        self.settings = settings
        self.media = MediaLimits() if media is None else media
        self.stats = PipelineStats()
        self._lock = threading.Lock()
        self._cache = PreparedCache(settings.cache_bytes)
        self._by_detail = {detail: settings.for_detail(detail) for detail in ("low", "high")}

    def prepare(self, wire: WireMessages) -> None:
        """Prepare every image of ``wire`` (sync path)."""
        if wire.media:
            pending = self._media_downloads(wire.media)
            if pending:
                with fetch.client(self.settings) as client:
                    for ref in pending:
                        with ref.naming_errors():
                            ref.fetched = fetch.fetch(
                                client, ref.source.url or "", self.settings, self._wanted(ref)
                            )
            self._expand(wire)
        jobs = self._jobs(wire.images)
        to_fetch = self._to_fetch(jobs)
        if to_fetch:
            downloads = []
            with fetch.client(self.settings) as client:
                for url, targets in to_fetch.items():
                    with targets[0].ref.naming_errors():
                        downloads.append(fetch.fetch(client, url, self.settings))
            self._attach(to_fetch, downloads)
        self._finish(wire, jobs)

    async def aprepare(self, wire: WireMessages) -> None:
        """Prepare every image of ``wire`` (async path)."""
        if wire.media:
            pending = self._media_downloads(wire.media)
            if pending:
                async with fetch.async_client(self.settings) as client:
                    fetched = await _all_or_none(
                        [self._afetch_media(client, ref) for ref in pending]
                    )
                for ref, data in zip(pending, fetched, strict=True):
                    ref.fetched = data
            # Rendering pages and decoding frames take tens of milliseconds each.
            await asyncio.to_thread(self._expand, wire)
        jobs = self._jobs(wire.images)
        to_fetch = self._to_fetch(jobs)
        if to_fetch:
            async with fetch.async_client(self.settings) as client:
                downloads = await _all_or_none(
                    [self._afetch(client, url, targets[0].ref) for url, targets in to_fetch.items()]
                )
            self._attach(to_fetch, downloads)
        if any(self._needs_work(job) for job in jobs):
            # Decoding and resizing take tens of milliseconds; keep them off the event loop.
            await asyncio.to_thread(self._finish, wire, jobs)
        else:  # nothing to decode: a hop to a thread would cost more than the work
            self._finish(wire, jobs)

    async def _afetch(self, client: httpx.AsyncClient, url: str, ref: ImageRef) -> bytes:
        with ref.naming_errors():
            return await fetch.afetch(client, url, self.settings)

    async def _afetch_media(self, client: httpx.AsyncClient, ref: MediaRef) -> bytes:
        with ref.naming_errors():
            return await fetch.afetch(
                client, ref.source.url or "", self.settings, self._wanted(ref)
            )

    def data_uri(self, data: bytes) -> str:
        """The data URI to send for one image's bytes at the model's limits (not cached)."""
        return self.from_bytes(data, self.settings).url

    def from_bytes(self, data: bytes, settings: ImageSettings) -> PreparedImage:
        """The data URI to send for one image's bytes, with its sizes: the bytes as they are
        when they fit ``settings``, resized or re-encoded otherwise (not cached).

        Raises:
            ImageProblem: The image cannot be sent.
        """
        header = read_image_header(data)
        if header is not None and fits(header, settings):
            size = (header.width, header.height)
            return PreparedImage(_data_uri(header.mime_type, data), size, size)
        return self._reencoded(data, header, settings)

    # ---- the steps shared by both paths

    def _media_downloads(self, refs: Sequence[MediaRef]) -> list[MediaRef]:
        """Media refs whose bytes are still to download (no server reads document URLs)."""
        return [ref for ref in refs if ref.source.url is not None and ref.fetched is None]

    def _wanted(self, ref: MediaRef) -> fetch.Wanted:
        return self.media.download(ref.source.kind)

    def _expand(self, wire: WireMessages) -> None:
        """Turn the media refs into their parts; their pages and frames join the images."""
        stats = MediaStats()
        images = expand_media(
            wire.media,
            self.settings,
            self.media,
            first_number=len(wire.images) + 1,
            cache=self._cache,
            stats=stats,
        )
        wire.images.extend(images)
        with self._lock:
            self.stats.pages += stats.pages
            self.stats.frames += stats.frames
            self.stats.cache_hits += stats.cache_hits

    def _jobs(self, images: Sequence[ImageRef]) -> list[_Job]:
        """One job per image, in request order: where a slot that expands into images (a
        document's pages, a video's frames) would add those."""
        by_detail = self._by_detail
        jobs = [_Job(ref, by_detail.get(ref.detail, self.settings)) for ref in images]
        if self.settings.fetch_urls:
            for job in jobs:
                if not job.inline:
                    job.prepared = self._cached(job.key(job.ref.url))
        return jobs

    def _needs_work(self, job: _Job) -> bool:
        """Whether preparing ``job`` may decode or re-encode it (judged from its header)."""
        if job.prepared is not None or not job.inline:
            return job.fetched is not None
        return not fits(job.head(), job.settings)

    def _to_fetch(self, jobs: list[_Job]) -> dict[str, list[_Job]]:
        """Distinct URLs still to download, each with the images that show it."""
        if not self.settings.fetch_urls:
            return {}
        to_fetch: dict[str, list[_Job]] = {}
        for job in jobs:
            if job.prepared is None and not job.inline:
                to_fetch.setdefault(job.ref.url, []).append(job)
        return to_fetch

    def _attach(self, to_fetch: dict[str, list[_Job]], downloads: list[bytes]) -> None:
        with self._lock:
            self.stats.fetched += len(downloads)
        for targets, data in zip(to_fetch.values(), downloads, strict=True):
            for job in targets:
                job.fetched = data

    def _finish(self, wire: WireMessages, jobs: list[_Job]) -> None:
        for job in jobs:
            prepared = job.prepared
            if prepared is None:
                with job.ref.naming_errors():
                    prepared = job.prepared = self._prepared(job)
            ref = job.ref
            ref.prepared, ref.original, ref.sent = prepared.url, prepared.original, prepared.sent
        self._check_request_size(wire)

    def _prepared(self, job: _Job) -> PreparedImage:
        url = job.ref.url
        if job.fetched is not None:
            fetched = self.from_bytes(job.fetched, job.settings)
            self._cache.put(job.key(url), fetched)
            return fetched
        if not job.inline:
            return PreparedImage(url, None, None)
        start = url.index(",") + 1
        header, data = job.head(), None
        if header is None:  # not in the first bytes (or unreadable): all of them decide
            data = _decode(url[start:])
            header = read_image_header(data)
        if header is not None and fits(header, job.settings):
            size = (header.width, header.height)
            return PreparedImage(url, size, size)
        encoded = url.encode()
        key = job.key("sha256:" + hashlib.sha256(encoded).hexdigest())
        cached = self._cached(key)
        if cached is not None:
            return cached
        if data is None:
            data = _decode(memoryview(encoded)[start:])
        prepared = self._reencoded(data, header, job.settings)
        self._cache.put(key, prepared)
        return prepared

    def _reencoded(
        self, data: bytes, header: ImageHeader | None, settings: ImageSettings
    ) -> PreparedImage:
        mime, encoded = reencode(data, header, settings)
        with self._lock:
            self.stats.decoded += 1
        # The decode took milliseconds; the new file's header, microseconds.
        sent = _size(read_image_header(encoded))
        return PreparedImage(_data_uri(mime, encoded), _size(header), sent)

    def _cached(self, key: str) -> PreparedImage | None:
        prepared = self._cache.get_image(key)
        if prepared is not None:
            with self._lock:
                self.stats.cache_hits += 1
        return prepared

    # ---- the request size guard

    def _check_request_size(self, wire: WireMessages) -> None:
        limit = self.settings.max_request_bytes
        if limit is None:
            return
        total = json_size(wire.messages)
        if total <= limit:
            return
        largest = sorted(wire.images, key=lambda ref: -len(ref.sent_url))[:3]
        named = ", ".join(_named(ref) for ref in largest)
        images_note = f"; the largest images: {named}" if named else ""
        low = self.settings.low
        smaller = (
            f'give images detail="low" (within {low.max_side} px a side), '
            if low is not None and low.max_side is not None
            else ""
        )
        raise InvalidContentError(
            f"the request body would be about {megabytes(total)}, over the limit of "
            f"{megabytes(limit)} (max_request_bytes){images_note}. Lower image_max_pixels or "
            f"image_max_side, {smaller}send fewer images, or raise max_request_bytes if the "
            "server takes larger bodies (TGI: --payload-limit)"
        )


def _named(ref: ImageRef) -> str:
    """One image as the size guard names it: its number, size sent, detail, and place."""
    detail = ', detail="high"' if ref.detail == "high" else ""
    return (
        f"image {ref.number} ({megabytes(len(ref.sent_url))}{detail}) in message "
        f"{ref.message_index}, content block {ref.block_index}"
    )


async def _all_or_none(downloads: list[Coroutine[Any, Any, bytes]]) -> list[bytes]:
    """Run downloads together; one failure fails them all."""
    tasks = [asyncio.ensure_future(download) for download in downloads]
    try:
        return await asyncio.gather(*tasks)
    finally:
        # One failed download fails the request: stop the others before the client closes
        # under them.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _decode(payload: str | memoryview) -> bytes:
    # Not strict: translation has validated the base64 already, and garbage decodes to bytes
    # that fail the header check anyway.
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError) as exc:
        raise ImageProblem(f"invalid base64 data ({exc})") from None


def _size(header: ImageHeader | None) -> tuple[int, int] | None:
    return None if header is None else (header.width, header.height)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{binascii.b2a_base64(data, newline=False).decode('ascii')}"
