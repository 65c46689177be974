"""Server-sent events as chat-completion servers really send them. Pure: no I/O.

Tolerates ``data:`` with or without the space, ``[DONE]`` with or without it, keep-alive
comments, ``event: error`` frames, JSON data that spans several ``data:`` lines, and ``\\n``,
``\\r\\n`` or ``\\r`` line endings.

Whatever a server sends, decoding stays linear in the input and bounded in memory: bytes are
split into lines here (not by the HTTP library, which would build a 1 GB line before anyone
could refuse it), one event may hold at most ``max_event_bytes``, and an event spread over many
``data:`` lines is parsed once, when its brackets balance, not again on every line.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_hf_vlm._wire.json_limits import loads

DONE: Any = object()
"""Returned for the ``[DONE]`` sentinel."""
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024
"""One event (all its ``data:`` lines) may hold this much; a chunk is normally under 1 KB."""
_decode = loads
"""Bounded-depth JSON (a name of its own: tests count the parses)."""
# A JSON string (never spans lines: a raw newline in a string is invalid JSON), a bracket, or
# a lone quote, i.e. a string left open on its line. Each alternative starts with a different
# character, so a failed string match costs one scan to the end of the line.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]|"')
_OPENERS = frozenset("{[")


class MalformedEventError(ValueError):
    """A data event that is not JSON."""


class EventTooLargeError(MalformedEventError):
    """One event, or one line, is larger than the decoder accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"a stream event is larger than {limit} bytes (max_stream_event_bytes); "
            "raise it if the server really sends events this large"
        )
        self.limit = limit


def _try_decode(text: str) -> tuple[bool, Any]:
    try:
        return True, _decode(text)
    except ValueError:  # JSONTooDeepError among them
        return False, None


class SSEDecoder:
    """Feed bytes (or lines without their ending); get back parsed data events.

    ``feed`` returns the events completed by a chunk of bytes. ``line`` returns None while an
    event is incomplete, :data:`DONE` for the end sentinel, or the parsed JSON payload.
    Payloads of ``event: error`` frames come back as ``{"error": payload}`` so that callers
    handle every error shape in one place.

    Raises:
        MalformedEventError: an event that is not JSON (at the blank line ending it).
        EventTooLargeError: an event or a line longer than ``max_event_bytes``.
    """

    __slots__ = (
        "_broken",
        "_data",
        "_depth",
        "_event",
        "_limit",
        "_partial",
        "_partial_size",
        "_size",
    )

    def __init__(self, max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._size = 0
        self._depth = 0
        self._broken = False
        self._limit = max_event_bytes
        self._partial: list[bytes] = []
        self._partial_size = 0

    def feed(self, chunk: bytes) -> list[Any]:
        """Consume a chunk of the body; return the events (or :data:`DONE`) it completed."""
        end = chunk.rfind(b"\n")
        if end < 0:  # no line ends in this chunk
            self._keep_partial(chunk)
            return []
        complete = chunk[:end]
        if self._partial:
            complete = b"".join([*self._partial, complete])
            self._partial = []
            self._partial_size = 0
        if end + 1 < len(chunk):
            self._keep_partial(chunk[end + 1 :])
        limit = self._limit
        if limit is not None and len(complete) > limit:  # only then can one line be too long
            for raw in complete.split(b"\n"):
                if len(raw) - raw.endswith(b"\r") > limit:
                    raise EventTooLargeError(limit)
        # A UTF-8 sequence never holds a newline byte: the complete lines decode as one text.
        text = complete.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        events = []
        for line in text.split("\n"):
            # Inline, the two lines of a one-line event (this runs twice per token): a JSON
            # data line outside any event, then the blank line after it.
            if not line and not self._data:
                self._event = None
                continue
            if line.startswith("data: {") and not self._data and self._event is None:
                try:
                    payload = _decode(line[6:])
                except ValueError:  # JSONTooDeepError among them; perhaps more lines follow
                    payload = self._continue(line[6:])
            else:
                payload = self.line(line)
            if payload is not None:
                events.append(payload)
        return events

    def _keep_partial(self, piece: bytes) -> None:
        if not piece:
            return
        self._partial.append(piece)
        self._partial_size += len(piece)
        if self._limit is not None and self._partial_size > self._limit:
            raise EventTooLargeError(self._limit)

    def line(self, line: str) -> Any:
        # Runs twice per token; the common cases (a blank line after a complete one-line event,
        # a JSON data line outside any ``event:``) avoid further calls.
        if not line:
            if not self._data:
                self._event = None
                return None
            return self._dispatch()
        if line.startswith("data:"):
            value = line[6:] if line.startswith("data: ") else line[5:]
            if not self._data:
                if value == "[DONE]":
                    return DONE
                decoded, payload = _try_decode(value)
                if decoded:
                    return payload if self._event is None else self._wrap(payload)
            return self._continue(value)
        if line.startswith("event:"):
            self._event = line[6:].strip()
        return None

    def close(self) -> list[Any]:
        """The events left when the body ends: an unterminated last line, an undispatched event."""
        events = self.feed(b"\n") if self._partial else []
        last = self._dispatch()
        return events if last is None else [*events, last]

    def _continue(self, value: str) -> Any:
        """Add a data line to an event that did not parse on its own line."""
        self._size += len(value) + 1
        if self._limit is not None and self._size > self._limit:
            raise EventTooLargeError(self._limit)
        self._data.append(value)
        if self._broken:
            return None
        depth = self._depth
        opened = False
        for token in _TOKENS.finditer(value):
            char = token.group()
            if char in _OPENERS:
                depth += 1
                opened = True
            elif char in "}]":
                depth -= 1
            elif char == '"':  # a string left open: no later line can make this JSON
                self._broken = True
                return None
        self._depth = depth
        if depth < 0:
            self._broken = True
        elif depth == 0 and (opened or (len(self._data) > 1 and value.strip())):
            # The brackets balance: the event is complete now or never (more text would be
            # "extra data"), so it is parsed once here, not again on every later line.
            decoded, payload = _try_decode("\n".join(self._data))
            if decoded:
                self._reset()
                return self._wrap(payload)
            self._broken = True
        return None

    def _dispatch(self) -> Any:
        if not self._data:
            self._event = None
            return None
        text = "\n".join(self._data)
        self._reset()
        decoded, payload = _try_decode(text)
        if not decoded:
            self._event = None
            raise MalformedEventError(f"malformed stream event: {text[:200]!r}")
        return self._wrap(payload)

    def _reset(self) -> None:
        self._data = []
        self._size = 0
        self._depth = 0
        self._broken = False

    def _wrap(self, payload: Any) -> Any:
        event, self._event = self._event, None
        if event == "error" and not (isinstance(payload, dict) and "error" in payload):
            return {"error": payload}
        return payload
