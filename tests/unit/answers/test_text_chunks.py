"""Text chunks copied from a validated template (``_answers.text_chunks``) are the chunks the
constructors make: the same state in every pydantic slot, their own mutable fields, the same
serialization and merge; and where a copy would differ, chunks are validated."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hf_vlm._answers import text_chunks
from langchain_hf_vlm._answers.text_chunks import TextChunks, template_holds, validated

METADATA = {"model_provider": "huggingface"}
TEXTS = ["Hel", " ", "", "<think>", "a\nb", "\u00e9\u4e2d\U0001f600", "x" * 10_000]
SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _state(model: Any) -> list[Any]:
    return [getattr(model, name) for name in SLOTS]


def test_the_template_holds_with_the_installed_langchain_core() -> None:
    """If a langchain-core or pydantic upgrade breaks the copy, chunks fall back to validation
    (tested below) and this fails, so that the upgrade is noticed."""
    assert template_holds()


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("response_id", ["chatcmpl-9", None])
def test_a_copy_is_the_validated_chunk(text: str, response_id: str | None) -> None:
    made = TextChunks(response_id, METADATA).make(text)
    twin = ChatGenerationChunk(
        message=AIMessageChunk(content=text, id=response_id, response_metadata=dict(METADATA))
    )
    assert type(made) is ChatGenerationChunk and type(made.message) is AIMessageChunk
    assert _state(made.message) == _state(twin.message)
    assert _state(made) == _state(twin)
    assert made == twin
    assert dumpd(made.message) == dumpd(twin.message)
    assert made.model_dump() == twin.model_dump()
    assert made.text == text


def test_copies_share_no_mutable_field() -> None:
    chunks = TextChunks("chatcmpl-9", METADATA)
    first, second = chunks.make("a"), chunks.make("b")
    message: Any = first.message
    message.additional_kwargs["k"] = 1
    message.response_metadata["k"] = 1
    message.tool_call_chunks.append({"name": "f", "args": "", "id": "1", "index": 0})
    message.tool_calls.append({"name": "f", "args": {}, "id": "1"})
    message.invalid_tool_calls.append(
        {"name": "f", "args": "", "id": "1", "error": None, "type": "invalid_tool_call"}
    )
    message.__pydantic_fields_set__.add("name")
    message.__pydantic_extra__["k"] = 1
    first.__pydantic_fields_set__.add("generation_info")
    assert _state(second.message) == _state(validated("b", "chatcmpl-9", METADATA).message)
    assert _state(chunks.make("c")) == _state(validated("c", "chatcmpl-9", METADATA))
    assert METADATA == {"model_provider": "huggingface"}


def test_copies_merge_as_validated_chunks_do() -> None:
    chunks = TextChunks("chatcmpl-9", METADATA)
    made = [chunks.make(text) for text in ("Hel", "lo", "!")]
    twins = [validated(text, "chatcmpl-9", METADATA) for text in ("Hel", "lo", "!")]
    assert made[0] + made[1:] == twins[0] + twins[1:]
    merged = made[0].message + [chunk.message for chunk in made[1:]]
    assert merged.content == "Hello!" and merged.id == "chatcmpl-9"
    assert merged.response_metadata == METADATA


def test_a_validator_that_changes_text_turns_the_copies_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were langchain-core to make something of a chunk's text (here: a stand-in validator
    that records it), the copies would be wrong: the check notices and chunks are validated."""

    def recording(text: str, response_id: str | None, metadata: dict[str, Any]) -> Any:
        chunk = validated(text, response_id, metadata)
        chunk.message.additional_kwargs["seen"] = text
        return chunk

    monkeypatch.setattr(text_chunks, "validated", recording)
    template_holds.cache_clear()
    try:
        assert not template_holds()
        made = TextChunks("chatcmpl-9", METADATA).make("Hel")
        assert made.message.additional_kwargs == {"seen": "Hel"}
    finally:
        monkeypatch.undo()
        template_holds.cache_clear()
    assert template_holds()


def test_a_model_with_a_slot_of_its_own_turns_the_copies_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text_chunks, "_SLOTS", (*SLOTS, "__pydantic_new_slot__"))
    template_holds.cache_clear()
    try:
        assert not template_holds()
    finally:
        monkeypatch.undo()
        template_holds.cache_clear()
