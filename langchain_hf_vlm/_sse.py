"""Server-sent events as chat-completion servers really send them.

Tolerates ``data:`` with or without the space, ``[DONE]`` with or without it, keep-alive
comments, ``event: error`` frames, and JSON data that spans several ``data:`` lines.
"""

from __future__ import annotations

import json
from typing import Any

DONE: Any = object()
"""Returned for the ``[DONE]`` sentinel."""
_decode = json.JSONDecoder().decode
"""``json.loads`` without its per-call argument checks."""


class MalformedEventError(ValueError):
    """A data event that is not JSON."""


class SSEDecoder:
    """Feed lines (without their line ending); get back parsed data events.

    ``line`` returns None while an event is incomplete, :data:`DONE` for the end sentinel, or
    the parsed JSON payload. Payloads of ``event: error`` frames come back as
    ``{"error": payload}`` so that callers handle every error shape in one place.
    """

    __slots__ = ("_data", "_event")

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def line(self, line: str) -> Any:
        # Runs twice per token; the common cases (a blank line after a complete one-line event,
        # a JSON data line outside any ``event:``) avoid further calls.
        if not line:
            if not self._data:
                self._event = None
                return None
            return self._dispatch(final=True)
        if line.startswith("data:"):
            value = line[6:] if line.startswith("data: ") else line[5:]
            if not self._data:
                if value == "[DONE]":
                    return DONE
                try:
                    payload = _decode(value)
                except ValueError:
                    self._data.append(value)
                    return None
                return payload if self._event is None else self._wrap(payload)
            self._data.append(value)
            return self._dispatch(final=False)
        if line.startswith("event:"):
            self._event = line[6:].strip()
        return None

    def close(self) -> Any:
        """Dispatch whatever is left when the body ends."""
        return self._dispatch(final=True)

    def _dispatch(self, *, final: bool) -> Any:
        if not self._data:
            self._event = None
            return None
        text = "\n".join(self._data)
        try:
            payload = _decode(text)
        except ValueError:
            if not final:
                return None
            self._data = []
            raise MalformedEventError(f"malformed stream event: {text[:200]!r}") from None
        self._data = []
        return self._wrap(payload)

    def _wrap(self, payload: Any) -> Any:
        event, self._event = self._event, None
        if event == "error" and not (isinstance(payload, dict) and "error" in payload):
            return {"error": payload}
        return payload
