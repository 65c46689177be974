"""Document, video and text-file blocks in every shape, read into what they hold."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from langchain_hf_vlm._media.sources import MediaSource, read_media_block

PDF = base64.b64encode(b"%PDF-1.7\n%...").decode()
MP4 = base64.b64encode(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00").decode()
TEXT = base64.b64encode(b"a,b\n1,2\n").decode()


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {"type": "file", "base64": PDF, "mime_type": "application/pdf"},
            MediaSource("pdf", "application/pdf", base64=PDF),
        ),
        (
            {"type": "file", "base64": PDF},  # the signature tells
            MediaSource("pdf", "application/pdf", base64=PDF),
        ),
        (
            {"type": "file", "base64": PDF, "mime_type": "application/pdf", "filename": "a.pdf"},
            MediaSource("pdf", "application/pdf", base64=PDF, name="a.pdf"),
        ),
        (
            {
                "type": "file",
                "base64": PDF,
                "mime_type": "application/pdf",
                "extras": {"filename": "b.pdf", "pages": [3, 1]},
            },
            MediaSource("pdf", "application/pdf", base64=PDF, name="b.pdf", pages=(1, 3)),
        ),
        (
            {"type": "file", "url": "https://h.example/docs/c.pdf", "mime_type": "application/pdf"},
            MediaSource("pdf", "application/pdf", url="https://h.example/docs/c.pdf", name="c.pdf"),
        ),
        (
            {"type": "file", "url": "https://h.example/download?id=7"},  # its bytes will tell
            MediaSource(None, None, url="https://h.example/download?id=7", name="download"),
        ),
        (
            {"type": "file", "url": "https://h.example/notes.md"},
            MediaSource("text", "text/markdown", url="https://h.example/notes.md", name="notes.md"),
        ),
        (  # v0
            {"type": "file", "source_type": "base64", "data": PDF, "mime_type": "application/pdf"},
            MediaSource("pdf", "application/pdf", base64=PDF),
        ),
        (
            {"type": "file", "source_type": "text", "text": "hello", "mime_type": "text/plain"},
            MediaSource("text", "text/plain", text="hello"),
        ),
        (  # OpenAI chat completions
            {
                "type": "file",
                "file": {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "o.pdf"},
            },
            MediaSource("pdf", "application/pdf", base64=PDF, name="o.pdf"),
        ),
        (  # Anthropic
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
                "title": "Q3 report",
            },
            MediaSource("pdf", "application/pdf", base64=PDF, name="Q3 report"),
        ),
        (
            {"type": "document", "source": {"type": "url", "url": "https://h.example/x.pdf"}},
            MediaSource("pdf", "application/pdf", url="https://h.example/x.pdf", name="x.pdf"),
        ),
        (
            {
                "type": "document",
                "source": {
                    "type": "text",
                    "media_type": "text/plain",
                    "data": "The grass is green.",
                },
            },
            MediaSource("text", "text/plain", text="The grass is green."),
        ),
        (
            {"type": "file", "base64": TEXT, "mime_type": "text/csv", "filename": "t.csv"},
            MediaSource("text", "text/csv", base64=TEXT, name="t.csv"),
        ),
        (
            {"type": "text-plain", "text": "plain", "mime_type": "text/plain", "title": "n"},
            MediaSource("text", "text/plain", text="plain", name="n"),
        ),
        (
            {"type": "video", "base64": MP4, "extras": {"max_frames": 4}},
            MediaSource("video", "video/mp4", base64=MP4, max_frames=4),
        ),
        (
            {"type": "video", "source_type": "base64", "data": MP4, "mime_type": "video/mp4"},
            MediaSource("video", "video/mp4", base64=MP4),
        ),
        (
            {"type": "video", "url": "https://h.example/v", "extras": {"frames_per_second": 0.5}},
            MediaSource("video", None, url="https://h.example/v", name="v", frames_per_second=0.5),
        ),
        (  # vLLM
            {"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{MP4}"}},
            MediaSource("video", "video/mp4", base64=MP4),
        ),
    ],
)
def test_shapes(block: dict[str, Any], expected: MediaSource) -> None:
    assert read_media_block(block) == expected


@pytest.mark.parametrize(
    "block",
    [
        {"type": "text", "text": "x"},
        {"type": "image", "url": "https://h.example/a.png"},
        {"type": "image_url", "image_url": {"url": "https://h.example/a.png"}},
        {"type": "audio", "base64": "AAAA"},
    ],
)
def test_other_blocks_are_not_media(block: dict[str, Any]) -> None:
    assert read_media_block(block) is None


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "file", "file_id": "file-abc"}, "provider's file store"),
        ({"type": "file", "file": {"file_id": "file-abc"}}, "provider's file store"),
        ({"type": "document", "source": {"type": "file", "file_id": "f"}}, "file store"),
        ({"type": "document", "source": {"type": "content", "content": []}}, "'content'"),
        ({"type": "document"}, "needs a 'source'"),
        ({"type": "file", "mime_type": "application/pdf"}, "needs 'base64' or 'url'"),
        ({"type": "file", "base64": "", "mime_type": "application/pdf"}, "data is empty"),
        ({"type": "file", "base64": "%%%%", "mime_type": "application/pdf"}, "invalid base64"),
        ({"type": "file", "base64": TEXT}, "has no mime_type and is neither a PDF nor a video"),
        ({"type": "file", "base64": PDF, "mime_type": "application/zip"}, "'application/zip'"),
        ({"type": "file", "base64": PDF, "mime_type": "image/png"}, "send images as image"),
        ({"type": "file", "url": "ftp://h.example/a.pdf"}, "only http(s) URLs"),
        ({"type": "file", "file": {"file_data": "data:application/pdf,abc"}}, "data URI"),
        (
            {"type": "file", "base64": TEXT, "mime_type": "text/csv", "extras": {"pages": "1"}},
            "'pages' applies to PDFs",
        ),
        (
            {"type": "file", "base64": PDF, "extras": {"pages": "4-2"}},
            "runs backwards",
        ),
        ({"type": "video", "base64": MP4, "extras": {"max_frames": 0}}, "max_frames must be"),
        (
            {"type": "file", "base64": PDF, "extras": {"frames_per_second": 1}},
            "apply to videos",
        ),
    ],
)
def test_malformed_media_blocks(block: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        read_media_block(block)
