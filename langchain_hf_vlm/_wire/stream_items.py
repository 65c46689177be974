"""A stream's bytes to transport items, the same for the sync and async loops: SSE decoding,
the stream's size limit, the stall timer (reset by data events only), error events inside a
stream, and the end at ``[DONE]``. Pure: the loops of :mod:`_wire.sender` do the reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_hf_vlm._wire.failures import stream_event_error
from langchain_hf_vlm._wire.policy import Body, CallState
from langchain_hf_vlm._wire.redaction import Redactor
from langchain_hf_vlm._wire.sse import DONE, MalformedEventError, SSEDecoder


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """A stream's response arrived: its headers (again after a retry, before any event)."""

    headers: Mapping[str, str]


@dataclass(slots=True)  # not frozen: one per token, and a frozen __init__ costs ~2k instructions
class StreamEvent:
    """One parsed data event of a stream: a chat-completion chunk."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The server ended the stream with ``[DONE]``: the answer is complete, finish reason or
    not (Snowflake Cortex sends none)."""


StreamItem = StreamOpened | StreamEvent | StreamDone


class StreamReader:
    """Bytes of a stream to transport items: SSE decoding, the stream's size limit, the stall
    timer (reset by data events only) and the end at ``[DONE]``. Shared by both loops."""

    __slots__ = ("_deadline", "_decoder", "_redact", "_size", "done", "ended")

    def __init__(self, call: CallState) -> None:
        self._deadline = call.deadline
        self._redact = call.redact
        self._decoder = SSEDecoder(call.limits.max_event_bytes)
        self._size = Body(call.limits.max_response_bytes, "max_response_bytes")
        self.done = False
        self.ended = False

    def feed(self, chunk: bytes | None) -> list[StreamItem]:
        """The items completed by ``chunk`` (None: the body ended). Runs once per network read."""
        if chunk is None:
            self.ended = True
            payloads = self._decoder.close()
        else:
            self._size.count(len(chunk))
            payloads = self._decoder.feed(chunk)
            if not payloads:
                return []
        items: list[StreamItem] = []
        for payload in payloads:
            if payload is DONE:
                self.done = self.ended = True
                items.append(StreamDone())
                break
            if payload.__class__ is not dict or payload.get("error"):  # a call per token saved
                _check(payload, self._redact)
            items.append(StreamEvent(payload))
        self._deadline.event()
        return items


def _check(payload: Any, redact: Redactor) -> None:
    """Raise for an event that is not a chunk: not a JSON object, or an error event (even
    one that also carries choices: OpenRouter)."""
    if not isinstance(payload, dict):
        raise MalformedEventError(f"stream event is not a JSON object: {str(payload)[:200]!r}")
    if payload.get("error"):
        raise stream_event_error(payload, redact)
