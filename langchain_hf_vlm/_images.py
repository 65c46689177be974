"""Image preparation before sending: sizing, re-encoding, URL fetching, request size guard.

Contract used by chat_models: ``ImagePipeline(settings).prepare(wire_messages)`` and
``await ImagePipeline(settings).aprepare(wire_messages)`` rewrite the ``image_url.url`` of
every image part in place (data URIs resized/re-encoded as needed; http(s) URLs left alone
unless ``fetch_urls``), then check the request size.

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
- Without Pillow (the ``langchain-hf-vlm[images]`` extra) images that fit pass through and
  any image that would need Pillow is an error saying so.

Every problem is an :class:`~langchain_hf_vlm.errors.InvalidContentError` naming the image by
its position in the request ("image 2 of the request"), raised before anything is sent.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import hashlib
import io
import json
import math
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._messages import iter_image_parts
from langchain_hf_vlm._mime import sniff_image_mime
from langchain_hf_vlm.errors import InvalidContentError

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_MAX_SIDE = 1568
"""Longest side, in pixels, of an image sent to the model (1568 = 56 x 28, a whole number of
the 14 and 28 px patches most VLM vision encoders use). Binds for elongated images such as
panoramas and full-page screenshots; for usual aspect ratios ``DEFAULT_MAX_PIXELS`` binds first."""
DEFAULT_MAX_PIXELS = 1120 * 1120
"""Pixel budget of one image: about 1.25 MP, e.g. 1293 x 970 for a 4:3 photo. That is about
1,600 vision tokens for Qwen2-VL-style 28 px patches, more detail than most VLMs keep after their
own preprocessing, while a photo at JPEG quality 85 takes about 100-400 KB (130-530 KB as
base64): three or more images fit inside TGI's 2 MB request body limit, where a phone photo
sent as is (3-5 MB) is refused with 413. Screenshots stay lossless PNG, 0.2-1 MB at this size."""
DEFAULT_MAX_INPUT_PIXELS = 89_478_485
"""Largest image decoded at all: Pillow's own decompression-bomb threshold (a quarter of a
gigabyte as RGB). A header claiming more is refused before any pixel is decoded."""
DEFAULT_JPEG_QUALITY = 85
DEFAULT_FETCH_TIMEOUT = 10.0
DEFAULT_FETCH_MAX_BYTES = 20_000_000
"""Download cap for ``fetch_urls``: above the 4-15 MB of a full-resolution camera JPEG."""
DEFAULT_CACHE_BYTES = 64_000_000

_REDIRECTS = 5
_REDUCING_GAP = 1.5
"""How far above the target size the cheap whole-factor reduction stops. On a 12 MP photo
(benchmarks/images.py) the JPEG path takes half the time of a full decode and LANCZOS resize,
for the same PSNR and output size; Pillow's own default (2.0) would skip the reduced decode
for that common 3x reduction. The price is on sharp text: about 2 dB PSNR below a LANCZOS
resize from full resolution (still 2 dB above bicubic from full resolution)."""
_SMALL_HEAD_CHARS = 2 * 1024
"""Base64 characters of a data URI decoded first to read the header (1.5 KB of data): enough
for PNG, GIF, WebP and most JPEGs."""
_HEAD_CHARS = 64 * 1024
"""Base64 characters decoded next (48 KB of data), for JPEGs with long EXIF or ICC segments
first; a header further in needs the whole payload decoded."""
_FLAT_SHARE = 0.5
"""An image is flat graphics when at least this share of its pixels equals the pixel to its
left: screenshots and diagrams are mostly uniform areas, camera noise makes photos almost never
repeat a neighbour."""
_PILLOW_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    MemoryError,
)
"""What Pillow raises on truncated or corrupt data (UnidentifiedImageError is an OSError)."""


@dataclass(frozen=True)
class ImageSettings:
    """How images are prepared for one model.

    Attributes:
        max_pixels: Larger images are downscaled to at most this many pixels (None: no limit).
        max_side: Larger images are downscaled so that neither side exceeds this (None: no
            limit).
        max_request_bytes: A request body estimated above this is refused before sending
            (None: no check).
        fetch_urls: Download http(s) image URLs on the client and send them inline.
        fetch_timeout: Seconds allowed for each network wait of a download, and for the whole
            download.
        fetch_max_bytes: A download larger than this is stopped and refused.
        max_input_pixels: Images whose header claims more pixels are refused undecoded
            (decompression bombs).
        jpeg_quality: Quality of re-encoded JPEG images (1-95).
        cache_bytes: Budget of the cache of prepared images, counted as the length of the
            cached URLs and keys (0 disables the cache).
    """

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_side: int | None = DEFAULT_MAX_SIDE
    max_request_bytes: int | None = None
    fetch_urls: bool = False
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT
    fetch_max_bytes: int = DEFAULT_FETCH_MAX_BYTES
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    jpeg_quality: int = DEFAULT_JPEG_QUALITY
    cache_bytes: int = DEFAULT_CACHE_BYTES

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_side", "max_request_bytes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")
        for name in ("fetch_timeout", "fetch_max_bytes", "max_input_pixels"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be between 1 and 95, got {self.jpeg_quality}")
        if self.cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {self.cache_bytes}")


@dataclass
class PipelineStats:
    """Counters of the work an :class:`ImagePipeline` has done, for tests and monitoring.

    Attributes:
        decoded: Images decoded with Pillow (resized or converted).
        fetched: Image URLs downloaded.
        cache_hits: Images taken from the cache of prepared images.
    """

    decoded: int = 0
    fetched: int = 0
    cache_hits: int = 0


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: its type and stored size (before EXIF rotation)."""

    mime_type: str
    width: int
    height: int


@dataclass
class _Image:
    """One image part of the request while it is being prepared."""

    number: int
    part: dict[str, Any]
    url: str
    fetched: bytes | None = None
    prepared: str | None = None
    _head: ImageHeader | None = field(default=None, init=False, repr=False)
    _head_read: bool = field(default=False, init=False, repr=False)

    def head(self) -> ImageHeader | None:
        """The header of a data URI's image, from its first bytes only; read once."""
        if not self._head_read:
            self._head = _head_header(self.url, self.url.index(",") + 1)
            self._head_read = True
        return self._head


class ImagePipeline:
    """Prepares the images of a chat-completion payload; safe to share between threads."""

    def __init__(self, settings: ImageSettings) -> None:
        self.settings = settings
        self.stats = PipelineStats()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = 0

    def prepare(self, wire_messages: Sequence[dict[str, Any]]) -> None:
        """Prepare every image of the payload in place (sync path)."""
        images = self._collect(wire_messages)
        to_fetch = self._to_fetch(images)
        if to_fetch:
            with httpx.Client(**self._client_options(_refuse_redirect)) as client:
                downloads = [
                    self._fetch(client, url, targets[0].number) for url, targets in to_fetch.items()
                ]
            self._attach(to_fetch, downloads)
        self._finish(wire_messages, images)

    async def aprepare(self, wire_messages: Sequence[dict[str, Any]]) -> None:
        """Prepare every image of the payload in place (async path)."""
        images = self._collect(wire_messages)
        to_fetch = self._to_fetch(images)
        if to_fetch:
            async with httpx.AsyncClient(**self._client_options(_arefuse_redirect)) as client:
                tasks = [
                    asyncio.ensure_future(self._afetch(client, url, targets[0].number))
                    for url, targets in to_fetch.items()
                ]
                try:
                    downloads = await asyncio.gather(*tasks)
                finally:
                    # One failed download fails the request: stop the others before the client
                    # closes under them.
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
            self._attach(to_fetch, downloads)
        if any(self._needs_work(image) for image in images):
            # Decoding and resizing take tens of milliseconds; keep them off the event loop.
            await asyncio.to_thread(self._finish, wire_messages, images)
        else:  # nothing to decode: a hop to a thread would cost more than the work
            self._finish(wire_messages, images)

    # ---- the steps shared by both paths

    def _needs_work(self, image: _Image) -> bool:
        """Whether preparing ``image`` may decode or re-encode it (judged from its header)."""
        if image.prepared is not None or not image.url.startswith("data:"):
            return image.fetched is not None
        return not _fits(image.head(), self.settings)

    def _collect(self, wire_messages: Sequence[dict[str, Any]]) -> list[_Image]:
        images = []
        for number, part in enumerate(iter_image_parts(wire_messages), start=1):
            url = part["image_url"]["url"]
            image = _Image(number, part, url)
            if self.settings.fetch_urls and not url.startswith("data:"):
                image.prepared = self._cached(url)
            images.append(image)
        return images

    def _to_fetch(self, images: list[_Image]) -> dict[str, list[_Image]]:
        """Distinct URLs still to download, each with the images that show it."""
        if not self.settings.fetch_urls:
            return {}
        to_fetch: dict[str, list[_Image]] = {}
        for image in images:
            if image.prepared is None and not image.url.startswith("data:"):
                to_fetch.setdefault(image.url, []).append(image)
        return to_fetch

    def _attach(self, to_fetch: dict[str, list[_Image]], downloads: list[bytes]) -> None:
        with self._lock:
            self.stats.fetched += len(downloads)
        for targets, data in zip(to_fetch.values(), downloads, strict=True):
            for image in targets:
                image.fetched = data

    def _finish(self, wire_messages: Sequence[dict[str, Any]], images: list[_Image]) -> None:
        for image in images:
            if image.prepared is None:
                image.prepared = self._prepared_url(image)
            image.part["image_url"]["url"] = image.prepared
        self._check_request_size(wire_messages, images)

    def _prepared_url(self, image: _Image) -> str:
        if image.fetched is not None:
            prepared = self.data_uri(image.fetched, number=image.number, where=_shorten(image.url))
            self._remember(image.url, prepared)
            return prepared
        if not image.url.startswith("data:"):
            return image.url
        return self._prepare_data_uri(image)

    def data_uri(self, data: bytes, *, number: int = 1, where: str = "image bytes") -> str:
        """The data URI to send for one image's bytes: as they are when they fit the limits,
        resized or re-encoded otherwise (not cached).

        Raises:
            InvalidContentError: The image cannot be sent; the message names it as the
                ``number``-th image of the request, from ``where``.
        """
        header = read_image_header(data)
        if header is not None and _fits(header, self.settings):
            return _data_uri(header.mime_type, data)
        return self._reencoded(data, header, number, where)

    def _prepare_data_uri(self, image: _Image) -> str:
        url, number = image.url, image.number
        start = url.index(",") + 1
        where = f"{url[: min(start - 1, 40)]}, {_megabytes((len(url) - start) * 3 // 4)}"
        header, data = image.head(), None
        if header is None:  # not in the first bytes (or unreadable): all of them decide
            data = _decode(url[start:], number, where)
            header = read_image_header(data)
        if _fits(header, self.settings):
            return url
        encoded = url.encode()
        key = "sha256:" + hashlib.sha256(encoded).hexdigest()
        prepared = self._cached(key)
        if prepared is None:
            if data is None:
                data = _decode(memoryview(encoded)[start:], number, where)
            prepared = self._reencoded(data, header, number, where)
            self._remember(key, prepared)
        return prepared

    def _reencoded(self, data: bytes, header: ImageHeader | None, number: int, where: str) -> str:
        mime, encoded = reencode(data, header, self.settings, number=number, where=where)
        with self._lock:
            self.stats.decoded += 1
        return _data_uri(mime, encoded)

    # ---- the request size guard

    def _check_request_size(
        self, wire_messages: Sequence[dict[str, Any]], images: list[_Image]
    ) -> None:
        limit = self.settings.max_request_bytes
        if limit is None:
            return
        sizes = {image.number: len(image.part["image_url"]["url"]) for image in images}
        total = _skeleton_bytes(wire_messages) + sum(sizes.values())
        if total <= limit:
            return
        largest = sorted(sizes.items(), key=lambda item: -item[1])[:3]
        named = ", ".join(f"image {number} ({_megabytes(size)})" for number, size in largest)
        images_note = f"; the largest images: {named}" if named else ""
        raise InvalidContentError(
            f"the request body would be about {_megabytes(total)}, over the limit of "
            f"{_megabytes(limit)} (max_request_bytes){images_note}. Lower image_max_pixels or "
            "image_max_side, send fewer images, or raise max_request_bytes if the server takes "
            "larger bodies (TGI: --payload-limit)"
        )

    # ---- the cache of prepared images

    def _cached(self, key: str) -> str | None:
        with self._lock:
            prepared = self._cache.get(key)
            if prepared is not None:
                self._cache.move_to_end(key)
                self.stats.cache_hits += 1
            return prepared

    def _remember(self, key: str, prepared: str) -> None:
        size = len(key) + len(prepared)
        if size > self.settings.cache_bytes:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = prepared
            self._cache_size += size
            while self._cache_size > self.settings.cache_bytes:
                old_key, old = self._cache.popitem(last=False)
                self._cache_size -= len(old_key) + len(old)

    # ---- URL fetching: everything but the I/O call is shared

    def _client_options(self, redirect_hook: Callable[[httpx.Request], Any]) -> dict[str, Any]:
        return {
            "timeout": self.settings.fetch_timeout,
            "follow_redirects": True,
            "max_redirects": _REDIRECTS,
            "event_hooks": {"request": [redirect_hook]},
            "headers": {"Accept": "image/*"},
        }

    def _fetch(self, client: httpx.Client, url: str, number: int) -> bytes:
        download = _Download(url, number, self.settings)
        try:
            with client.stream("GET", url) as response:
                download.start(response)
                for chunk in response.iter_bytes():
                    download.add(chunk)
        except (httpx.HTTPError, _RedirectRefused) as exc:
            raise download.failed(exc) from exc
        return download.data()

    async def _afetch(self, client: httpx.AsyncClient, url: str, number: int) -> bytes:
        download = _Download(url, number, self.settings)
        try:
            async with client.stream("GET", url) as response:
                download.start(response)
                async for chunk in response.aiter_bytes():
                    download.add(chunk)
        except (httpx.HTTPError, _RedirectRefused) as exc:
            raise download.failed(exc) from exc
        return download.data()


class _Download:
    """The checks of one image download, fed by the sync or the async client."""

    def __init__(self, url: str, number: int, settings: ImageSettings) -> None:
        self.url = url
        self.number = number
        self.limit = settings.fetch_max_bytes
        self.timeout = settings.fetch_timeout
        # httpx bounds each network wait; a server trickling bytes is bounded here.
        self.deadline = time.monotonic() + settings.fetch_timeout
        self.chunks: list[bytes] = []
        self.size = 0

    def error(self, problem: str) -> InvalidContentError:
        return _image_error(self.number, _shorten(self.url), problem)

    def start(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise self.error(f"downloading it failed: the server answered {response.status_code}")
        content_type = response.headers.get("content-type", "")
        if not content_type.split(";", 1)[0].strip().lower().startswith("image/"):
            raise self.error(
                f"the server sent content type {content_type or '(none)'!r}, not an image"
            )
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            raise self.error(
                f"it is {_megabytes(int(length))}, over the download limit of "
                f"{_megabytes(self.limit)} (fetch_max_bytes)"
            )

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.error(
                f"the download passed the limit of {_megabytes(self.limit)} (fetch_max_bytes)"
            )
        if time.monotonic() > self.deadline:
            raise self.timed_out()
        self.chunks.append(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)

    def timed_out(self) -> InvalidContentError:
        return self.error(f"downloading it took longer than {self.timeout:g} s (fetch_timeout)")

    def failed(self, exc: Exception) -> InvalidContentError:
        if isinstance(exc, _RedirectRefused):
            return self.error(
                f"it redirects to {_shorten(exc.url)}; only http and https redirects are followed"
            )
        if isinstance(exc, httpx.TimeoutException):
            return self.timed_out()
        if isinstance(exc, httpx.TooManyRedirects):
            return self.error(f"downloading it failed: more than {_REDIRECTS} redirects")
        return self.error(f"downloading it failed: {type(exc).__name__}: {exc}")


class _RedirectRefused(Exception):
    """A redirect led to a scheme other than http(s); raised from inside the HTTP client."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _refuse_redirect(request: httpx.Request) -> None:
    if request.url.scheme not in ("http", "https"):
        raise _RedirectRefused(str(request.url))


async def _arefuse_redirect(request: httpx.Request) -> None:
    _refuse_redirect(request)


# ---- sizing decisions (pure)


def target_size(width: int, height: int, settings: ImageSettings) -> tuple[int, int]:
    """The size an image is sent at: the largest within the limits, never larger than it is."""
    scale = 1.0
    if settings.max_side is not None:
        scale = min(scale, settings.max_side / max(width, height))
    if settings.max_pixels is not None:
        scale = min(scale, math.sqrt(settings.max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    # Rounding to the nearest keeps the aspect ratio best; where that crosses the pixel budget
    # by a few pixels, rounding down keeps within it.
    for rounding in (round, math.floor):
        new_width = min(width, max(1, rounding(width * scale)))
        new_height = min(height, max(1, rounding(height * scale)))
        if settings.max_pixels is None or new_width * new_height <= settings.max_pixels:
            break
    return new_width, new_height


def _fits(header: ImageHeader | None, settings: ImageSettings) -> bool:
    size = None if header is None else (header.width, header.height)
    return size is not None and target_size(*size, settings) == size


def _check_input_pixels(
    width: int, height: int, settings: ImageSettings, number: int | None, where: str
) -> None:
    if width * height > settings.max_input_pixels:
        raise _image_error(
            number,
            where,
            f"its header claims {width}x{height} pixels, over the {settings.max_input_pixels:,} "
            "pixels decoded at most (a decompression bomb, or an image to shrink before sending)",
        )


def _needs_pillow(header: ImageHeader | None, settings: ImageSettings) -> str:
    if header is None:
        return (
            "it is not a PNG, JPEG, GIF or WebP image with a readable header; converting other "
            "formats needs Pillow: pip install 'langchain-hf-vlm[images]'"
        )
    limits = []
    if settings.max_side is not None:
        limits.append(f"image_max_side={settings.max_side}")
    if settings.max_pixels is not None:
        limits.append(f"image_max_pixels={settings.max_pixels:,}")
    return (
        f"it is {header.width}x{header.height} pixels, over the limits ({', '.join(limits)}), "
        "and resizing needs Pillow: pip install 'langchain-hf-vlm[images]', or raise the "
        "limits (None turns a limit off)"
    )


# ---- header parsing (pure Python, no Pillow)


def read_image_header(data: bytes) -> ImageHeader | None:
    """Type and size of PNG, JPEG, GIF or WebP data from its first bytes; None if unreadable."""
    mime = sniff_image_mime(data)
    if mime is None:
        return None
    size = _HEADER_READERS[mime](data)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return ImageHeader(mime, size[0], size[1])


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


# ---- decoding, resizing and encoding (Pillow)


@functools.cache
def _has_pillow() -> bool:
    """Whether Pillow can be imported; tests replace this to simulate its absence."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def reencode(
    data: bytes,
    header: ImageHeader | None,
    settings: ImageSettings,
    *,
    number: int | None,
    where: str,
) -> tuple[str, bytes]:
    """Decode an image with Pillow, resize it to the limits, and encode it as JPEG or PNG.

    Args:
        data: The image file's bytes.
        header: What :func:`read_image_header` found in them, if anything.
        settings: The limits.
        number: The image's position in the request, for error messages (None: not in one).
        where: Where the image comes from, for error messages.

    Returns:
        The mime type and the bytes of the new file.

    Raises:
        InvalidContentError: Pillow is missing, the image is too large to decode, or its data
            is corrupt, truncated or of no format Pillow reads.
    """
    if header is not None:
        _check_input_pixels(header.width, header.height, settings, number, where)
    if not _has_pillow():
        raise _image_error(number, where, _needs_pillow(header, settings))
    from PIL import UnidentifiedImageError

    try:
        return _resize_and_encode(data, settings, number, where)
    except InvalidContentError:
        raise
    except _PILLOW_ERRORS as exc:
        if header is None and isinstance(exc, UnidentifiedImageError):
            problem = f"it is not an image format Pillow can read (starts with {data[:8]!r})"
        else:
            problem = f"the image data is corrupt or truncated ({exc})"
        raise _image_error(number, where, problem) from exc


def _resize_and_encode(
    data: bytes, settings: ImageSettings, number: int | None, where: str
) -> tuple[str, bytes]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        width, height = source.size
        _check_input_pixels(width, height, settings, number, where)
        size = target_size(width, height, settings)
        box: tuple[float, float, float, float] | None = None
        if size != (width, height) and source.format in ("JPEG", "MPO"):
            # Pillow's thumbnail() recipe, with a smaller gap: the JPEG decoder skips most of
            # the work when asked for a 1/2, 1/4 or 1/8 scale picture.
            wanted = (int(size[0] * _REDUCING_GAP), int(size[1] * _REDUCING_GAP))
            drafted = source.draft(None, wanted)
            box = drafted[1] if drafted is not None else None
        source.load()
        image = _standard_mode(source)
        photo = is_photo(image, source.format)
        if size != image.size or box is not None:
            image = image.resize(
                size, Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP
            )
        return encode_image(image, settings.jpeg_quality, photo=photo)


def _standard_mode(image: Image.Image) -> Image.Image:
    """The image in a mode that resizes with interpolation and encodes as JPEG or PNG."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow clips 16-bit values to 255 when converting to 8 bits; scale them instead.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode in ("P", "PA") or "transparency" in image.info:
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def is_photo(image: Image.Image, source_format: str | None) -> bool:
    """Whether an image is best sent as JPEG: a JPEG already, or no flat graphics.

    Judged before any resizing, because downscaling blurs the flat areas of graphics.
    """
    # MPO is how Pillow names camera JPEGs that carry extra pictures (depth, previews).
    return source_format in ("JPEG", "MPO") or not _is_flat(_standard_mode(image))


def encode_image(image: Image.Image, jpeg_quality: int, *, photo: bool) -> tuple[str, bytes]:
    """Encode an image upright and without metadata: JPEG for a photo, PNG where there is
    transparency or for graphics. Returns (mime type, bytes)."""
    from PIL import ImageOps

    oriented = ImageOps.exif_transpose(_standard_mode(image))
    # Models read pixel values only; EXIF (GPS included), ICC and text chunks stay behind.
    oriented.info = {}
    if oriented.mode in ("RGBA", "LA"):
        alpha = oriented.getchannel(oriented.mode[-1])
        if alpha.getextrema()[0] == 255:
            oriented = oriented.convert(oriented.mode[:-1])
    buffer = io.BytesIO()
    if oriented.mode in ("RGBA", "LA") or not photo:
        # Level 3 of 9: with zlib-ng (Pillow's wheels) both faster and smaller than the default 6.
        oriented.save(buffer, "PNG", compress_level=3)
        return "image/png", buffer.getvalue()
    oriented.save(buffer, "JPEG", quality=jpeg_quality)
    return "image/jpeg", buffer.getvalue()


def _is_flat(image: Image.Image) -> bool:
    from PIL import Image, ImageChops

    width, height = image.size
    if width < 2:
        return True
    # 128 rows spread over the image tell flat graphics from photos as well as all rows do.
    rows = image.resize((width, min(height, 128)), Image.Resampling.NEAREST)
    difference = ImageChops.difference(
        rows.crop((0, 0, width - 1, rows.height)), rows.crop((1, 0, width, rows.height))
    )
    if difference.mode != "L":
        bands = difference.split()
        difference = functools.reduce(ImageChops.lighter, bands[1:], bands[0])
    unchanged = difference.histogram()[0]
    return unchanged >= _FLAT_SHARE * (width - 1) * rows.height


# ---- small helpers


def _decode(payload: str | memoryview, number: int, where: str) -> bytes:
    # Not strict: to_wire_messages has validated the base64 already, and garbage decodes to
    # bytes that fail the header check anyway.
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError) as exc:
        raise _image_error(number, where, f"invalid base64 data ({exc})") from None


def _head_header(url: str, start: int) -> ImageHeader | None:
    """The header of a data URI's image from its first bytes: 2 KB hold it for PNG, GIF, WebP
    and most JPEGs; 64 KB for JPEGs with a large EXIF block first."""
    for chars in (_SMALL_HEAD_CHARS, _HEAD_CHARS):
        header = read_image_header(_decode_head(url[start : start + chars]))
        if header is not None or len(url) - start <= chars:
            return header
    return None


def _decode_head(payload: str) -> bytes:
    """The first bytes of base64 data, or none when that prefix does not decode on its own
    (whitespace in the data); decoding all of it then decides."""
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return b""


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{binascii.b2a_base64(data, newline=False).decode('ascii')}"


def _skeleton_bytes(wire_messages: Sequence[dict[str, Any]]) -> int:
    """Serialized size of the messages with every image URL left empty."""
    skeleton = [
        {
            **message,
            "content": [
                {**part, "image_url": {**part["image_url"], "url": ""}}
                if part.get("type") == "image_url"
                else part
                for part in message["content"]
            ],
        }
        if isinstance(message.get("content"), list)
        else message
        for message in wire_messages
    ]
    return len(json.dumps(skeleton, ensure_ascii=False, separators=(",", ":")).encode())


def _image_error(number: int | None, where: str, problem: str) -> InvalidContentError:
    if number is None:
        return InvalidContentError(f"{where}: {problem}")
    return InvalidContentError(
        f"image {number} of the request ({where}): {problem}", image_number=number
    )


def _shorten(url: str) -> str:
    return url if len(url) <= 100 else url[:97] + "..."


def _megabytes(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 100_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.2f} MB"


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "ImageHeader",
    "ImagePipeline",
    "ImageSettings",
    "PipelineStats",
    "encode_image",
    "is_photo",
    "read_image_header",
    "reencode",
    "target_size",
]
