"""JSON from servers, with bounded nesting. Pure: no I/O.

Python's parser stops near 1,000 levels with a RecursionError; LangChain's tracing (orjson)
and pydantic's JSON output stop at about 255. An answer nested deeper than :data:`MAX_DEPTH`
is refused here, so that every message the package returns can be traced and serialized.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 128
"""Real answers nest under 10 levels (logprobs, tool-call arguments)."""
_STRING = re.compile(rb'"[^"]*"')
_ONLY_BRACKETS_AND_QUOTES = bytes(set(range(256)) - set(b'[]{}"'))
_DECODER = json.JSONDecoder()
_decode = _DECODER.decode
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_SHALLOW = 2 * MAX_DEPTH + 1
"""JSON this short cannot nest deeper than :data:`MAX_DEPTH` (a level takes two characters),
and text that is not JSON fails in the parser: a stream's events (~200 characters each) skip
the bracket count."""


class JSONTooDeepError(ValueError):
    """JSON nested more deeply than :data:`MAX_DEPTH` levels."""


def loads(text: str | bytes) -> Any:
    """Parse JSON text.

    Raises:
        ValueError: not JSON (UTF-8 text for bytes), or :class:`JSONTooDeepError`.
    """
    if text.__class__ is str and len(text) <= _SHALLOW:
        # A stream event: JSON with nothing around it is read by the C scanner alone (what
        # ``decode`` runs after two whitespace matches and a frame; ~2k instructions less).
        try:
            value, end = _scan(text, 0)
        except StopIteration:  # not JSON at its first character: ``decode`` says why
            pass
        else:
            if end == len(text):
                return value
    elif isinstance(text, bytes):
        text = text.decode("utf-8")
    if len(text) > _SHALLOW and too_deep(text):
        raise JSONTooDeepError(f"JSON nested more than {MAX_DEPTH} levels deep")
    try:
        return _decode(text)
    except RecursionError:
        raise JSONTooDeepError(f"JSON nested more than {MAX_DEPTH} levels deep") from None


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the brackets of ``text`` (outside strings) nest more than ``limit`` deep."""
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= limit:  # the common case: nothing to scan
            return False
        data = text.encode()
    else:
        data = text
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
    # Escapes first (an escaped backslash, then an escaped quote), then everything but brackets
    # and quotes, then the strings: all at C speed, a tenth of json.loads on a 20 MB answer.
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    data = data.translate(None, _ONLY_BRACKETS_AND_QUOTES)
    # Adjacent quotes go first: most strings, now empty. Dropping two quotes keeps every
    # bracket inside or outside a string, as it was.
    brackets = _STRING.sub(b"", data.replace(b'""', b""))
    # Each pass removes the innermost pairs, one level (a marker keeps "{[]}" from losing two):
    # a handful of passes for real answers.
    for _ in range(limit + 1):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b".").replace(b"{}", b".").replace(b".", b"")
        if len(shorter) == len(brackets):
            return False  # mismatched brackets: not JSON, which the parser will say
        brackets = shorter
    return True
