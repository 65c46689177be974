"""LangChain messages -> the exact chat-completion ``messages`` JSON that leaves the process."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm.errors import InvalidContentError

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L"
NOT_AN_IMAGE = b"hello, world"
URL = "https://example.com/cat.png"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{b64(data)}"


def sent(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """The ``messages`` JSON that leaves the process for ``messages``."""
    result: list[dict[str, Any]] = json.loads(json_bytes(to_wire_messages(messages).messages))
    return result


def parts_of(block: Any) -> list[dict[str, Any]]:
    """The wire content parts of a user message holding one block."""
    (wire,) = sent([HumanMessage(content=[block])])
    assert wire["role"] == "user"
    content = wire["content"]
    assert isinstance(content, list)
    return content


# ---------------------------------------------------------------- image shapes


IMAGE_CASES = [
    pytest.param(
        {"type": "image_url", "image_url": {"url": URL, "detail": "low"}},
        {"url": URL, "detail": "low"},
        id="openai-dict-detail",
    ),
    pytest.param(
        {"type": "image_url", "image_url": {"url": URL}},
        {"url": URL},
        id="openai-dict",
    ),
    pytest.param({"type": "image_url", "image_url": URL}, {"url": URL}, id="openai-string"),
    pytest.param(
        {"type": "image_url", "image_url": {"url": data_uri("image/png", PNG), "detail": "high"}},
        {"url": data_uri("image/png", PNG), "detail": "high"},
        id="openai-data-uri",
    ),
    pytest.param(
        {
            "type": "image_url",
            "image_url": "data:IMAGE/PNG;base64," + b64(PNG)[:8] + "\n" + b64(PNG)[8:],
        },
        {"url": data_uri("image/png", PNG)},
        id="openai-data-uri-normalised",
    ),
    pytest.param(
        {"type": "image_url", "image_url": "data:Image/Png;base64," + b64(PNG)},
        {"url": data_uri("image/png", PNG)},
        id="openai-data-uri-mime-case-only",
    ),
    pytest.param(
        {"type": "image_url", "image_url": "data:image/png;name=x.png;base64," + b64(PNG)},
        {"url": data_uri("image/png", PNG)},
        id="openai-data-uri-mime-parameters",
    ),
    pytest.param(
        {"type": "image_url", "image_url": "data:;base64," + b64(JPEG)},
        {"url": data_uri("image/jpeg", JPEG)},
        id="openai-data-uri-no-mime-sniffed",
    ),
    pytest.param({"type": "image", "url": URL}, {"url": URL}, id="v1-url"),
    pytest.param(
        {"type": "image", "id": "lc_1", "url": URL, "extras": {"detail": "high"}},
        {"url": URL, "detail": "high"},
        id="v1-url-extras-detail",
    ),
    pytest.param(
        {"type": "image", "base64": b64(PNG), "mime_type": "image/png"},
        {"url": data_uri("image/png", PNG)},
        id="v1-base64-mime",
    ),
    pytest.param(
        {
            "type": "image",
            "base64": b64(PNG),
            "mime_type": "image/png",
            "extras": {"detail": "low"},
        },
        {"url": data_uri("image/png", PNG), "detail": "low"},
        id="v1-base64-extras-detail",
    ),
    pytest.param(
        {"type": "image", "base64": b64(PNG)}, {"url": data_uri("image/png", PNG)}, id="v1-png"
    ),
    pytest.param(
        {"type": "image", "base64": b64(JPEG)}, {"url": data_uri("image/jpeg", JPEG)}, id="v1-jpeg"
    ),
    pytest.param(
        {"type": "image", "base64": b64(GIF)}, {"url": data_uri("image/gif", GIF)}, id="v1-gif"
    ),
    pytest.param(
        {"type": "image", "base64": b64(WEBP)}, {"url": data_uri("image/webp", WEBP)}, id="v1-webp"
    ),
    pytest.param({"type": "image", "source_type": "url", "url": URL}, {"url": URL}, id="v0-url"),
    pytest.param(
        {"type": "image", "source_type": "base64", "data": b64(GIF), "mime_type": "image/gif"},
        {"url": data_uri("image/gif", GIF)},
        id="v0-base64",
    ),
    pytest.param(
        {"type": "image", "source_type": "base64", "data": b64(WEBP)},
        {"url": data_uri("image/webp", WEBP)},
        id="v0-base64-sniffed",
    ),
    pytest.param(
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": b64(JPEG)},
        },
        {"url": data_uri("image/jpeg", JPEG)},
        id="anthropic-base64",
    ),
    pytest.param(
        {"type": "image", "source": {"type": "url", "url": URL}},
        {"url": URL},
        id="anthropic-url",
    ),
    pytest.param(
        {"type": "image", "image": {"format": "png", "source": {"bytes": PNG}}},
        {"url": data_uri("image/png", PNG)},
        id="bedrock-bytes",
    ),
    pytest.param(
        {"type": "image", "image": {"format": "jpg", "source": {"bytes": JPEG}}},
        {"url": data_uri("image/jpeg", JPEG)},
        id="bedrock-jpg",
    ),
    pytest.param(
        {"image": {"format": "webp", "source": {"bytes": WEBP}}},
        {"url": data_uri("image/webp", WEBP)},
        id="bedrock-converse-native",
    ),
    pytest.param(
        {"type": "media", "mime_type": "image/png", "data": PNG},
        {"url": data_uri("image/png", PNG)},
        id="genai-media-bytes",
    ),
]


@pytest.mark.parametrize(("block", "image_url"), IMAGE_CASES)
def test_image_block_becomes_one_image_url_part(
    block: dict[str, Any], image_url: dict[str, str]
) -> None:
    assert parts_of(block) == [{"type": "image_url", "image_url": image_url}]


def test_several_images_keep_their_order_and_text_loses_stray_keys() -> None:
    content: list[str | dict[str, Any]] = [
        {"type": "text", "text": "Compare", "id": "lc_abc", "annotations": [{"type": "x"}]},
        {"type": "image_url", "image_url": {"url": "https://example.com/1.png"}},
        {"type": "image", "base64": b64(JPEG), "mime_type": "image/jpeg"},
        "and",
        {"type": "image", "source": {"type": "url", "url": "https://example.com/3.png"}},
        {"type": "image", "url": "https://example.com/4.png"},
    ]
    assert sent([HumanMessage(content=content)]) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare"},
                {"type": "image_url", "image_url": {"url": "https://example.com/1.png"}},
                {"type": "image_url", "image_url": {"url": data_uri("image/jpeg", JPEG)}},
                {"type": "text", "text": "and"},
                {"type": "image_url", "image_url": {"url": "https://example.com/3.png"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/4.png"}},
            ],
        }
    ]


def test_every_image_has_a_ref_naming_its_message_and_block() -> None:
    messages: list[BaseMessage] = [
        SystemMessage(content="sys"),
        HumanMessage(content=[{"type": "image", "url": "https://a.example/1.png"}, "x"]),
        AIMessage(content="", tool_calls=[{"name": "shot", "args": {}, "id": "c1"}]),
        ToolMessage(content=["shot", {"type": "image", "url": URL}], tool_call_id="c1"),
        HumanMessage(content=["y", {"type": "image_url", "image_url": "https://a.example/2.png"}]),
    ]
    wire = to_wire_messages(messages)
    assert [(ref.number, ref.message_index, ref.block_index, ref.url) for ref in wire.images] == [
        (1, 1, 0, "https://a.example/1.png"),
        (2, 3, 1, URL),
        (3, 4, 1, "https://a.example/2.png"),
    ]
    # Each ref stands in the content list where its image goes (the tool's image in the user
    # message after the tool result).
    slots = [
        part
        for message in wire.messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if not isinstance(part, dict)
    ]
    assert slots == wire.images


# ---------------------------------------------------------------- rejected content


BAD_BLOCKS = [
    pytest.param({"type": "image", "file_id": "file-abc"}, "file_id", id="v1-file-id"),
    pytest.param(
        {"type": "image", "source_type": "id", "id": "file-abc"}, "file_id", id="v0-file-id"
    ),
    pytest.param(
        {"type": "audio", "base64": b64(b"RIFF"), "mime_type": "audio/wav"},
        "audio block cannot be sent",
        id="audio",
    ),
    pytest.param(
        {"type": "input_audio", "input_audio": {"data": b64(b"x"), "format": "wav"}},
        "audio block cannot be sent",
        id="openai-input-audio",
    ),
    pytest.param(
        {"type": "video", "file_id": "file-abc"},
        "refers to a provider's file store",
        id="video-file-id",
    ),
    pytest.param(
        {"type": "file", "base64": b64(b"PK\x03\x04"), "mime_type": "application/zip"},
        "files of type 'application/zip' cannot be sent",
        id="file-zip",
    ),
    pytest.param(
        {"type": "image", "base64": b64(b"%PDF-1.4"), "mime_type": "application/pdf"},
        "mime type 'application/pdf' is not an image type",
        id="image-with-pdf-mime",
    ),
    pytest.param(
        {"type": "image", "base64": "not base64!!", "mime_type": "image/png"},
        "invalid base64",
        id="invalid-base64",
    ),
    pytest.param(
        {"type": "image", "base64": b64(NOT_AN_IMAGE)},
        "image data has no mime type and is not PNG, JPEG, GIF or WebP",
        id="unknown-bytes-no-mime",
    ),
    pytest.param(
        {"type": "image", "image": {"source": {"bytes": NOT_AN_IMAGE}}},
        "image data has no mime type",
        id="bedrock-unknown-bytes-no-format",
    ),
    pytest.param(
        {"type": "image_url", "image_url": {"url": ""}}, "empty image URL", id="empty-url"
    ),
    pytest.param({"type": "image", "url": "   "}, "empty image URL", id="blank-url"),
    pytest.param(
        {"type": "image_url", "image_url": "file:///etc/passwd"},
        "image URL scheme 'file' is not supported",
        id="file-url",
    ),
    pytest.param(
        {"type": "image", "url": "cat.png"}, "scheme '(none)' is not supported", id="relative-url"
    ),
    pytest.param({"type": "image", "url": "https://"}, "has no host", id="url-without-host"),
    pytest.param(
        {"type": "image_url", "image_url": "data:image/png,rawbytes"},
        "must look like data:<mime>;base64,<data>",
        id="data-uri-not-base64",
    ),
    pytest.param(
        {"type": "image", "source": {"type": "file", "file_id": "file_011"}},
        "Anthropic file source",
        id="anthropic-file-source",
    ),
    pytest.param(
        {"type": "image_url", "image_url": 42}, "needs 'image_url' as a string", id="image-url-int"
    ),
    pytest.param({"type": "text", "text": None}, "needs a string 'text'", id="text-not-string"),
    pytest.param(
        {"type": "image_url", "image_url": {"url": URL, "detail": "medium"}},
        "detail must be 'low', 'high' or 'auto', got 'medium'",
        id="detail-unknown",
    ),
    pytest.param(
        {"type": "image", "url": URL, "extras": {"detail": "LOW"}},
        "detail must be 'low', 'high' or 'auto', got 'LOW'",
        id="detail-v1-extras-case",
    ),
    pytest.param(
        {"type": "image", "url": URL, "detail": 1},
        "detail must be 'low', 'high' or 'auto', got 1",
        id="detail-v1-not-a-string",
    ),
    pytest.param({"type": "foo", "x": 1}, "unsupported content block type 'foo'", id="unknown"),
    pytest.param({"text": "no type"}, "unsupported content block type None", id="no-type"),
]


@pytest.mark.parametrize(("block", "problem"), BAD_BLOCKS)
def test_unsendable_block_names_message_and_block(block: dict[str, Any], problem: str) -> None:
    messages = [
        SystemMessage(content="You look at pictures."),
        HumanMessage(content=["first", {"type": "image", "url": URL}, block]),
    ]
    with pytest.raises(InvalidContentError) as info:
        sent(messages)
    error = info.value
    assert isinstance(error, ValueError)
    assert str(error).startswith("message 1, content block 2: ")
    assert problem in str(error)
    assert (error.message_index, error.block_index) == (1, 2)


def test_non_dict_block_is_rejected_with_its_position() -> None:
    # Validation would refuse it; model_construct mimics content mutated after creation.
    message = HumanMessage.model_construct(content=["fine", 42])
    with pytest.raises(InvalidContentError, match=r"^message 0, content block 1: .* got int$"):
        sent([message])


def test_function_message_is_rejected() -> None:
    with pytest.raises(InvalidContentError, match=r"^message 1: FunctionMessage is the legacy"):
        sent([HumanMessage(content="hi"), FunctionMessage(content="x", name="f")])


def test_assistant_history_rejects_images() -> None:
    with pytest.raises(
        InvalidContentError,
        match=r"^message 0, content block 1: assistant history can carry text only, got a 'image'",
    ):
        sent([AIMessage(content=["ok", {"type": "image", "url": URL}])])


# ---------------------------------------------------------------- roles


def test_roles_and_names() -> None:
    messages: list[BaseMessage] = [
        SystemMessage(content="Be brief."),
        HumanMessage(content="Hi", name="alice"),
        AIMessage(content="Hello!"),
        HumanMessage(content=[{"type": "text", "text": "Weather?"}]),
        AIMessage(
            content="",
            tool_calls=[{"name": "get_weather", "args": {"city": "Zürich"}, "id": "call_1"}],
        ),
        ToolMessage(content="12°C", tool_call_id="call_1"),
        ChatMessage(role="developer", content="Use metric units.", name="ops"),
        AIMessage(content="It is 12°C.", name="bot"),
    ]
    assert sent(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi", "name": "alice"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "12°C"},
        {"role": "developer", "content": "Use metric units.", "name": "ops"},
        {"role": "assistant", "content": "It is 12°C.", "name": "bot"},
    ]


def test_system_message_with_blocks_keeps_parts() -> None:
    message = SystemMessage(content=[{"type": "text", "text": "rules", "cache_control": {}}])
    assert sent([message]) == [{"role": "system", "content": [{"type": "text", "text": "rules"}]}]


# ---------------------------------------------------------------- assistant history


def test_assistant_tool_calls_go_out_as_json_strings_and_invalid_ones_raw() -> None:
    message = AIMessage(
        content="",
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris", "days": 2}, "id": "call_a"},
            {"name": "now", "args": {}, "id": "call_b"},
        ],
        invalid_tool_calls=[
            {"name": "broken", "args": '{"city": "Par', "id": "call_c", "error": "bad json"}
        ],
    )
    (wire,) = sent([message])
    assert wire == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'},
            },
            {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": "{}"}},
            {
                "id": "call_c",
                "type": "function",
                "function": {"name": "broken", "arguments": '{"city": "Par'},
            },
        ],
    }
    assert "content" not in wire
    for call in wire["tool_calls"]:
        assert isinstance(call["function"]["arguments"], str)


def test_assistant_text_with_tool_calls_keeps_content() -> None:
    message = AIMessage(
        content="Let me check.", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}]
    )
    assert sent([message]) == [
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        }
    ]


def test_assistant_reasoning_and_tool_blocks_are_not_sent() -> None:
    message = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "The user wants a greeting."},
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "redacted_thinking", "data": "xxx"},
            {"type": "text", "text": "Hello", "id": "lc_1", "annotations": []},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
            " there",
        ]
    )
    assert sent([message]) == [{"role": "assistant", "content": "Hello there"}]


def test_empty_assistant_message_without_tool_calls_keeps_empty_content() -> None:
    assert sent([AIMessage(content="")]) == [{"role": "assistant", "content": ""}]


# ---------------------------------------------------------------- tool messages with images


def test_tool_images_follow_the_run_of_tool_messages_in_a_user_message() -> None:
    chart_1 = {"type": "image", "base64": b64(PNG), "mime_type": "image/png"}
    chart_2 = {"type": "image_url", "image_url": {"url": "https://example.com/c2.png"}}
    messages: list[BaseMessage] = [
        HumanMessage(content="Plot both."),
        AIMessage(
            content="",
            tool_calls=[
                {"name": "plot", "args": {"n": 1}, "id": "call_1"},
                {"name": "plot", "args": {"n": 2}, "id": "call_2"},
            ],
        ),
        ToolMessage(content=[{"type": "text", "text": "chart 1"}, chart_1], tool_call_id="call_1"),
        ToolMessage(content=[chart_2, {"type": "text", "text": "chart 2"}], tool_call_id="call_2"),
        HumanMessage(content="Which is higher?"),
    ]
    wire = sent(messages)
    assert wire[2:] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "chart 1"},
        {"role": "tool", "tool_call_id": "call_2", "content": "chart 2"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Image(s) returned by tool call call_1:"},
                {"type": "image_url", "image_url": {"url": data_uri("image/png", PNG)}},
                {"type": "text", "text": "Image(s) returned by tool call call_2:"},
                {"type": "image_url", "image_url": {"url": "https://example.com/c2.png"}},
            ],
        },
        {"role": "user", "content": "Which is higher?"},
    ]


def test_tool_images_at_the_end_of_the_history() -> None:
    messages: list[BaseMessage] = [
        AIMessage(content="", tool_calls=[{"name": "shot", "args": {}, "id": "c9"}]),
        ToolMessage(content="no image here", tool_call_id="c8"),
        ToolMessage(content=[{"type": "image", "url": URL}], tool_call_id="c9"),
    ]
    assert sent(messages)[1:] == [
        {"role": "tool", "tool_call_id": "c8", "content": "no image here"},
        {"role": "tool", "tool_call_id": "c9", "content": ""},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Image(s) returned by tool call c9:"},
                {"type": "image_url", "image_url": {"url": URL}},
            ],
        },
    ]


def test_bad_block_in_tool_message_is_named() -> None:
    messages: list[BaseMessage] = [
        AIMessage(content="", tool_calls=[{"name": "f", "args": {}, "id": "c1"}]),
        ToolMessage(content=["ok", {"type": "audio", "url": URL}], tool_call_id="c1"),
    ]
    with pytest.raises(InvalidContentError, match=r"^message 1, content block 1: audio block"):
        sent(messages)


def test_output_is_json_serialisable_and_deterministic() -> None:
    messages = [HumanMessage(content=[{"type": "image", "url": URL, "id": "lc_random"}])]
    first = json_bytes(to_wire_messages(messages).messages)
    assert first == json_bytes(to_wire_messages(messages).messages)
    assert b"lc_random" not in first


# ---------------------------------------------------------------- property test

_KEYS = st.sampled_from(
    [
        "type",
        "text",
        "url",
        "base64",
        "data",
        "mime_type",
        "media_type",
        "image_url",
        "source",
        "source_type",
        "file_id",
        "image",
        "format",
        "bytes",
        "detail",
        "extras",
        "id",
    ]
)
_TYPES = st.sampled_from(
    [
        "text",
        "image",
        "image_url",
        "media",
        "audio",
        "input_audio",
        "video",
        "file",
        "document",
        "reasoning",
        "thinking",
        "tool_use",
        "tool_call",
        "base64",
        "url",
    ]
)
_URLISH = st.sampled_from(
    [
        URL,
        "HTTPS://EXAMPLE.COM/A.PNG",
        "http:foo",
        "http://",
        "https://[::1",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "",
        " ",
        data_uri("image/png", PNG),
        "data:;base64," + b64(JPEG),
        "data:text/plain;base64,aGk=",
        "data:image/png;base64,!!!",
        "data:image/png,raw",
        b64(PNG),
        b64(NOT_AN_IMAGE),
        "image/png",
        "application/pdf",
        "png",
        "jpg",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | _TYPES
    | _URLISH
    | st.sampled_from([PNG, JPEG, GIF, WEBP, NOT_AN_IMAGE, b""])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_KEYS | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=8,
)
_BLOCKS = (
    st.text(max_size=10)
    | st.builds(
        lambda extra, kind: {**extra, "type": kind},
        st.dictionaries(_KEYS, _VALUES, max_size=4),
        _TYPES | st.text(max_size=8) | _VALUES,
    )
    | st.dictionaries(_KEYS | st.text(max_size=5), _VALUES, max_size=5)
    | st.sampled_from([param.values[0] for param in IMAGE_CASES + BAD_BLOCKS])
)
_CONTENT = st.text(max_size=10) | st.lists(_BLOCKS, max_size=4)


@st.composite
def _messages(draw: st.DrawFn) -> list[BaseMessage]:
    result: list[BaseMessage] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["human", "system", "ai", "tool", "chat"]))
        content: Any = draw(_CONTENT)
        if kind == "human":
            result.append(HumanMessage(content=content))
        elif kind == "system":
            result.append(SystemMessage(content=content))
        elif kind == "ai":
            result.append(AIMessage(content=content))
        elif kind == "tool":
            result.append(ToolMessage(content=content, tool_call_id=draw(st.text(max_size=4))))
        else:
            result.append(ChatMessage(role=draw(st.sampled_from(["user", "x"])), content=content))
    return result


def _check_wire(wire: list[dict[str, Any]]) -> int:
    """Check what is sent; returns the number of image parts."""
    assert isinstance(wire, list)
    json.dumps(wire)  # everything that leaves must be JSON
    images = 0
    for message in wire:
        content = message.get("content", "")
        if message["role"] in ("assistant", "tool"):
            assert isinstance(content, str)
        if isinstance(content, str):
            continue
        for part in content:
            assert part["type"] in ("text", "image_url")
            if part["type"] == "text":
                assert isinstance(part["text"], str)
                continue
            url = part["image_url"]["url"]
            if url.startswith("data:"):
                header, _, data = url.partition(",")
                assert header.startswith("data:image/")
                assert header.endswith(";base64")
                base64.b64decode(data, validate=True)
            else:
                assert url.lower().startswith(("http://", "https://"))
            images += 1
    return images


@settings(max_examples=400)
@given(_messages())
def test_any_content_converts_cleanly_or_fails_with_its_position(
    messages: list[BaseMessage],
) -> None:
    try:
        wire = to_wire_messages(messages)
    except InvalidContentError as exc:
        error = exc
    else:
        parts = _check_wire(json.loads(json_bytes(wire.messages)))
        # One ref per image part, numbered in order, each naming a dict block of the input.
        assert [ref.number for ref in wire.images] == list(range(1, parts + 1))
        for ref in wire.images:
            content = messages[ref.message_index].content
            assert isinstance(content, list)
            assert isinstance(content[ref.block_index], dict)
        return
    assert error.message_index is not None
    assert 0 <= error.message_index < len(messages)
    assert str(error).startswith(f"message {error.message_index}")


def test_property_helper_rejects_bad_wire() -> None:
    # The checker itself must fail on what the property forbids.
    with pytest.raises(AssertionError):
        _check_wire(
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
        )
    with pytest.raises(binascii.Error):
        _check_wire(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,!"}}
                    ],
                }
            ]
        )
