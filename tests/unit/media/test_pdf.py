"""PDF pages as images: sizes, order, labels, text layer, limits, bad files."""

from __future__ import annotations

import io
import itertools
import threading
from typing import cast

import pytest

pytest.importorskip("pypdfium2")

from PIL import Image

from langchain_hf_vlm import InvalidContentError
from langchain_hf_vlm._media import pdf as pdf_module
from langchain_hf_vlm._media.parts import MediaPart, wire_parts
from langchain_hf_vlm._media.pdf import (
    PdfLimits,
    page_pixels,
    parse_pages,
    plan_pdf,
    render_pdf,
)
from langchain_hf_vlm._media.settings import ImageSettings
from tests.support.media import (
    A4,
    Page,
    Picture,
    encrypted_pdf,
    pdf,
    raw_pdf,
    scanned_page,
    text_pdf,
)

DEFAULT = ImageSettings()
LIMITS = PdfLimits()


def render(
    data: bytes,
    *,
    pages: str | None = None,
    settings: ImageSettings = DEFAULT,
    limits: PdfLimits = LIMITS,
    name: str = "a.pdf",
) -> list[MediaPart]:
    plan = plan_pdf(data, name=name, pages=parse_pages(pages), limits=limits)
    return render_pdf(data, plan, settings, limits)


def picture(part: MediaPart) -> Image.Image:
    return Image.open(io.BytesIO(part.data))


# ---------------------------------------------------------------- pages, order, labels


def test_pages_come_in_page_order_each_labelled() -> None:
    parts = render(text_pdf(3))

    assert [part.label for part in parts] == [
        "Document a.pdf, page 1 of 3",
        "Document a.pdf, page 2 of 3",
        "Document a.pdf, page 3 of 3",
    ]
    assert [part.text for part in parts] == [
        f"Text of page {n} (the PDF's text layer):\nPage {n}" for n in (1, 2, 3)
    ]


def test_a_page_selection_keeps_the_real_page_numbers() -> None:
    parts = render(text_pdf(12), pages="9, 3")

    assert [part.label for part in parts] == [
        "Document a.pdf, page 3 of 12",
        "Document a.pdf, page 9 of 12",
    ]
    assert [part.text.splitlines()[-1] for part in parts if part.text] == ["Page 3", "Page 9"]


def test_a_page_is_rendered_at_the_largest_size_within_the_image_budget() -> None:
    settings = ImageSettings(max_pixels=300_000, max_side=2000)
    (part,) = render(text_pdf(1), settings=settings)

    image = picture(part)
    assert (image.width, image.height) == (part.width, part.height)
    assert part.width * part.height <= 300_000
    assert (part.width + 2) * (part.height + 2) > 300_000  # not a smaller size than allowed
    assert part.width / part.height == pytest.approx(A4[0] / A4[1], abs=0.005)


def test_max_side_binds_for_long_pages() -> None:
    (part,) = render(text_pdf(1, size=(200, 2000)), settings=ImageSettings(max_side=500))

    assert part.height == 500
    assert part.width == 50


def test_small_pages_stop_at_300_dpi_and_unlimited_settings_use_150_dpi() -> None:
    one_inch = text_pdf(1, size=(72, 72))

    assert (render(one_inch)[0].width, render(one_inch)[0].height) == (300, 300)
    unlimited = ImageSettings(max_pixels=None, max_side=None)
    assert render(text_pdf(1), settings=unlimited)[0].width == 1239  # 595 pt at 150 dpi, down


def test_rotated_pages_are_rendered_upright() -> None:
    landscape_turned = pdf([Page(size=(842, 595), rotation=90, lines=["turned"])])

    (part,) = render(landscape_turned)

    assert part.height > part.width


def test_the_page_shows_its_content_where_the_pdf_puts_it() -> None:
    red_left_half = pdf([Page(pictures=[Picture((220, 20, 20), (0, 0, 297.5, 842), noise=0)])])

    image = picture(render(red_left_half, settings=ImageSettings(max_pixels=60_000))[0])

    rgb = image.convert("RGB")
    left = cast(tuple[int, ...], rgb.getpixel((image.width // 4, image.height // 2)))
    right = cast(tuple[int, ...], rgb.getpixel((3 * image.width // 4, image.height // 2)))
    assert left[0] > 180 and left[1] < 60  # red
    assert min(right) > 240  # the white page


def test_text_pages_are_png_and_scans_jpeg() -> None:
    parts = render(pdf([Page(lines=["Total: 42.00 EUR"]), scanned_page()]))

    assert [part.mime_type for part in parts] == ["image/png", "image/jpeg"]
    assert [picture(part).format for part in parts] == ["PNG", "JPEG"]


def test_wire_parts_put_the_label_before_each_image_and_the_text_after() -> None:
    parts = render(text_pdf(2))

    wire = wire_parts(parts)

    assert [part["type"] for part in wire] == ["text", "image_url", "text"] * 2
    assert wire[0]["text"] == "Document a.pdf, page 1 of 2"
    assert wire[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    assert wire[2]["text"].endswith("Page 1")


# ---------------------------------------------------------------- text layer


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("off", [None, None]),
        ("on", ["typed words", "ocr words"]),
        ("auto", ["typed words", None]),  # the scan's text layer stays behind
    ],
)
def test_the_text_layer_setting(mode: str, expected: list[str | None]) -> None:
    document = pdf([Page(lines=["typed words"]), scanned_page(lines=["ocr words"])])

    parts = render(document, limits=PdfLimits(text_layer=mode))  # type: ignore[arg-type]

    assert [part.text.splitlines()[-1] if part.text else None for part in parts] == expected


def test_a_page_with_a_small_picture_is_no_scan() -> None:
    logo = Picture((20, 20, 200), (40, 760, 80, 40))
    (part,) = render(pdf([Page(lines=["Invoice 7"], pictures=[logo])]))

    assert part.text is not None and part.text.endswith("Invoice 7")


def test_a_page_without_text_sends_no_text_part() -> None:
    (part,) = render(pdf([Page()]), limits=PdfLimits(text_layer="on"))

    assert part.text is None


# ---------------------------------------------------------------- page selection


@pytest.mark.parametrize(
    ("spec", "pages"),
    [
        ("1-3, 5", (1, 2, 3, 5)),
        ("7", (7,)),
        (" 2 - 4 ,2", (2, 3, 4)),
        ([3, 1, 3], (1, 3)),
        (range(2, 5), (2, 3, 4)),
        (None, None),
    ],
)
def test_parse_pages(spec: object, pages: tuple[int, ...] | None) -> None:
    assert parse_pages(spec) == pages  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("3-1", "runs backwards"),
        ("", "expected page numbers"),
        ("1,,2", "expected page numbers"),
        ("one", "expected page numbers"),
        ([0, 1], "start at 1"),
        ([], "selects no page"),
        (["1"], "must be integers"),
        ([True], "must be integers"),
    ],
)
def test_parse_pages_rejects(spec: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_pages(spec)  # type: ignore[arg-type]


def test_a_page_beyond_the_document_is_an_error() -> None:
    with pytest.raises(
        InvalidContentError, match="page 4 was asked for, and the document has 3 pages"
    ):
        render(text_pdf(3), pages="2-5")


# ---------------------------------------------------------------- limits and bad files


def test_more_pages_than_the_limit_is_an_error_before_rendering() -> None:
    with pytest.raises(InvalidContentError) as caught:
        plan_pdf(text_pdf(6), name="long.pdf", pages=None, limits=PdfLimits(max_pages=5))

    assert "PDF long.pdf: 6 pages would be sent, over the limit of 5 pages" in str(caught.value)
    assert "pdf_max_pages" in str(caught.value)
    assert "pages='1-5'" in str(caught.value)
    assert len(render(text_pdf(6), pages="2-6", limits=PdfLimits(max_pages=5))) == 5


def test_a_file_over_the_size_limit_is_an_error() -> None:
    data = text_pdf(1)
    with pytest.raises(InvalidContentError, match=r"over the limit of 100 \(pdf_max_bytes\)"):
        plan_pdf(data, name="a", pages=None, limits=PdfLimits(max_bytes=100))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (encrypted_pdf(), "it is encrypted with a password; send a decrypted copy"),
        (text_pdf(2)[:400], "it is not a readable PDF"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, "it is not a readable PDF"),
        (b"GIF89a not a pdf", "does not start with the PDF signature %PDF-"),
        (raw_pdf("0 0 612 792", page_count=0), "it is not a readable PDF"),
    ],
    ids=["encrypted", "truncated", "garbage", "not-pdf", "no-pages"],
)
def test_unreadable_files_are_clear_errors(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidContentError, match="PDF x: ") as caught:
        render(data, name="x")

    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("media_box", "problem"),
    [
        ("0 0 14401 100", "page 1 is 200 x 1 inches, beyond the 200 inches PDF allows"),
        ("0 0 100 100000", "beyond the 200 inches PDF allows"),
        ("0 0 0.001 842", "too thin to show anything"),
    ],
)
def test_pathological_page_sizes_are_errors(media_box: str, problem: str) -> None:
    with pytest.raises(InvalidContentError, match=problem):
        render(raw_pdf(media_box))


def test_an_empty_media_box_is_rendered_as_pdfium_reads_it_us_letter() -> None:
    (part,) = render(raw_pdf("0 0 0 0"))

    assert part.width / part.height == pytest.approx(612 / 792, abs=0.005)


def test_the_largest_page_pdf_allows_renders_within_the_budget() -> None:
    (part,) = render(raw_pdf("0 0 14400 14400"))

    assert (part.width, part.height) == (1120, 1120)


def test_page_pixels_never_exceed_the_decoding_limit_without_other_limits() -> None:
    settings = ImageSettings(max_pixels=None, max_side=None, max_input_pixels=1_000_000)

    width, height = page_pixels(14_400, 14_400, settings)

    assert width * height <= 1_000_000


def test_rendering_stops_when_the_time_budget_is_spent() -> None:
    ticks = itertools.count()
    plan = plan_pdf(text_pdf(5), name="slow.pdf", pages=None, limits=LIMITS)
    limits = PdfLimits(render_timeout=3)

    with pytest.raises(InvalidContentError) as caught:
        render_pdf(text_pdf(5), plan, DEFAULT, limits, clock=lambda: float(next(ticks)))

    assert "PDF slow.pdf: rendering stopped at page" in str(caught.value)
    assert "longer than 3 s (pdf_render_timeout)" in str(caught.value)


def test_without_pypdfium2_a_pdf_is_an_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_module, "_import_pdfium", lambda: None)

    with pytest.raises(InvalidContentError, match=r"pip install '\.\[pdf\]' in a clone"):
        render(text_pdf(1))


def test_documents_render_from_several_threads_at_once() -> None:
    data = pdf([Page(lines=[f"line {n}" for n in range(30)]), scanned_page()])
    expected = [part.data for part in render(data)]
    results: list[list[bytes]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append([part.data for part in render(data)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [expected] * 12


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_pages", 0), ("max_bytes", -1), ("render_timeout", 0), ("text_layer", "maybe")],
)
def test_invalid_limits_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        PdfLimits(**{field: value})  # type: ignore[arg-type]
