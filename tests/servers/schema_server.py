"""A loopback chat server that answers the way a capable model does when asked for structure.

:class:`~tests.servers.chat_server.ChatServer` echoes what it received, which is what most
tests assert on. A user's snippet (README.md, docs/integration.md) expects more: with
``response_format`` a JSON answer that fits the schema, with ``tools`` a call to one of them
until a tool result comes back. :class:`SchemaServer` gives exactly that, built from the schema
in the request, so the snippets run end to end over real HTTP without a model.
"""

from __future__ import annotations

import json
from typing import Any

from tests.servers.chat_server import ChatReply, ChatServer, Json, Reply, _Exchange

EXAMPLE_TEXT = "example"


def example_of(schema: Any, defs: Json | None = None) -> Any:
    """The simplest value that fits a JSON schema (first choice of every union, enum, type)."""
    if not isinstance(schema, dict):
        return EXAMPLE_TEXT
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        return example_of(defs.get(schema["$ref"].rsplit("/", 1)[-1]), defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    choices = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if choices:
        not_null = [c for c in choices if not (isinstance(c, dict) and c.get("type") == "null")]
        return example_of((not_null or choices)[0], defs)
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example_of(sub, defs) for name, sub in props.items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), defs)]
    simple = {"integer": 1, "number": 1.5, "boolean": True, "null": None}
    return simple.get(kind, EXAMPLE_TEXT)


def structured_reply(body: Json) -> ChatReply | None:
    """A tool call or a schema-shaped JSON answer when the request asks for one, else None."""
    tools = body.get("tools") or []
    messages = body.get("messages") or [{}]
    if tools and messages[-1].get("role") != "tool" and body.get("tool_choice") != "none":
        chosen = body.get("tool_choice")
        name = chosen.get("function", {}).get("name") if isinstance(chosen, dict) else None
        function = next(
            (t["function"] for t in tools if t["function"]["name"] == name), tools[0]["function"]
        )
        arguments = json.dumps(example_of(function.get("parameters", {})))
        call: Json = {
            "id": "call-0",
            "type": "function",
            "function": {"name": function["name"], "arguments": arguments},
        }
        return ChatReply(content=None, tool_calls=[call], finish_reason="tool_calls")
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
        schema = fmt.get("json_schema", {}).get("schema") or fmt.get("value")
        answer = example_of(schema) if schema else {"answer": EXAMPLE_TEXT}
        return ChatReply(content=json.dumps(answer))
    return None


class SchemaServer(ChatServer):
    """A :class:`ChatServer` (vLLM dialect by default) whose answers follow the request's
    tools and ``response_format``; other requests get the usual echo."""

    def _chat(self, ex: _Exchange) -> bool:
        body = ex.req.json if isinstance(ex.req.json, dict) else {}
        reply = structured_reply(body)
        if reply is None:
            return super()._chat(ex)
        if body.get("stream") is True:
            return self._stream(ex, self._as_stream(reply, body), body)
        return self._send(ex, Reply(self._completion(ex, reply, body)))
