"""Chat-completion answers and stream chunks as servers send them, for the tests of ``_answers``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler

RID = "chatcmpl-42"
USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 30,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 64},
    "completion_tokens_details": {"reasoning_tokens": 12},
}
USAGE_METADATA = {
    "input_tokens": 120,
    "output_tokens": 30,
    "total_tokens": 150,
    "input_token_details": {"cache_read": 64},
    "output_token_details": {"reasoning": 12},
}


def body(message: dict[str, Any], finish_reason: str = "stop", **extra: Any) -> dict[str, Any]:
    """A whole ``chat.completion`` answer with one choice carrying ``message``."""
    return {
        "id": RID,
        "object": "chat.completion",
        "created": 1700000000,
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "system_fingerprint": "3.2.0-native",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        **extra,
    }


def answer(message: dict[str, Any], **extra: Any) -> AIMessage:
    """The message the user gets for ``body(message)``."""
    result = chat_result(body(message, **extra))
    (generation,) = result.generations
    assert isinstance(generation.message, AIMessage)
    return generation.message


def call(name: str, arguments: Any, call_id: Any = "call_x") -> dict[str, Any]:
    """A wire tool call; ``call_id=...`` leaves the id out."""
    raw: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not ...:
        raw["id"] = call_id
    return raw


def chunk(
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    *,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``choices=False`` sends none (a usage-only chunk)."""
    data: dict[str, Any] = {
        "id": RID,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "vlm",
        "system_fingerprint": "fp_1",
        "choices": (
            [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}]
            if choices
            else []
        ),
    }
    if usage is not None:
        data["usage"] = usage
    return data


def stream(
    chunks: Iterable[dict[str, Any]], *, provider: str | None = None
) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    """Feed the chunks; return the yielded messages (final one last) and their sum."""
    assembler = StreamAssembler(inference_provider=provider)
    messages: list[AIMessageChunk] = []
    for raw in chunks:
        for generation in assembler.feed(raw):
            assert isinstance(generation.message, AIMessageChunk)
            messages.append(generation.message)
    final = assembler.final().message
    assert isinstance(final, AIMessageChunk)
    messages.append(final)
    merged = sum(messages[1:], messages[0])
    assert isinstance(merged, AIMessageChunk)
    return messages, merged
