"""Documents, videos and text files against `transformers serve` running the tiny VLM.

Each page or frame must reach the model as an image: the tiny model gives its image answer
only when the last user message carries an image, and the server counts 16 prompt tokens per
image. So a document of N pages costs exactly 16 x N tokens more than the same labels sent as
text alone.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pypdfium2")
pytest.importorskip("av")

from langchain_core.messages import HumanMessage

from langchain_hf_vlm.documents import document_block, pdf_blocks, video_block, video_frame_blocks
from tests.realserver.answers import ANS_DEFAULT, ANS_IMAGE
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.media import Page, pdf, scanned_page, text_pdf, video
from tests.support.realserver import ImageHost, make_model

pytestmark = pytest.mark.realserver

IMAGE_TOKENS = 16
QUESTION = {"type": "text", "text": "What does it show?"}


def _labels_only(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text blocks of rendered pages or frames: the same labels, no image."""
    return [block for block in blocks if block["type"] == "text"]


def _input_tokens(model: Any, *blocks: dict[str, Any]) -> tuple[str, int]:
    answer = model.invoke([HumanMessage(content=[QUESTION, *blocks])])
    assert answer.usage_metadata is not None
    return answer.content, answer.usage_metadata["input_tokens"]


def test_each_pdf_page_reaches_the_model_as_one_image(tiny_vlm: TinyVLMServer) -> None:
    document = text_pdf(3)
    model = make_model(tiny_vlm, pdf_text_layer="off")

    answer, tokens = _input_tokens(model, document_block(document, name="a.pdf"))
    labels = _labels_only(pdf_blocks(document, name="a.pdf", text_layer="off"))
    text_answer, text_tokens = _input_tokens(model, *labels)

    assert (answer, text_answer) == (ANS_IMAGE, ANS_DEFAULT)
    assert [label["text"] for label in labels] == [
        f"Document a.pdf, page {n} of 3" for n in (1, 2, 3)
    ]
    assert tokens == text_tokens + 3 * IMAGE_TOKENS


def test_a_page_selection_sends_only_those_pages(tiny_vlm: TinyVLMServer) -> None:
    document = text_pdf(5)
    model = make_model(tiny_vlm, pdf_text_layer="off")

    answer, tokens = _input_tokens(model, document_block(document, name="b", pages="2, 4"))
    labels = _labels_only(pdf_blocks(document, name="b", pages="2, 4", text_layer="off"))
    _, text_tokens = _input_tokens(model, *labels)

    assert answer == ANS_IMAGE
    assert tokens == text_tokens + 2 * IMAGE_TOKENS


def test_the_text_layer_goes_along_for_text_pages_only(tiny_vlm: TinyVLMServer) -> None:
    document = pdf([Page(lines=["Invoice 42", "Total 17.50 EUR"]), scanned_page()])
    model = make_model(tiny_vlm)  # pdf_text_layer="auto"

    answer, tokens = _input_tokens(model, document_block(document, name="c"))
    _, text_tokens = _input_tokens(model, *_labels_only(pdf_blocks(document, name="c")))

    assert answer == ANS_IMAGE
    assert tokens == text_tokens + 2 * IMAGE_TOKENS


async def test_a_pdf_at_a_url_is_downloaded_and_sent_as_pages(
    tiny_vlm: TinyVLMServer, image_host: ImageHost
) -> None:
    model = make_model(tiny_vlm, pdf_text_layer="off", image_fetch_allow_private=True)
    block = {"type": "file", "url": image_host.url("dummy.pdf"), "mime_type": "application/pdf"}

    answer = await model.ainvoke([HumanMessage(content=[QUESTION, block])])

    assert answer.content == ANS_IMAGE
    assert answer.usage_metadata is not None


@pytest.mark.parametrize("frames", [1, 4])
def test_each_sampled_frame_reaches_the_model_as_one_image(
    tiny_vlm: TinyVLMServer, frames: int
) -> None:
    clip = video(seconds=3, fps=10, size=(320, 240))
    model = make_model(tiny_vlm)

    answer, tokens = _input_tokens(model, video_block(clip, name="clip", max_frames=frames))
    labels = _labels_only(video_frame_blocks(clip, name="clip", max_frames=frames))
    _, text_tokens = _input_tokens(model, *labels)

    assert answer == ANS_IMAGE
    assert len(labels) == frames
    assert tokens == text_tokens + frames * IMAGE_TOKENS


async def test_a_text_file_reaches_the_model_as_text(tiny_vlm: TinyVLMServer) -> None:
    model = make_model(tiny_vlm)
    notes = document_block(b"remember the milk\n", mime_type="text/plain", name="notes.txt")

    answer = await model.ainvoke([HumanMessage(content=[QUESTION, notes])])
    plain = await model.ainvoke([HumanMessage(content=[QUESTION])])

    assert (answer.content, plain.content) == (ANS_DEFAULT, ANS_DEFAULT)
    assert answer.usage_metadata is not None and plain.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] > plain.usage_metadata["input_tokens"]
