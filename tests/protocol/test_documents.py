"""Documents, videos and text files end to end: what the chat server on 127.0.0.1 receives
for every block shape, sync and async; downloads from a real HTTP host; errors before sending;
langchain-core's missing-mime-type gap; the cache across turns; tool results."""

from __future__ import annotations

import base64
import copy
import io
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest

pytest.importorskip("pypdfium2")
pytest.importorskip("av")

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from PIL import Image

from langchain_hf_vlm import ChatHuggingFaceVLM, InvalidContentError
from langchain_hf_vlm.documents import document_block, video_block
from tests.servers.chat_server import ChatServer
from tests.support.http_host import serving
from tests.support.loopback import make_model
from tests.support.media import Page, encrypted_pdf, pdf, scanned_page, text_pdf, video
from tests.support.pngs import tiny_png

PDF = text_pdf(3)
# Keyframes at 0 and 1 s, where the colour changes: a sample in a share of the clip with a
# keyframe is that keyframe, otherwise the frame at the share's middle.
PDF64 = base64.b64encode(PDF).decode()
CLIP = video(seconds=2, fps=10)
CLIP64 = base64.b64encode(CLIP).decode()


# ---------------------------------------------------------------- a host for URL sources


class DocumentHost(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: ClassVar[Counter[str]] = Counter()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        DocumentHost.hits[self.path] += 1
        content_type, body = ROUTES.get(self.path, ("text/plain", b"not found"))
        self.send_response(200 if self.path in ROUTES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ROUTES = {
    "/doc.pdf": ("application/pdf", PDF),
    "/download": ("application/octet-stream", PDF),  # no suffix, no helpful type
    "/clip.mp4": ("video/mp4", CLIP),
    "/notes.md": ("text/markdown", b"# Notes\nbuy milk\n"),
    "/page.html": ("text/html", b"<html>a web page</html>"),
}


@pytest.fixture(scope="module")
def host() -> Iterator[str]:
    with serving(DocumentHost) as url:
        yield url


Call = Callable[[ChatHuggingFaceVLM, list[BaseMessage]], object]


async def _ainvoke(model: ChatHuggingFaceVLM, messages: list[BaseMessage]) -> object:
    return await model.ainvoke(messages)


async def _astream(model: ChatHuggingFaceVLM, messages: list[BaseMessage]) -> object:
    return [chunk async for chunk in model.astream(messages)]


@pytest.fixture(params=["invoke", "stream", "ainvoke", "astream"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """One of the four entry points; the async ones return a coroutine to await."""
    return {
        "invoke": lambda model, messages: model.invoke(messages),
        "stream": lambda model, messages: list(model.stream(messages)),
        "ainvoke": _ainvoke,
        "astream": _astream,
    }[request.param]


async def run(call: Callable[..., Any], model: ChatHuggingFaceVLM, messages: list[Any]) -> None:
    result = call(model, messages)
    if hasattr(result, "__await__"):
        await result


def sent_content(server: ChatServer, index: int = -1) -> list[dict[str, Any]]:
    """The content parts of the last user message of request ``index``."""
    body = server.requests[index].json
    assert body is not None
    user = [message for message in body["messages"] if message["role"] == "user"][-1]
    content = user["content"]
    assert isinstance(content, list)
    return content


def shape(content: list[dict[str, Any]]) -> list[str]:
    """Each part as "text: <first line>" or "image: <mime>"."""
    out = []
    for part in content:
        if part["type"] == "text":
            out.append("text: " + part["text"].splitlines()[0])
        else:
            url = part["image_url"]["url"]
            out.append("image: " + url[len("data:") : url.index(";")])
    return out


def image_of(part: dict[str, Any]) -> Image.Image:
    url = part["image_url"]["url"]
    return Image.open(io.BytesIO(base64.b64decode(url[url.index(",") + 1 :])))


PAGES_OF_A = [
    "text: Summarize:",
    "text: Document a.pdf, page 1 of 3",
    "image: image/png",
    "text: Text of page 1 (the PDF's text layer):",
    "text: Document a.pdf, page 2 of 3",
    "image: image/png",
    "text: Text of page 2 (the PDF's text layer):",
    "text: Document a.pdf, page 3 of 3",
    "image: image/png",
    "text: Text of page 3 (the PDF's text layer):",
]


# ---------------------------------------------------------------- every PDF shape


PDF_SHAPES = [
    pytest.param(
        {"type": "file", "base64": PDF64, "mime_type": "application/pdf", "filename": "a.pdf"},
        id="v1-base64",
    ),
    pytest.param(
        {"type": "file", "base64": PDF64, "extras": {"filename": "a.pdf"}}, id="v1-no-mime"
    ),
    pytest.param(
        {
            "type": "file",
            "source_type": "base64",
            "data": PDF64,
            "mime_type": "application/pdf",
            "filename": "a.pdf",
        },
        id="v0-base64",
    ),
    pytest.param(
        {
            "type": "file",
            "file": {"file_data": f"data:application/pdf;base64,{PDF64}", "filename": "a.pdf"},
        },
        id="openai-file",
    ),
    pytest.param(
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF64},
            "title": "a.pdf",
        },
        id="anthropic-base64",
    ),
]


@pytest.mark.parametrize("block", PDF_SHAPES)
async def test_every_pdf_shape_arrives_as_labelled_page_images(
    vllm: ChatServer, block: dict[str, Any], call: Callable[..., Any]
) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "Summarize:"}, block])
    before = copy.deepcopy(message.content)

    await run(call, make_model(vllm), [message])

    assert shape(sent_content(vllm)) == PAGES_OF_A
    assert message.content == before  # the user's message is not changed


async def test_urls_of_documents_and_videos_are_downloaded_on_the_client(
    vllm: ChatServer, host: str, call: Callable[..., Any]
) -> None:
    message = HumanMessage(
        content=[
            {"type": "document", "source": {"type": "url", "url": f"{host}/doc.pdf"}},
            document_block(f"{host}/download", pages="2"),
            video_block(f"{host}/clip.mp4", max_frames=2),
            {"type": "file", "url": f"{host}/notes.md"},
        ]
    )

    model = make_model(vllm, pdf_text_layer="off", image_fetch_allow_private=True)
    await run(call, model, [message])

    assert shape(sent_content(vllm)) == [
        "text: Document doc.pdf, page 1 of 3",
        "image: image/png",
        "text: Document doc.pdf, page 2 of 3",
        "image: image/png",
        "text: Document doc.pdf, page 3 of 3",
        "image: image/png",
        "text: Document download, page 2 of 3",
        "image: image/png",
        "text: Video clip.mp4 (0:02.0 long), frame 1 of 2 at 0:00.0",
        "image: image/png",
        "text: Video clip.mp4 (0:02.0 long), frame 2 of 2 at 0:01.0",
        "image: image/png",
        "text: File notes.md (text/markdown):",
    ]
    assert sent_content(vllm)[-1]["text"].endswith("buy milk\n")


@pytest.mark.parametrize(
    "block",
    [
        pytest.param({"type": "file", "url": "{host}/doc.pdf"}, id="pdf"),
        pytest.param({"type": "file", "url": "{host}/clip.mp4"}, id="video"),
        pytest.param({"type": "file", "url": "{host}/notes.md"}, id="text"),
    ],
)
async def test_document_urls_on_a_private_host_are_refused_before_sending(
    vllm: ChatServer, host: str, block: dict[str, Any], call: Callable[..., Any]
) -> None:
    message = HumanMessage(content=[{**block, "url": block["url"].format(host=host)}])

    with pytest.raises(InvalidContentError, match="a loopback address") as caught:
        await run(call, make_model(vllm), [message])

    assert str(caught.value).startswith("message 0, content block 0: ")
    assert "image_fetch_allow_private=True" in str(caught.value)
    assert vllm.requests == []


def test_a_url_that_is_no_document_is_an_error_before_sending(vllm: ChatServer, host: str) -> None:
    message = HumanMessage(content=["look", {"type": "file", "url": f"{host}/page.html"}])

    with pytest.raises(InvalidContentError) as caught:
        make_model(vllm, image_fetch_allow_private=True).invoke([message])

    assert str(caught.value).startswith("message 0, content block 1: file page.html: the ")
    assert "neither a PDF nor a video" in str(caught.value)
    assert vllm.requests == []


def test_pages_render_at_the_models_image_size(vllm: ChatServer) -> None:
    model = make_model(vllm, image_max_pixels=200_000, pdf_text_layer="off")

    model.invoke([HumanMessage(content=[document_block(PDF, pages=[1])])])

    (_, image) = sent_content(vllm)
    width, height = image_of(image).size
    assert width * height <= 200_000 < (width + 2) * (height + 2)


def test_a_scanned_page_is_sent_as_jpeg_and_without_its_text_layer_by_default(
    vllm: ChatServer,
) -> None:
    document = pdf([Page(lines=["typed"]), scanned_page(lines=["ocr text"])])

    make_model(vllm).invoke([HumanMessage(content=[document_block(document, name="mixed")])])

    assert shape(sent_content(vllm)) == [
        "text: Document mixed, page 1 of 2",
        "image: image/png",
        "text: Text of page 1 (the PDF's text layer):",
        "text: Document mixed, page 2 of 2",
        "image: image/jpeg",
    ]


# ---------------------------------------------------------------- video and text


VIDEO_SHAPES = [
    pytest.param({"type": "video", "base64": CLIP64, "mime_type": "video/mp4"}, id="v1"),
    pytest.param({"type": "video", "base64": CLIP64}, id="v1-no-mime"),
    pytest.param(
        {"type": "video", "source_type": "base64", "data": CLIP64, "mime_type": "video/mp4"},
        id="v0",
    ),
    pytest.param(
        {"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{CLIP64}"}},
        id="vllm-video-url",
    ),
]


@pytest.mark.parametrize("block", VIDEO_SHAPES)
async def test_every_video_shape_arrives_as_timestamped_frames(
    vllm: ChatServer, block: dict[str, Any], call: Callable[..., Any]
) -> None:
    model = make_model(vllm, video_max_frames=4)

    await run(call, model, [HumanMessage(content=["what happens?", block])])

    assert shape(sent_content(vllm)) == [
        "text: what happens?",
        "text: Video 1 (0:02.0 long), frame 1 of 4 at 0:00.0",
        "image: image/png",
        "text: Video 1 (0:02.0 long), frame 2 of 4 at 0:00.7",
        "image: image/png",
        "text: Video 1 (0:02.0 long), frame 3 of 4 at 0:01.0",
        "image: image/png",
        "text: Video 1 (0:02.0 long), frame 4 of 4 at 0:01.7",
        "image: image/png",
    ]


def test_a_blocks_own_frame_budget_replaces_the_models(vllm: ChatServer) -> None:
    model = make_model(vllm, video_max_frames=8)

    model.invoke([HumanMessage(content=[video_block(CLIP, name="walk", max_frames=2)])])

    assert len([part for part in sent_content(vllm) if part["type"] == "image_url"]) == 2


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(document_block(b"a,b\n1,2\n", mime_type="text/csv", name="t.csv"), id="v1"),
        pytest.param(
            {"type": "text-plain", "text": "a,b\n1,2\n", "mime_type": "text/plain", "title": "t"},
            id="v1-text-plain",
        ),
        pytest.param(
            {"type": "document", "source": {"type": "text", "data": "a,b\n1,2\n"}, "title": "t"},
            id="anthropic-text",
        ),
    ],
)
def test_text_files_arrive_as_text(vllm: ChatServer, block: dict[str, Any]) -> None:
    make_model(vllm).invoke([HumanMessage(content=[block])])

    (part,) = sent_content(vllm)
    assert part["type"] == "text"
    assert part["text"].endswith(":\na,b\n1,2\n")
    assert part["text"].startswith(("File t.csv (text/csv):", "File t (text/plain):"))


# ---------------------------------------------------------------- errors before sending


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (document_block(encrypted_pdf()), "PDF 1: it is encrypted with a password"),
        (
            {"type": "file", "base64": base64.b64encode(b"%PDF-1.7 broken").decode()},
            "PDF 1: it is not a readable PDF",
        ),
        (
            {"type": "file", "base64": "JVBER", "mime_type": "application/pdf"},
            "invalid base64",
        ),
        (
            {"type": "video", "base64": base64.b64encode(b"\x1a\x45\xdf\xa3" + bytes(40)).decode()},
            "video 1: it does not decode",
        ),
        (document_block(b"x" * 200, mime_type="text/plain"), "over the limit of 100"),
    ],
)
async def test_bad_files_are_errors_naming_message_and_block(
    vllm: ChatServer, block: dict[str, Any], problem: str, call: Callable[..., Any]
) -> None:
    messages = [HumanMessage(content="hi"), HumanMessage(content=["look", block])]

    with pytest.raises(InvalidContentError) as caught:
        await run(call, make_model(vllm, text_file_max_bytes=100), messages)

    assert str(caught.value).startswith("message 1, content block 1: ")
    assert problem in str(caught.value)
    assert (caught.value.message_index, caught.value.block_index) == (1, 1)
    assert vllm.requests == []


def test_pages_per_request_count_every_pdf_of_the_request(vllm: ChatServer) -> None:
    model = make_model(vllm, pdf_max_pages=4)
    messages = [
        HumanMessage(content=[document_block(PDF, name="first")]),
        AIMessage(content="ok"),
        HumanMessage(content=["and", document_block(PDF, name="second")]),
    ]

    with pytest.raises(InvalidContentError) as caught:
        model.invoke(messages)

    assert str(caught.value) == (
        "message 2, content block 1: PDF second: with the documents before it, 6 pages would "
        "be sent, over the limit of 4 pages per request (pdf_max_pages); choose pages, e.g. "
        "document_block(..., pages='1-5')"
    )
    assert vllm.requests == []


def test_pages_count_against_the_request_size_limit(vllm: ChatServer) -> None:
    scans = pdf([scanned_page(colour=(40 * n, 90, 160)) for n in range(4)])
    model = make_model(vllm, max_request_bytes=300_000, pdf_text_layer="off")

    with pytest.raises(InvalidContentError) as caught:
        model.invoke([HumanMessage(content=["read", document_block(scans, name="scans")])])

    assert "over the limit of 0.30 MB (max_request_bytes)" in str(caught.value)
    assert "in message 0, content block 1" in str(caught.value)
    assert vllm.requests == []


def test_a_long_video_is_refused_before_sending(vllm: ChatServer) -> None:
    model = make_model(vllm, video_max_seconds=1.5)

    with pytest.raises(InvalidContentError, match=r"content block 0: video 1: it is 0:02.0 long"):
        model.invoke([HumanMessage(content=[video_block(CLIP)])])
    assert vllm.requests == []


# ---------------------------------------------------------------- langchain-core's gap


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(
            {"type": "image", "base64": base64.b64encode(tiny_png()).decode()}, id="image"
        ),
        pytest.param({"type": "file", "base64": PDF64}, id="pdf"),
        pytest.param({"type": "video", "base64": CLIP64}, id="video"),
    ],
)
async def test_base64_blocks_without_mime_type_reach_the_server(
    vllm: ChatServer, block: dict[str, Any], call: Callable[..., Any]
) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "what is it?"}, block])

    await run(call, make_model(vllm), [message])

    assert any(part["type"] == "image_url" for part in sent_content(vllm))
    assert "mime_type" not in message.content[1]


# ---------------------------------------------------------------- turns and tool results


def test_the_next_turn_does_not_render_the_document_again(vllm: ChatServer) -> None:
    model = make_model(vllm)
    first = HumanMessage(content=["summarize", document_block(PDF, name="a.pdf")])

    model.invoke([first])
    model.invoke([first, AIMessage(content="It has three pages."), HumanMessage("and page 2?")])

    assert model.images.stats.pages == 3
    assert model.images.stats.cache_hits == 1
    first_body = vllm.requests[0].json
    second_body = vllm.requests[1].json
    assert first_body is not None and second_body is not None
    assert second_body["messages"][0] == first_body["messages"][0]


def test_a_pdf_returned_by_a_tool_follows_the_tool_message(vllm: ChatServer) -> None:
    messages = [
        HumanMessage("Get a PDF and read its title."),
        AIMessage(content="", tool_calls=[{"id": "1", "name": "get_pdf", "args": {}}]),
        ToolMessage(content_blocks=[document_block(PDF, name="t.pdf")], tool_call_id="1"),  # type: ignore[list-item]
    ]

    make_model(vllm, pdf_text_layer="off").invoke(messages)

    body = vllm.requests[0].json
    assert body is not None
    assert [message["role"] for message in body["messages"]] == [
        "user",
        "assistant",
        "tool",
        "user",
    ]
    assert shape(body["messages"][3]["content"]) == [
        "text: Image(s) returned by tool call 1:",
        "text: Document t.pdf, page 1 of 3",
        "image: image/png",
        "text: Document t.pdf, page 2 of 3",
        "image: image/png",
        "text: Document t.pdf, page 3 of 3",
        "image: image/png",
    ]
