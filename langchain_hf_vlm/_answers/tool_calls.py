"""Tool calls of an answer: arguments as JSON text (OpenAI, TGI >= 3.2) or as JSON objects
(TGI < 3.2), missing or repeated call ids, and TGI's pseudo-tools. Pure: no I/O.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import InvalidToolCall
from langchain_core.messages.tool import ToolCall, invalid_tool_call, tool_call

# TGI answers with these pseudo-tools when the model declines to call a real one.
PSEUDO_TOOLS = {"notify_error": "error", "no_tool": "content"}
_SERVER_IDS_TO_REPLACE = frozenset({"", "0", None})


class CallIds:
    """Give every tool call of one answer a unique id, keeping the server's when usable."""

    def __init__(self, response_id: str | None) -> None:
        self._prefix = f"call_{uuid.uuid4().hex[:12]}" if not response_id else f"call_{response_id}"
        self._seen: set[str] = set()

    def assign(self, server_id: Any, index: int) -> str:
        if server_id in _SERVER_IDS_TO_REPLACE or server_id in self._seen:
            call_id = f"{self._prefix}_{index}"
        else:
            call_id = str(server_id)
        self._seen.add(call_id)
        return call_id


def arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


def parse_tool_calls(
    raw_calls: list[Mapping[str, Any]], ids: CallIds
) -> tuple[list[ToolCall], list[InvalidToolCall], list[str]]:
    """Split wire tool calls into parsed calls, invalid calls and pseudo-tool texts."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    texts: list[str] = []
    for index, raw in enumerate(raw_calls):
        function = raw.get("function") or {}
        name = function.get("name") or ""
        arguments = function.get("arguments")
        if name in PSEUDO_TOOLS:
            texts.append(pseudo_tool_text(name, arguments))
            continue
        call_id = ids.assign(raw.get("id"), index)
        if isinstance(arguments, Mapping):
            calls.append(tool_call(name=name, args=dict(arguments), id=call_id))
            continue
        text = arguments_text(arguments)
        try:
            args = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id, error=str(exc)))
            continue
        if args is None:  # vLLM's hermes parser for a model that wrote "arguments": null
            args = {}
        if not isinstance(args, dict):
            invalid.append(
                invalid_tool_call(
                    name=name, args=text, id=call_id, error="arguments are not a JSON object"
                )
            )
            continue
        calls.append(tool_call(name=name, args=args, id=call_id))
    return calls, invalid, texts


def pseudo_tool_text(name: str, arguments: Any) -> str:
    if isinstance(arguments, str):
        text = arguments
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError:
            return text
    if isinstance(arguments, Mapping):
        value = arguments.get(PSEUDO_TOOLS[name])
        if isinstance(value, str):
            return value
    return arguments_text(arguments)
