"""The public document helpers (path, bytes, URL or data URI -> standard blocks)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

pytest.importorskip("pypdfium2")
pytest.importorskip("av")

from PIL import Image

from langchain_hf_vlm import InvalidContentError
from langchain_hf_vlm.documents import (
    document_block,
    pdf_blocks,
    video_block,
    video_frame_blocks,
)
from tests.support.media import Page, pdf, scanned_page, text_pdf, video


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------- document_block


def test_a_pdf_file_becomes_a_v1_file_block_named_after_the_file(tmp_path: Path) -> None:
    data = text_pdf(2)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)

    assert document_block(path) == {
        "type": "file",
        "base64": b64(data),
        "mime_type": "application/pdf",
        "extras": {"filename": "report.pdf"},
    }
    assert document_block(str(path), pages="2", name="Q3")["extras"] == {
        "filename": "Q3",
        "pages": [2],
    }


def test_pdf_bytes_are_recognised_by_their_signature() -> None:
    data = text_pdf(1)

    assert document_block(data) == {
        "type": "file",
        "base64": b64(data),
        "mime_type": "application/pdf",
    }
    assert document_block(f"data:application/octet-stream;base64,{b64(data)}")["base64"] == b64(
        data
    )


@pytest.mark.parametrize(
    ("file_name", "mime"),
    [
        ("notes.md", "text/markdown"),
        ("a.txt", "text/plain"),
        ("t.csv", "text/csv"),
        ("d.json", "application/json"),
    ],
)
def test_text_files_take_their_type_from_the_name(
    tmp_path: Path, file_name: str, mime: str
) -> None:
    path = tmp_path / file_name
    path.write_text("hello")

    block = document_block(path)

    assert block["mime_type"] == mime
    assert base64.b64decode(block["base64"]) == b"hello"


def test_urls_are_not_downloaded() -> None:
    assert document_block("https://example.com/files/a.pdf?x=1", pages=[1, 2]) == {
        "type": "file",
        "url": "https://example.com/files/a.pdf?x=1",
        "mime_type": "application/pdf",
        "extras": {"filename": "a.pdf", "pages": [1, 2]},
    }
    assert document_block("https://example.com/notes.md")["mime_type"] == "text/markdown"


@pytest.mark.parametrize(
    ("source", "kwargs", "problem"),
    [
        (b"\x00\x01 binary", {}, "not a PDF"),
        (b"plain words", {"mime_type": "application/pdf"}, "does not start with the PDF signature"),
        (b"plain words", {"mime_type": "text/plain", "pages": "1"}, "pages apply to PDFs"),
        (text_pdf(1), {"mime_type": "text/plain"}, "the data is a PDF"),
        (text_pdf(1), {"pages": "2-1"}, "runs backwards"),
        ("ftp://example.com/a.pdf", {}, "only http(s) URLs and data URIs"),
        ("data:application/pdf,abc", {}, "must look like data:<mime>;base64"),
    ],
)
def test_document_block_rejects(source: object, kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        document_block(source, **kwargs)  # type: ignore[arg-type]


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        document_block(tmp_path / "nope.pdf")


# ---------------------------------------------------------------- video_block


def test_a_video_becomes_a_v1_video_block_with_its_sampling(tmp_path: Path) -> None:
    clip = video(container="webm", codec="libvpx")
    path = tmp_path / "walk.webm"
    path.write_bytes(clip)

    assert video_block(path, max_frames=4, frames_per_second=0.5) == {
        "type": "video",
        "base64": b64(clip),
        "mime_type": "video/webm",
        "extras": {"filename": "walk.webm", "max_frames": 4, "frames_per_second": 0.5},
    }
    assert video_block("https://example.com/v.mp4") == {
        "type": "video",
        "url": "https://example.com/v.mp4",
        "extras": {"filename": "v.mp4"},
    }


@pytest.mark.parametrize(
    ("source", "kwargs", "problem"),
    [
        (b"GIF89a....", {}, "not an MP4, QuickTime, WebM, Matroska or AVI video"),
        (b"", {"max_frames": 0}, "max_frames must be positive"),
        (b"", {"frames_per_second": -1.0}, "frames_per_second must be positive"),
    ],
)
def test_video_block_rejects(source: bytes, kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        video_block(source, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- rendered now


def test_pdf_blocks_are_text_and_image_blocks_of_each_page(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf([Page(lines=["first"]), scanned_page(), Page(lines=["third"])]))

    blocks = pdf_blocks(path, pages="1-2", max_pixels=100_000)

    assert [block["type"] for block in blocks] == ["text", "image", "text", "text", "image"]
    assert blocks[0] == {"type": "text", "text": "Document scan.pdf, page 1 of 3"}
    assert blocks[2]["text"].endswith("first")
    assert blocks[3] == {"type": "text", "text": "Document scan.pdf, page 2 of 3"}
    assert [blocks[1]["mime_type"], blocks[4]["mime_type"]] == ["image/png", "image/jpeg"]
    width, height = Image.open(io.BytesIO(base64.b64decode(blocks[4]["base64"]))).size
    assert width * height <= 100_000


def test_pdf_blocks_errors_name_the_document() -> None:
    with pytest.raises(InvalidContentError, match="PDF 1: 3 pages would be sent"):
        pdf_blocks(text_pdf(3), max_pages=2)
    with pytest.raises(ValueError, match="pdf_blocks reads local data"):
        pdf_blocks("https://example.com/a.pdf")


def test_video_frame_blocks() -> None:
    blocks = video_frame_blocks(video(seconds=2), name="walk", max_frames=2, max_pixels=80 * 60)

    assert [block["type"] for block in blocks] == ["text", "image"] * 2
    assert blocks[0]["text"] == "Video walk (0:02.0 long), frame 1 of 2 at 0:00.0"
    image = Image.open(io.BytesIO(base64.b64decode(blocks[1]["base64"])))
    assert image.size == (80, 60)
