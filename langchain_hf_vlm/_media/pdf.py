"""PDF pages as images: pypdfium2 renders each page at the size the model receives.

Pure: bytes in, labelled images out, no I/O. Needs the ``[pdf]`` extra (pypdfium2 and Pillow);
without it a PDF is an error saying so.

- A page is rendered straight at its target size, never rendered big and shrunk: the largest
  size within the image settings' ``max_pixels`` and ``max_side``, and at most ``MAX_DPI``.
  Pages with text and drawings become PNG, scanned pages JPEG (the image codec's rule).
- Pages come in page order, each introduced by a text part ("Document a.pdf, page 3 of 12").
- ``text_layer`` decides whether a page's embedded text goes along as text: "off", "on", or
  "auto" (the default): only for pages that are not scans, i.e. whose images cover less than
  half the page. There the text layer is the exact text the page shows, and it spares the
  model reading small print (numbers, names, code) from pixels; on a scan the text layer, if
  any, is somebody's OCR of unknown quality and the image is the truth. OpenAI and Anthropic
  send text beside every page image too.
- Limits, each a clear :class:`InvalidContentError` before anything is sent: file size, pages
  per request, encrypted or unreadable files, page sizes of zero or beyond PDF's own limit of
  200 inches, and a render time budget checked while PDFium renders (its progressive renderer
  asks after each page object whether to pause). Memory is bounded whatever the file claims:
  pages are rendered one at a time into a bitmap of the target size.
- PDFium is not thread-safe: one lock serialises every use of it in the process.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from langchain_hf_vlm._media.codec import encode_image, is_photo
from langchain_hf_vlm._media.parts import MediaPart
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm.errors import InvalidContentError

if TYPE_CHECKING:
    from PIL import Image

TextLayer = Literal["off", "on", "auto"]
TEXT_LAYERS: tuple[TextLayer, ...] = ("off", "on", "auto")

PDF_MIME_TYPE = "application/pdf"
DEFAULT_MAX_PAGES = 20
"""Pages per request. A page at the default image budget costs about as many prompt tokens as
a photo (1,000-1,600 for Qwen2-VL-style models) and 50-300 KB on the wire: 20 pages are about
30,000 tokens, the context of many served VLMs. Choose pages of longer documents."""
DEFAULT_TEXT_LAYER: TextLayer = "auto"
DEFAULT_MAX_BYTES = 50_000_000
"""Largest PDF accepted, as OpenAI's file inputs (Anthropic takes 32 MB)."""
DEFAULT_RENDER_TIMEOUT = 60.0
"""Seconds allowed to render one document's pages; a usual page takes 20-200 ms."""
MAX_DPI = 300.0
"""A page is never rendered finer than this, however small it is: print resolution shows all
there is to see, and smaller images cost fewer tokens."""
UNLIMITED_DPI = 150.0
"""Resolution of pages when the image limits are turned off (both None)."""
MAX_PAGE_POINTS = 14_400
"""PDF's largest page side: 200 inches of 72 points (ISO 32000-1, annex C)."""
_SCAN_SHARE = 0.5
"""A page is a scan when its images cover at least this share of it."""
_PAGE_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


@dataclass(frozen=True)
class PdfLimits:
    """How PDFs are turned into pages for one model.

    Attributes:
        max_pages: Pages sent per request, over all the request's PDFs.
        text_layer: Send a page's text layer after its image: "off", "on", or "auto" (pages
            that are not scans).
        max_bytes: Largest PDF accepted, in bytes.
        render_timeout: Seconds allowed to render one document's pages.
    """

    max_pages: int = DEFAULT_MAX_PAGES
    text_layer: TextLayer = DEFAULT_TEXT_LAYER
    max_bytes: int = DEFAULT_MAX_BYTES
    render_timeout: float = DEFAULT_RENDER_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("max_pages", "max_bytes", "render_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.text_layer not in TEXT_LAYERS:
            raise ValueError(f"text_layer must be one of {TEXT_LAYERS}, got {self.text_layer!r}")


@dataclass(frozen=True)
class PdfPlan:
    """What will be sent of one PDF, known before anything is rendered.

    Attributes:
        name: How labels and errors name the document.
        page_count: Pages in the document.
        pages: The pages to send, 1-based and in page order.
    """

    name: str
    page_count: int
    pages: tuple[int, ...]


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts with the PDF signature ``%PDF-``."""
    return data.startswith(b"%PDF-")


def parse_pages(pages: str | Iterable[int] | None) -> tuple[int, ...] | None:
    """Normalise a page selection: "1-3, 5" or an iterable of 1-based page numbers.

    Returns:
        The pages, sorted and without repeats; None (all pages) for None.

    Raises:
        ValueError: The selection is malformed, empty, or names a page below 1.
    """
    if pages is None:
        return None
    if isinstance(pages, str):
        numbers: list[int] = []
        for item in pages.split(","):
            match = _PAGE_RANGE.fullmatch(item)
            if match is None:
                raise ValueError(f"pages {pages!r}: expected page numbers and ranges like '1-3, 5'")
            first = int(match[1])
            last = int(match[2]) if match[2] else first
            if last < first:
                raise ValueError(f"pages {pages!r}: the range {first}-{last} runs backwards")
            numbers.extend(range(first, last + 1))
    else:
        numbers = []
        for number in pages:
            if isinstance(number, bool) or not isinstance(number, int):
                raise ValueError(f"page numbers must be integers, got {number!r}")
            numbers.append(number)
    if not numbers:
        raise ValueError("pages selects no page")
    if min(numbers) < 1:
        raise ValueError(f"page numbers start at 1, got {min(numbers)}")
    return tuple(sorted(set(numbers)))


def plan_pdf(data: bytes, *, name: str, pages: Iterable[int] | None, limits: PdfLimits) -> PdfPlan:
    """Check a PDF and decide which pages to send, without rendering any.

    Raises:
        InvalidContentError: The file is too large, not a PDF, encrypted or unreadable, has
            no pages, a selected page does not exist, or more pages than ``max_pages`` would
            be sent.
    """
    fail = _failure(name)
    if len(data) > limits.max_bytes:
        raise fail(
            f"it is {len(data):,} bytes, over the limit of {limits.max_bytes:,} (pdf_max_bytes)"
        )
    if not is_pdf(data):
        raise fail(f"it does not start with the PDF signature %PDF- (starts with {data[:8]!r})")
    with _document(data, fail) as document:
        page_count = len(document)
    if page_count == 0:
        raise fail("it has no pages")
    selected = tuple(range(1, page_count + 1)) if pages is None else tuple(pages)
    missing = [number for number in selected if number > page_count]
    if missing:
        raise fail(f"page {missing[0]} was asked for, and the document has {page_count} pages")
    if len(selected) > limits.max_pages:
        raise fail(
            f"{len(selected)} pages would be sent, over the limit of {limits.max_pages} pages "
            "per request (pdf_max_pages); choose pages, e.g. document_block(..., pages='1-5')"
        )
    return PdfPlan(name=name, page_count=page_count, pages=selected)


def render_pdf(
    data: bytes,
    plan: PdfPlan,
    settings: ImageSettings,
    limits: PdfLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[MediaPart]:
    """Render the planned pages of a PDF, one at a time, each at its target size.

    Args:
        data: The PDF.
        plan: What :func:`plan_pdf` decided to send of it.
        settings: The image limits that size the pages.
        limits: The PDF limits.
        clock: Seconds, for the render time budget (tests hand in their own).

    Raises:
        InvalidContentError: A page has a pathological size, fails to render, or rendering
            takes longer than ``render_timeout``.
    """
    fail = _failure(plan.name)
    budget = _Budget(clock() + limits.render_timeout, clock, limits)
    pdfium = _pdfium(fail)
    parts = []
    with _document(data, fail) as document:
        for number in plan.pages:
            page = document[number - 1]
            try:
                image = _render_page(pdfium, page, number, settings, budget, fail)
                text = _text_layer(pdfium, page, limits.text_layer)
            finally:
                page.close()
            mime, encoded = encode_image(image, settings.jpeg_quality, photo=is_photo(image, None))
            label = f"Document {plan.name}, page {number} of {plan.page_count}"
            parts.append(
                MediaPart(
                    label=label,
                    mime_type=mime,
                    data=encoded,
                    width=image.width,
                    height=image.height,
                    text=f"Text of page {number} (the PDF's text layer):\n{text}" if text else None,
                )
            )
    return parts


def page_pixels(width: float, height: float, settings: ImageSettings) -> tuple[int, int]:
    """The size in pixels a page of ``width`` x ``height`` points is rendered at.

    The largest within ``max_side`` and ``max_pixels`` and at most ``MAX_DPI``; with both
    limits off, ``UNLIMITED_DPI``. Never above ``max_input_pixels``, so that the bitmap's
    memory stays bounded whatever the page claims.
    """
    limited = settings.max_side is not None or settings.max_pixels is not None
    scale = (MAX_DPI if limited else UNLIMITED_DPI) / 72
    if settings.max_side is not None:
        scale = min(scale, settings.max_side / max(width, height))
    if settings.max_pixels is not None:
        scale = min(scale, math.sqrt(settings.max_pixels / (width * height)))
    scale = min(scale, math.sqrt(settings.max_input_pixels / (width * height)))
    # Rounding down keeps within every limit.
    return math.floor(width * scale), math.floor(height * scale)


# ---- PDFium


_PDFIUM_LOCK = threading.Lock()
"""PDFium keeps global state and is not thread-safe (pypdfium2's documentation): every use of
it, from opening a document to closing it, holds this lock."""


@functools.cache
def _import_pdfium() -> Any:
    try:
        import pypdfium2
    except ImportError:
        return None
    return pypdfium2


def _pdfium(fail: Callable[[str], InvalidContentError]) -> Any:
    pdfium = _import_pdfium()
    if pdfium is None:
        raise fail(
            "reading PDFs needs pypdfium2: pip install '.[pdf]' in a clone of langchain-hf-vlm"
        )
    return pdfium


@contextmanager
def _document(data: bytes, fail: Callable[[str], InvalidContentError]) -> Iterator[Any]:
    pdfium = _pdfium(fail)
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise fail(_load_problem(pdfium, exc)) from None
        try:
            yield document
        finally:
            document.close()


def _load_problem(pdfium: Any, exc: Any) -> str:
    code = exc.err_code
    raw = pdfium.raw
    if code == raw.FPDF_ERR_PASSWORD:
        return "it is encrypted with a password; send a decrypted copy"
    if code == raw.FPDF_ERR_SECURITY:
        return "it uses an unsupported security handler (encryption)"
    if code == raw.FPDF_ERR_SUCCESS:  # PDFium's code when the structure (page tree) is broken
        return "it is not a readable PDF (PDFium could not load its page tree)"
    return f"it is not a readable PDF (corrupt or truncated; PDFium: {exc})"


@dataclass(frozen=True)
class _Budget:
    """The render time budget of one document."""

    deadline: float
    clock: Callable[[], float]
    limits: PdfLimits

    def spent(self) -> bool:
        return self.clock() > self.deadline


def _render_page(
    pdfium: Any,
    page: Any,
    number: int,
    settings: ImageSettings,
    budget: _Budget,
    fail: Callable[[str], InvalidContentError],
) -> Image.Image:
    raw = pdfium.raw
    points = page.get_size()
    if not all(math.isfinite(side) and side > 0 for side in points):
        raise fail(f"page {number} has no area ({points[0]:g} x {points[1]:g} points)")
    if max(points) > MAX_PAGE_POINTS:
        raise fail(
            f"page {number} is {points[0] / 72:,.0f} x {points[1] / 72:,.0f} inches, beyond "
            "the 200 inches PDF allows (a malformed or hostile file)"
        )
    width, height = page_pixels(points[0], points[1], settings)
    if min(width, height) == 0:
        raise fail(
            f"page {number} is {points[0]:g} x {points[1]:g} points, too thin to show anything "
            f"at {max(width, height)} pixels long"
        )
    bitmap = pdfium.PdfBitmap.new_native(width, height, raw.FPDFBitmap_BGR, rev_byteorder=True)
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
        pause = raw.IFSDK_PAUSE(version=1)
        pdfium.internal.set_callback(pause, "NeedToPauseNow", lambda _: budget.spent())
        flags = raw.FPDF_ANNOT | raw.FPDF_REVERSE_BYTE_ORDER
        status = raw.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, width, height, 0, flags, pause)
        while status == raw.FPDF_RENDER_TOBECONTINUED and not budget.spent():
            status = raw.FPDF_RenderPage_Continue(page, pause)
        raw.FPDF_RenderPage_Close(page)
        if status == raw.FPDF_RENDER_TOBECONTINUED:
            raise fail(
                f"rendering stopped at page {number}: the document took longer than "
                f"{budget.limits.render_timeout:g} s (pdf_render_timeout)"
            )
        if status != raw.FPDF_RENDER_DONE:
            raise fail(f"page {number} could not be rendered (PDFium status {status})")
        image: Image.Image = bitmap.to_pil().copy()  # to_pil shares the bitmap's memory
        return image
    finally:
        bitmap.close()


def _text_layer(pdfium: Any, page: Any, mode: TextLayer) -> str:
    if mode == "off" or (mode == "auto" and _is_scan(pdfium, page)):
        return ""
    textpage = page.get_textpage()
    try:
        text: str = textpage.get_text_bounded()
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").strip()


def _is_scan(pdfium: Any, page: Any) -> bool:
    width, height = page.get_size()
    covered = 0.0
    for image in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = image.get_bounds()
        covered += max(0.0, min(right, width) - max(left, 0.0)) * max(
            0.0, min(top, height) - max(bottom, 0.0)
        )
    return bool(covered >= _SCAN_SHARE * width * height)


def _failure(name: str) -> Callable[[str], InvalidContentError]:
    def fail(problem: str) -> InvalidContentError:
        return InvalidContentError(f"PDF {name}: {problem}")

    return fail


__all__ = [
    "DEFAULT_MAX_PAGES",
    "DEFAULT_TEXT_LAYER",
    "PDF_MIME_TYPE",
    "TEXT_LAYERS",
    "PdfLimits",
    "PdfPlan",
    "TextLayer",
    "is_pdf",
    "page_pixels",
    "parse_pages",
    "plan_pdf",
    "render_pdf",
]
