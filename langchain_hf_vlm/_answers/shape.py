"""Reading a chat-completion answer of any shape: the checks shared by the non-streamed answer
(:mod:`_answers.answer`), the stream assembler (:mod:`_answers.chunks`) and tool calls
(:mod:`_answers.tool_calls`). A field of the wrong type is :class:`Unreadable`, naming the field;
every public reader raises what it catches as :class:`MalformedResponseError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_hf_vlm.errors import MalformedResponseError


class Unreadable(Exception):
    """An answer of the wrong shape; the public functions raise it as MalformedResponseError."""


UNREADABLE = (
    Unreadable,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    RecursionError,
    TypeError,
    ValueError,  # pydantic's ValidationError among them
)
"""What reading an answer of an unforeseen shape can raise; all mean "malformed answer"."""


def malformed(exc: BaseException, request_id: str | None) -> MalformedResponseError:
    if isinstance(exc, Unreadable):
        text = str(exc)
    else:
        text = f"the server's answer could not be read: {type(exc).__name__}: {str(exc)[:300]}"
    return MalformedResponseError(text, request_id=request_id)


def kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def content_of(value: Any, where: str) -> str | list[str | dict[str, Any]]:
    """Message content: text, or a list of text and content blocks, as LangChain takes it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, (str, dict)) for part in value):
        return value
    raise Unreadable(f"{where} is {kind(value)}, not text")


def objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects (tool calls), each with an object (or nothing) as ``function``."""
    if not value:
        return []
    if not isinstance(value, list):
        raise Unreadable(f"{where} is {kind(value)}, not a list")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise Unreadable(f"{where}[{index}] is {kind(item)}, not an object")
        function = item.get("function")
        if function is not None and not isinstance(function, Mapping):
            raise Unreadable(f"{where}[{index}].function is {kind(function)}, not an object")
    return value


def reasoning_of(message: Mapping[str, Any]) -> str | None:
    value = message.get("reasoning")
    if value is None:
        value = message.get("reasoning_content")
    return value if isinstance(value, str) else None
