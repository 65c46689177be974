"""Text-only stream chunks, thousands per answer, copied from a validated template. Pure.

Validating an ``AIMessageChunk`` and its ``ChatGenerationChunk`` costs pydantic more than the
rest of a chunk's path together (about 60k instructions a chunk, callgrind; about 22k for a
copy). The text chunks of one answer differ only in their text, so :class:`TextChunks`
validates one chunk per answer through the ordinary constructors and makes each text chunk
as pydantic's own ``__copy__`` does: the template's state (fields, fields set, extras, private
attributes) with the chunk's text, and fresh empty lists and dicts of its own. The result is
the object the constructors make, field for field.

That holds while pydantic keeps a model's state in those four slots and langchain-core's
validators make nothing of a text but the text. :func:`template_holds` checks both once per
process, on texts that would show a difference (whitespace, a ``<think>`` tag, an empty
string, non-ASCII); if anything differs, every chunk is validated.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from pydantic import BaseModel

_new = object.__new__
_set = object.__setattr__
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_PROBES = ("probe", "  two words\n", "<think>", "", "\u00e9\u4e2d\U0001f600")


def validated(text: str, response_id: str | None, metadata: dict[str, Any]) -> ChatGenerationChunk:
    """A text chunk through the constructors. The message is made as LangChain's minimum makes
    it, then its id and metadata assigned: the same message as validating all three, for ~2.4k
    instructions less (a unit test compares them)."""
    message = AIMessageChunk(content=text)
    message.id = response_id
    message.response_metadata = metadata.copy()
    return ChatGenerationChunk(message=message)


class _Template:
    """A validated chunk's state, to copy, and which of its fields are mutable."""

    __slots__ = ("extra", "fields", "fields_set", "fresh", "outer", "outer_extra", "outer_set")

    def __init__(self, chunk: ChatGenerationChunk) -> None:
        message = chunk.message
        self.fields = dict(message.__dict__)
        self.fields_set = frozenset(message.__pydantic_fields_set__)
        self.extra = message.__pydantic_extra__
        self.fresh = tuple(
            (name, value.__class__)
            for name, value in self.fields.items()
            if value.__class__ in (list, dict) and name != "response_metadata"
        )
        self.outer = dict(chunk.__dict__)
        self.outer_set = frozenset(chunk.__pydantic_fields_set__)
        self.outer_extra = chunk.__pydantic_extra__

    def copy(self, text: str, metadata: dict[str, Any]) -> ChatGenerationChunk:
        fields = self.fields.copy()
        fields["content"] = text
        fields["response_metadata"] = metadata.copy()
        for name, kind in self.fresh:
            fields[name] = kind()
        message = _new(AIMessageChunk)
        _set(message, "__dict__", fields)
        _set(message, "__pydantic_fields_set__", set(self.fields_set))
        _set(message, "__pydantic_extra__", None if self.extra is None else {})
        _set(message, "__pydantic_private__", None)
        outer = self.outer.copy()
        outer["text"] = text
        outer["message"] = message
        chunk = _new(ChatGenerationChunk)
        _set(chunk, "__dict__", outer)
        _set(chunk, "__pydantic_fields_set__", set(self.outer_set))
        _set(chunk, "__pydantic_extra__", None if self.outer_extra is None else {})
        _set(chunk, "__pydantic_private__", None)
        return chunk


class TextChunks:
    """The text chunks of one answer, each with its response id and metadata."""

    __slots__ = ("_metadata", "_template", "response_id")

    def __init__(self, response_id: str | None, metadata: dict[str, Any]) -> None:
        self.response_id = response_id
        self._metadata = metadata
        self._template = (
            _Template(validated("", response_id, metadata)) if template_holds() else None
        )

    def make(self, text: str) -> ChatGenerationChunk:
        """The chunk of one piece of answer text."""
        if self._template is None:
            return validated(text, self.response_id, self._metadata)
        return self._template.copy(text, self._metadata)


@cache
def template_holds() -> bool:
    """Whether copies of a template equal validated chunks with this process's pydantic and
    langchain-core, on texts that would show a difference."""
    if BaseModel.__slots__ != _SLOTS or any(
        vars(cls).get("__slots__")
        for model in (AIMessageChunk, ChatGenerationChunk)
        for cls in model.__mro__
        if cls not in (BaseModel, object)
    ):
        return False
    metadata = {"model_provider": "probe"}
    template = _Template(validated("", "chatcmpl-probe", metadata))
    if template.extra or template.outer_extra:  # extras the template would share
        return False
    for text in _PROBES:
        made = template.copy(text, metadata)
        twin = validated(text, "chatcmpl-probe", metadata)
        if not (_same(made, twin) and _same(made.message, twin.message)):
            return False
    return True


def _same(made: Any, twin: Any) -> bool:
    return made.__class__ is twin.__class__ and all(
        getattr(made, name) == getattr(twin, name) for name in _SLOTS
    )
