"""One streamed answer from transport items to LangChain chunks. Pure, but for the I/O loops.

:class:`StreamSession` holds what the sync and async loops share: the assembler (made when the
response headers arrive), the chunks delivered so far (the partial message of an error), the
request's image sizes on the first chunk, and the finish check. :func:`stream_chunks` and
:func:`astream_chunks` only iterate.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

from langchain_core.exceptions import ModelError
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm._answers.reasoning import ThinkTags
from langchain_hf_vlm._wire.failures import request_id
from langchain_hf_vlm._wire.stream_items import StreamDone, StreamEvent, StreamItem, StreamOpened
from langchain_hf_vlm.errors import IncompleteStreamError


def provider_header(headers: Mapping[str, str]) -> str | None:
    """The router's ``x-inference-provider``: which provider answered."""
    return headers.get("x-inference-provider")


class StreamSession:
    """State of one streamed answer, shared by the sync and async paths."""

    def __init__(
        self, think_tags: ThinkTags = "auto", images: list[dict[str, Any]] | None = None
    ) -> None:
        self.think_tags = think_tags
        self.images = images
        """``response_metadata["images"]`` of the first chunk (merging chunks keeps it once)."""
        self.assembler: StreamAssembler | None = None
        self.delivered: list[ChatGenerationChunk] = []
        self.done = False
        """The server ended the stream with ``[DONE]``."""

    def feed(self, item: StreamItem) -> list[ChatGenerationChunk]:
        match item:
            case StreamEvent():  # one per token: the first case tried, its payload read plainly
                assert self.assembler is not None, "the transport opens a stream before events"
                chunks = self.assembler.feed(item.payload)
                if chunks:
                    if self.images and not self.delivered:
                        chunks[0].message.response_metadata["images"] = self.images
                    self.delivered += chunks
                return chunks
            case StreamOpened(headers=headers):
                if self.assembler is None:
                    self.assembler = StreamAssembler(
                        inference_provider=provider_header(headers),
                        request_id=request_id(headers),
                        think_tags=self.think_tags,
                    )
                return []
            case StreamDone():
                self.done = True
                return []

    def partial(self) -> AIMessageChunk | None:
        if not self.delivered:
            return None
        first, *rest = (chunk.message for chunk in self.delivered)
        merged = first + rest if rest else first
        return merged if isinstance(merged, AIMessageChunk) else None

    def broken(self, error: ModelError) -> ModelError:
        """``error`` with what was delivered before it, as an :class:`IncompleteStreamError`."""
        if not self.delivered:
            return error
        if isinstance(error, IncompleteStreamError):
            error.partial_message = self.partial()
            return error
        return IncompleteStreamError(
            f"the stream broke off after {len(self.delivered)} chunks: {error}",
            partial_message=self.partial(),
        )

    def finish(self) -> ChatGenerationChunk:
        """The closing chunk of a complete answer: one that carried a finish reason, or that
        the server ended with ``[DONE]``. Otherwise the stream broke off."""
        if self.assembler is None or not (self.assembler.finished or self.done):
            raise IncompleteStreamError(
                "the stream ended without a finish reason; the answer may be incomplete",
                partial_message=self.partial(),
            )
        final = self.assembler.final()
        if self.images and not self.delivered:
            final.message.response_metadata["images"] = self.images
        return final


def stream_chunks(
    items: Generator[StreamItem, None, None],
    think_tags: ThinkTags = "auto",
    images: list[dict[str, Any]] | None = None,
) -> Generator[ChatGenerationChunk, None, None]:
    """The chunks of one answer, the first with the request's ``images`` (if any); the
    transport's stream is closed however this ends."""
    session = StreamSession(think_tags, images)
    try:
        for item in items:
            yield from session.feed(item)
    except ModelError as exc:
        raise session.broken(exc) from exc
    finally:
        items.close()
    yield session.finish()


async def astream_chunks(
    items: AsyncGenerator[StreamItem, None],
    think_tags: ThinkTags = "auto",
    images: list[dict[str, Any]] | None = None,
) -> AsyncGenerator[ChatGenerationChunk, None]:
    """Async twin of :func:`stream_chunks`."""
    session = StreamSession(think_tags, images)
    try:
        async for item in items:
            for chunk in session.feed(item):
                yield chunk
    except ModelError as exc:
        raise session.broken(exc) from exc
    finally:
        await items.aclose()
    yield session.finish()
