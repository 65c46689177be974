"""Helpers on the LangChain messages tests get back."""

from __future__ import annotations

from collections.abc import Iterable

from langchain_core.messages import AIMessageChunk, BaseMessage


def merge_chunks(chunks: Iterable[BaseMessage]) -> AIMessageChunk:
    """The chunks of one streamed answer merged as LangChain merges them (``+``)."""
    pieces: list[AIMessageChunk] = []
    for chunk in chunks:
        assert isinstance(chunk, AIMessageChunk), chunk
        pieces.append(chunk)
    first, *rest = pieces
    merged = first + rest if rest else first
    assert isinstance(merged, AIMessageChunk)
    return merged
