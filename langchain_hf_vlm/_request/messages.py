"""LangChain messages to chat-completion message dicts. Pure: no I/O, no globals.

Every image shape a LangChain user writes becomes one :class:`ImageRef` in the message's
content list, standing for an OpenAI ``image_url`` part whose URL is either an http(s) URL or
an exact ``data:<mime>;base64,<data>`` URI; the ref carries the message and block it came
from. Anything that cannot be sent raises :class:`InvalidContentError` naming the message and
block, before any request.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_hf_vlm._media.expand import MediaRef, WireMessages
from langchain_hf_vlm._media.mime import (
    SUPPORTED_IMAGE_TYPES,
    check_base64,
    sniff_base64_head,
    sniff_image_mime,
    without_whitespace,
)
from langchain_hf_vlm._media.refs import ImageRef, Slot, WireMessage, WirePart
from langchain_hf_vlm._media.settings import DETAILS
from langchain_hf_vlm._media.sources import read_media_block
from langchain_hf_vlm._media.uris import check_http_url, parse_data_uri
from langchain_hf_vlm._request.reasoning import ReasoningBack
from langchain_hf_vlm.errors import InvalidContentError

_IMAGE_MIME = re.compile(r"image/[a-z0-9][a-z0-9.+-]*")

_ASSISTANT_HISTORY_SKIPPED = frozenset(
    {"reasoning", "thinking", "redacted_thinking", "tool_call", "tool_use", "tool_call_chunk"}
)
_UNSUPPORTED_MEDIA = {"audio": "audio", "input_audio": "audio"}
_SUPPORTED_SUMMARY = (
    "supported content blocks are text, images (OpenAI image_url, dict or string; standard "
    "image blocks, url or base64; Anthropic image source blocks; PNG, JPEG, GIF or WebP), "
    "documents (file and Anthropic document blocks: PDF, text/plain, text/markdown, text/csv, "
    "application/json) and videos (video blocks: MP4, QuickTime, WebM, Matroska, AVI)"
)
_TOOL_IMAGE_NOTE = "Image(s) returned by tool call {id}:"


def to_wire_messages(
    messages: Sequence[BaseMessage], reasoning: ReasoningBack | None = None
) -> WireMessages:
    """Convert LangChain messages into chat-completion ``messages``, with a ref per image.

    Images returned inside a ``ToolMessage`` travel in a user message placed right after the
    run of tool messages, because chat-completion servers accept only text in tool results;
    their refs still name the tool message they came from. ``reasoning`` says which assistant
    turns carry their reasoning back (None: none).
    """
    wire = WireMessages([])
    pending_tool_images: list[WirePart | Slot] = []
    for index, message in enumerate(messages):
        if not isinstance(message, ToolMessage) and pending_tool_images:
            wire.messages.append({"role": "user", "content": pending_tool_images})
            pending_tool_images = []
        if isinstance(message, ToolMessage):
            tool_message, images = _tool_message(message, index, wire)
            wire.messages.append(tool_message)
            if images:
                note = _TOOL_IMAGE_NOTE.format(id=message.tool_call_id)
                pending_tool_images.extend([{"type": "text", "text": note}, *images])
        else:
            wire.messages.append(_message(message, index, wire, reasoning))
    if pending_tool_images:
        wire.messages.append({"role": "user", "content": pending_tool_images})
    return wire


def _message(
    message: BaseMessage, index: int, wire: WireMessages, reasoning: ReasoningBack | None
) -> WireMessage:
    if isinstance(message, HumanMessage):
        content = _content(message.content, index, wire)
        return _with_name({"role": "user", "content": content}, message)
    if isinstance(message, SystemMessage):
        content = _content(message.content, index, wire)
        return _with_name({"role": "system", "content": content}, message)
    if isinstance(message, AIMessage):
        return _assistant_message(message, index, reasoning)
    if isinstance(message, ChatMessage):
        content = _content(message.content, index, wire)
        return _with_name({"role": message.role, "content": content}, message)
    if isinstance(message, FunctionMessage):
        raise InvalidContentError(
            "FunctionMessage is the legacy function-calling format; use ToolMessage",
            message_index=index,
        )
    raise InvalidContentError(
        f"unsupported message type {type(message).__name__}", message_index=index
    )


def _with_name(wire: WireMessage, message: BaseMessage) -> WireMessage:
    if message.name:
        wire["name"] = message.name
    return wire


def _assistant_message(
    message: AIMessage, index: int, reasoning: ReasoningBack | None
) -> WireMessage:
    content = _content(message.content, index, None)
    wire: WireMessage = {"role": "assistant"}
    tool_calls = [
        _wire_tool_call(call["id"], call["name"], json.dumps(call["args"], ensure_ascii=False))
        for call in message.tool_calls
    ]
    tool_calls += [
        _wire_tool_call(call["id"], call["name"], call["args"])
        for call in message.invalid_tool_calls
    ]
    if content or not tool_calls:
        wire["content"] = content
    if tool_calls:
        wire["tool_calls"] = tool_calls
    if reasoning is not None:
        reasoning.add_to(wire, message)
    return _with_name(wire, message)


def _wire_tool_call(call_id: str | None, name: str | None, arguments: str | None) -> WirePart:
    return {
        "id": call_id or "",
        "type": "function",
        "function": {"name": name or "", "arguments": arguments or ""},
    }


def _tool_message(
    message: ToolMessage, index: int, wire: WireMessages
) -> tuple[WireMessage, list[Slot]]:
    parts = _content(message.content, index, wire)
    if isinstance(parts, str):
        text, refs = parts, []
    else:
        text = "".join(part["text"] for part in parts if isinstance(part, dict))
        refs = [part for part in parts if isinstance(part, Slot)]
    return {"role": "tool", "tool_call_id": message.tool_call_id, "content": text}, refs


def _content(
    content: str | list[str | dict[str, Any]],
    message_index: int,
    wire: WireMessages | None,
) -> str | list[WirePart | Slot]:
    """A message's content; ``wire`` collects its image and media refs (None: assistant
    history, which carries text only and is sent as one string)."""
    if isinstance(content, str):
        return content
    parts: list[WirePart | Slot] = []
    for block_index, block in enumerate(content):
        part = _part(block, message_index, block_index, wire)
        if part is not None:
            parts.append(part)
    if wire is None:
        return "".join(part["text"] for part in parts if isinstance(part, dict))
    return parts


def _part(
    block: str | dict[str, Any],
    message_index: int,
    block_index: int,
    wire: WireMessages | None,
) -> WirePart | Slot | None:
    def fail(problem: str) -> InvalidContentError:
        return InvalidContentError(problem, message_index=message_index, block_index=block_index)

    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        raise fail(f"a content block must be a string or a dict, got {type(block).__name__}")
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise fail("a text block needs a string 'text'")
        return {"type": "text", "text": text}
    if wire is None:
        if isinstance(kind, str) and kind in _ASSISTANT_HISTORY_SKIPPED:
            return None
        raise fail(f"assistant history can carry text only, got a {kind!r} block")
    try:
        media = read_media_block(block)
        url, detail = (None, None) if media is not None else _image_url(block)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if media is not None:
        media_ref = MediaRef(message_index, block_index, len(wire.media) + 1, media)
        wire.media.append(media_ref)
        return media_ref
    if url is None:
        if isinstance(kind, str) and kind in _UNSUPPORTED_MEDIA:
            raise fail(f"{_UNSUPPORTED_MEDIA[kind]} block cannot be sent; {_SUPPORTED_SUMMARY}")
        raise fail(f"unsupported content block type {kind!r}; {_SUPPORTED_SUMMARY}")
    ref = ImageRef(message_index, block_index, len(wire.images) + 1, url, detail)
    wire.images.append(ref)
    return ref


def _image_url(block: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The (url, detail) of an image block in any shape, (None, None) if it is no image."""
    kind = block.get("type")
    if kind == "image_url":
        value = block.get("image_url")
        if isinstance(value, str):
            return _checked_url(value), None
        if isinstance(value, Mapping):
            return _checked_url(value.get("url")), _checked_detail(value.get("detail"))
        raise ValueError("an image_url block needs 'image_url' as a string or {'url': ...}")
    if kind == "image":
        return _image_block_url(block), _detail(block)
    if kind == "media" and str(block.get("mime_type", "")).startswith("image/"):
        return _from_data(block.get("data"), block.get("mime_type")), None
    if kind is None and isinstance(block.get("image"), Mapping):
        # Bedrock Converse's own shape: {"image": {"format": ..., "source": {"bytes": ...}}}
        return _bedrock_image(block["image"]), None
    return None, None


def _detail(block: Mapping[str, Any]) -> str | None:
    """A v1 image block's ``detail``: in its ``extras`` (where langchain-core keeps keys of
    its own), or beside its other keys."""
    extras = block.get("extras")
    if isinstance(extras, Mapping) and "detail" in extras:
        return _checked_detail(extras["detail"])
    return _checked_detail(block.get("detail"))


def _checked_detail(detail: Any) -> str | None:
    """OpenAI's ``detail`` hint as given: it sizes the image, so a value that means nothing is
    refused rather than sent as if it were ``auto``."""
    if detail is None or (isinstance(detail, str) and detail in DETAILS):
        return detail
    raise ValueError(f"an image's detail must be 'low', 'high' or 'auto', got {detail!r}")


def _image_block_url(block: Mapping[str, Any]) -> str:
    source = block.get("source")
    if isinstance(source, Mapping):
        return _anthropic_source(source)
    if "file_id" in block or block.get("source_type") == "id":
        raise ValueError(
            "image given by file_id: chat-completion servers have no file store; "
            "send the image as a URL or base64 data"
        )
    bedrock = block.get("image")
    if isinstance(bedrock, Mapping):
        return _bedrock_image(bedrock)
    source_type = block.get("source_type")
    if source_type == "url" or (source_type is None and "url" in block):
        return _checked_url(block.get("url"))
    if source_type == "base64" or (source_type is None and "base64" in block):
        data = block.get("base64") if "base64" in block else block.get("data")
        return _from_data(data, block.get("mime_type"))
    raise ValueError("an image block needs 'url', 'base64' (with 'mime_type') or 'source'")


def _anthropic_source(source: Mapping[str, Any]) -> str:
    kind = source.get("type")
    if kind == "base64":
        return _from_data(source.get("data"), source.get("media_type"))
    if kind == "url":
        return _checked_url(source.get("url"))
    if kind == "file":
        raise ValueError("an Anthropic file source refers to Anthropic's file store; send data")
    raise ValueError(f"unsupported Anthropic image source type {kind!r}")


def _bedrock_image(image: Mapping[str, Any]) -> str:
    source = image.get("source")
    data = source.get("bytes") if isinstance(source, Mapping) else None
    if not isinstance(data, bytes):
        raise ValueError("a Bedrock image block needs source.bytes")
    fmt = image.get("format")
    return _from_data(data, f"image/{'jpeg' if fmt == 'jpg' else fmt}" if fmt else None)


def _checked_url(url: Any) -> str:
    if isinstance(url, str) and url[:5].lower() == "data:":
        return _normalized_data_uri(url)
    return check_http_url(url, "image")


def _normalized_data_uri(uri: str) -> str:
    parsed = parse_data_uri(uri, "an image")
    mime, text = _checked_data(parsed.payload, parsed.mime)
    if text is parsed.payload and parsed.canonical and mime == parsed.mime:
        return uri  # already normalized: no copy of what may be megabytes of base64
    return f"data:{mime};base64,{text}"


def _from_data(data: Any, mime_type: Any) -> str:
    mime, text = _checked_data(data, mime_type)
    return f"data:{mime};base64,{text}"


def _checked_data(data: Any, mime_type: Any) -> tuple[str, str]:
    """The image mime type and compact base64 text of image data given as bytes or base64."""
    if isinstance(data, bytes):
        text = base64.b64encode(data).decode("ascii")
        sniffed = sniff_image_mime(data)
    elif isinstance(data, str) and data:
        # Checked, not decoded: an image is megabytes of base64 sent again on every turn, and
        # its first bytes tell its type. (The image pipeline decodes what it has to resize.)
        text = without_whitespace(data)
        check_base64(text)
        sniffed = sniff_base64_head(text)
    else:
        raise ValueError("image data is empty")
    mime = mime_type.lower() if isinstance(mime_type, str) and mime_type else sniffed
    if mime is None:
        raise ValueError(
            "image data has no mime type and is not PNG, JPEG, GIF or WebP; "
            f"supported types: {', '.join(SUPPORTED_IMAGE_TYPES)}"
        )
    if not _IMAGE_MIME.fullmatch(mime):
        raise ValueError(f"mime type {mime!r} is not an image type")
    return mime, text
