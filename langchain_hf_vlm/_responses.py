"""Chat-completion answers to LangChain results. Pure: no I/O.

Handles every answer shape the supported servers produce: tool-call arguments as JSON text
(OpenAI, TGI >= 3.2) or as JSON objects (TGI < 3.2), missing or repeated call ids, TGI's
pseudo-tools, reasoning text under ``reasoning`` or ``reasoning_content``, and usage reported
in a final chunk, on the last content chunk, or cumulatively on every chunk.

Whatever a server sends, the caller gets an answer or :class:`MalformedResponseError`: no
choices, a choice, message, delta or content of the wrong type are errors naming the field; a
usage the server got wrong (``1e400``, ``NaN``, ``"lots"``) is dropped and the answer kept,
with the reason under ``response_metadata["usage_error"]``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk, InvalidToolCall
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import (
    ToolCall,
    ToolCallChunk,
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_hf_vlm.errors import MalformedResponseError

MODEL_PROVIDER = "huggingface"
# TGI answers with these pseudo-tools when the model declines to call a real one.
_PSEUDO_TOOLS = {"notify_error": "error", "no_tool": "content"}
_SERVER_IDS_TO_REPLACE = frozenset({"", "0", None})
_MAX_TOKENS = 2**63 - 1


class _Unreadable(Exception):
    """An answer of the wrong shape; the public functions raise it as MalformedResponseError."""


_UNREADABLE = (
    _Unreadable,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    RecursionError,
    TypeError,
    ValueError,  # pydantic's ValidationError among them
)
"""What reading an answer of an unforeseen shape can raise; all mean "malformed answer"."""


def _malformed(exc: BaseException, request_id: str | None) -> MalformedResponseError:
    if isinstance(exc, _Unreadable):
        text = str(exc)
    else:
        text = f"the server's answer could not be read: {type(exc).__name__}: {str(exc)[:300]}"
    return MalformedResponseError(text, request_id=request_id)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _token_count(value: Any) -> int | None:
    """A token count as servers write it (an int, or a float with an integral value)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_TOKENS else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= _MAX_TOKENS:
        return int(value)
    return None


class _UsageReader:
    """Reads token counts, noting every value that is not one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def count(self, mapping: Any, key: str, where: str = "") -> int | None:
        value = mapping.get(key) if isinstance(mapping, Mapping) else None
        if value is None:
            return None
        count = _token_count(value)
        if count is None:
            self.problems.append(f"{where}{key}={str(value)[:40]!r} is not a token count")
        return count


def read_usage(usage: Any) -> tuple[UsageMetadata | None, str | None]:
    """OpenAI-style ``usage`` to LangChain ``UsageMetadata`` (with cache and reasoning
    details), and what was wrong with it: a usage with a count that is not one is dropped."""
    if not usage:
        return None, None
    if not isinstance(usage, Mapping):
        return None, f"usage dropped: it is {_kind(usage)}, not an object"
    reader = _UsageReader()
    input_tokens = reader.count(usage, "prompt_tokens")
    output_tokens = reader.count(usage, "completion_tokens")
    total_tokens = reader.count(usage, "total_tokens")
    if reader.problems:
        return None, "usage dropped: " + "; ".join(reader.problems)
    input_tokens, output_tokens = input_tokens or 0, output_tokens or 0
    result = cast(
        "UsageMetadata",
        {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": total_tokens or input_tokens + output_tokens,
        },
    )
    cached = reader.count(
        usage.get("prompt_tokens_details"), "cached_tokens", "prompt_tokens_details."
    )
    if cached is not None:
        result["input_token_details"] = InputTokenDetails(cache_read=cached)
    reasoning = reader.count(
        usage.get("completion_tokens_details"), "reasoning_tokens", "completion_tokens_details."
    )
    if reasoning is not None:
        result["output_token_details"] = OutputTokenDetails(reasoning=reasoning)
    return result, (
        "usage details dropped: " + "; ".join(reader.problems)
    ) if reader.problems else None


def usage_metadata(usage: Any) -> UsageMetadata | None:
    """OpenAI-style ``usage`` to LangChain ``UsageMetadata``; None when absent or malformed."""
    return read_usage(usage)[0]


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _content(value: Any, where: str) -> str | list[str | dict[str, Any]]:
    """Message content: text, or a list of text and content blocks, as LangChain takes it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, (str, dict)) for part in value):
        return value
    raise _Unreadable(f"{where} is {_kind(value)}, not text")


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects (tool calls), each with an object (or nothing) as ``function``."""
    if not value:
        return []
    if not isinstance(value, list):
        raise _Unreadable(f"{where} is {_kind(value)}, not a list")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise _Unreadable(f"{where}[{index}] is {_kind(item)}, not an object")
        function = item.get("function")
        if function is not None and not isinstance(function, Mapping):
            raise _Unreadable(f"{where}[{index}].function is {_kind(function)}, not an object")
    return value


def _reasoning(message: Mapping[str, Any]) -> str | None:
    value = message.get("reasoning")
    if value is None:
        value = message.get("reasoning_content")
    return value if isinstance(value, str) else None


class _CallIds:
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


def _arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


def _parse_tool_calls(
    raw_calls: list[Mapping[str, Any]], ids: _CallIds
) -> tuple[list[ToolCall], list[InvalidToolCall], list[str]]:
    """Split wire tool calls into parsed calls, invalid calls and pseudo-tool texts."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    texts: list[str] = []
    for index, raw in enumerate(raw_calls):
        function = raw.get("function") or {}
        name = function.get("name") or ""
        arguments = function.get("arguments")
        if name in _PSEUDO_TOOLS:
            texts.append(_pseudo_tool_text(name, arguments))
            continue
        call_id = ids.assign(raw.get("id"), index)
        if isinstance(arguments, Mapping):
            calls.append(tool_call(name=name, args=dict(arguments), id=call_id))
            continue
        text = _arguments_text(arguments)
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


def _pseudo_tool_text(name: str, arguments: Any) -> str:
    if isinstance(arguments, str):
        text = arguments
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError:
            return text
    if isinstance(arguments, Mapping):
        value = arguments.get(_PSEUDO_TOOLS[name])
        if isinstance(value, str):
            return value
    return _arguments_text(arguments)


def chat_result(
    body: Any, *, inference_provider: str | None = None, request_id: str | None = None
) -> ChatResult:
    """A non-streamed chat.completion body to a ChatResult with one generation per choice.

    Raises:
        MalformedResponseError: the body is not a chat completion one can read.
    """
    try:
        return _chat_result(body, inference_provider)
    except _UNREADABLE as exc:
        raise _malformed(exc, request_id) from exc


def _chat_result(body: Any, inference_provider: str | None) -> ChatResult:
    if not isinstance(body, Mapping):
        raise _Unreadable(f"the server's answer is {_kind(body)}, not an object")
    choices = body.get("choices")
    if not choices:
        raise _Unreadable("the server's answer has no choices")
    if not isinstance(choices, list):
        raise _Unreadable(f"the server's answer has choices of type {_kind(choices)}, not a list")
    response_id = _text_or_none(body.get("id"))
    usage, usage_error = read_usage(body.get("usage"))
    generations = []
    for position, choice in enumerate(choices):
        where = f"choice {position}"
        if not isinstance(choice, Mapping):
            raise _Unreadable(f"{where} is {_kind(choice)}, not an object")
        message = choice.get("message") or {}
        if not isinstance(message, Mapping):
            raise _Unreadable(f"{where}: message is {_kind(message)}, not an object")
        ids = _CallIds(response_id)
        raw_calls = _objects(message.get("tool_calls"), f"{where}: message.tool_calls")
        calls, invalid, texts = _parse_tool_calls(raw_calls, ids)
        content = _content(message.get("content"), f"{where}: message.content")
        if texts:
            if isinstance(content, list):
                content = [*content, *texts]
            else:
                content = "\n".join([content, *texts]) if content else "\n".join(texts)
        additional_kwargs: dict[str, Any] = {}
        reasoning = _reasoning(message)
        if reasoning is not None:
            additional_kwargs["reasoning_content"] = reasoning
        if message.get("refusal"):
            additional_kwargs["refusal"] = message["refusal"]
        metadata = _response_metadata(body, choice, inference_provider)
        if usage_error:
            metadata["usage_error"] = usage_error
        ai = AIMessage(
            content=content,
            id=response_id,
            tool_calls=calls,
            invalid_tool_calls=invalid,
            additional_kwargs=additional_kwargs,
            response_metadata=metadata,
            usage_metadata=usage,
        )
        generation_info = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            generation_info["logprobs"] = choice["logprobs"]
        generations.append(ChatGeneration(message=ai, generation_info=generation_info))
    llm_output = {"model_name": body.get("model"), "id": response_id}
    if body.get("usage"):
        llm_output["token_usage"] = body["usage"]
    return ChatResult(generations=generations, llm_output=llm_output)


def _response_metadata(
    body: Mapping[str, Any], choice: Mapping[str, Any], inference_provider: str | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model_name": body.get("model"),
        "finish_reason": choice.get("finish_reason"),
        "id": _text_or_none(body.get("id")),
        "system_fingerprint": body.get("system_fingerprint"),
        "logprobs": choice.get("logprobs"),
        "model_provider": MODEL_PROVIDER,
    }
    if inference_provider:
        metadata["inference_provider"] = inference_provider
    return metadata


class StreamAssembler:
    """Turns streamed chat.completion.chunk dicts into ``ChatGenerationChunk``s.

    One chunk is yielded per content or tool-call delta. The finishing chunk (the one with
    ``finish_reason``) is held back until the stream ends, so that usage reported after it,
    on it, or cumulatively on every chunk is attached exactly once, to that final chunk.
    """

    def __init__(
        self, *, inference_provider: str | None = None, request_id: str | None = None
    ) -> None:
        self._provider = inference_provider
        self._request_id = request_id
        self._usage: Mapping[str, Any] | None = None
        self._finish: dict[str, Any] | None = None
        self._response_id: str | None = None
        self._model: str | None = None
        self._fingerprint: str | None = None
        self._ids: _CallIds | None = None
        self._call_index_ids: dict[int, str] = {}
        self._named: set[int] = set()
        self._pseudo: dict[int, list[Any]] = {}
        self._pseudo_names: dict[int, str] = {}
        self._args_started: set[int] = set()
        self._held_args: dict[int, str] = {}
        self.received_any = False

    def feed(self, chunk: Any) -> list[ChatGenerationChunk]:
        """Consume one parsed chunk; return the LangChain chunks ready to hand out (a list, not
        a generator: this runs once per token).

        Raises:
            MalformedResponseError: the chunk is not a chat.completion.chunk one can read.
        """
        try:
            return self._feed(chunk)
        except _UNREADABLE as exc:
            raise _malformed(exc, self._request_id) from exc

    def _feed(self, chunk: Any) -> list[ChatGenerationChunk]:
        if not isinstance(chunk, Mapping):
            raise _Unreadable(f"a stream chunk is {_kind(chunk)}, not an object")
        self.received_any = True
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        self._response_id = self._response_id or _text_or_none(chunk.get("id"))
        self._model = chunk.get("model") or self._model
        self._fingerprint = chunk.get("system_fingerprint") or self._fingerprint
        choices = chunk.get("choices") or ()
        if not isinstance(choices, (list, tuple)):
            raise _Unreadable(f"a stream chunk has choices of type {_kind(choices)}, not a list")
        ready = []
        for choice in choices:
            if not isinstance(choice, Mapping):
                raise _Unreadable(f"a stream chunk's choice is {_kind(choice)}, not an object")
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if not isinstance(delta, Mapping):
                raise _Unreadable(f"a stream chunk's delta is {_kind(delta)}, not an object")
            message = self._delta_message(delta)
            finish_reason = choice.get("finish_reason")
            if finish_reason is not None:
                self._finish = {"finish_reason": finish_reason, "logprobs": choice.get("logprobs")}
            if message is None:
                continue
            info = {"logprobs": choice["logprobs"]} if choice.get("logprobs") else None
            ready.append(ChatGenerationChunk(message=message, generation_info=info))
        return ready

    @property
    def finished(self) -> bool:
        """Whether the server reported a finish reason."""
        return self._finish is not None

    def final(self) -> ChatGenerationChunk:
        """The closing chunk: finish reason, model name, usage, and any pseudo-tool text.

        Raises:
            MalformedResponseError: what was assembled cannot make a message.
        """
        try:
            return self._final()
        except _UNREADABLE as exc:
            raise _malformed(exc, self._request_id) from exc

    def _final(self) -> ChatGenerationChunk:
        usage, usage_error = read_usage(self._usage)
        metadata: dict[str, Any] = {
            "model_name": self._model,
            "finish_reason": (self._finish or {}).get("finish_reason"),
            "id": self._response_id,
            "system_fingerprint": self._fingerprint,
            "model_provider": MODEL_PROVIDER,
        }
        if self._provider:
            metadata["inference_provider"] = self._provider
        if usage_error:
            metadata["usage_error"] = usage_error
        content = "\n".join(
            _pseudo_tool_text(self._pseudo_names[i], "".join(map(_arguments_text, parts)))
            for i, parts in sorted(self._pseudo.items())
        )
        not_null = [
            tool_call_chunk(name=None, args=text, id=None, index=index)
            for index, text in self._held_args.items()
            if text.strip() not in ("", "null")
        ]
        message = AIMessageChunk(
            content=content,
            id=self._response_id,
            response_metadata=metadata,
            usage_metadata=usage,
            chunk_position="last",
            tool_call_chunks=not_null,
        )
        info: dict[str, Any] = {"finish_reason": metadata["finish_reason"]}
        if self._finish and self._finish.get("logprobs") is not None:
            info["logprobs"] = self._finish["logprobs"]
        return ChatGenerationChunk(message=message, generation_info=info)

    def _delta_message(self, delta: Mapping[str, Any]) -> AIMessageChunk | None:
        content = delta.get("content") or ""
        if content.__class__ is not str:
            content = _content(content, "a stream chunk's delta.content")
        reasoning = _reasoning(delta)
        raw_calls = delta.get("tool_calls")
        tool_chunks = (
            self._tool_call_chunks(_objects(raw_calls, "a stream chunk's delta.tool_calls"))
            if raw_calls
            else []
        )
        if not content and not reasoning and not tool_chunks:
            return None
        # Most chunks carry text only: fields left at their defaults cost nothing to validate,
        # which matters at thousands of chunks per answer.
        optional: dict[str, Any] = {}
        if reasoning:
            optional["additional_kwargs"] = {"reasoning_content": reasoning}
        if tool_chunks:
            optional["tool_call_chunks"] = tool_chunks
        return AIMessageChunk(
            content=content,
            id=self._response_id,
            response_metadata={"model_provider": MODEL_PROVIDER},
            **optional,
        )

    def _tool_call_chunks(self, raw_calls: list[Mapping[str, Any]]) -> list[ToolCallChunk]:
        # One chunk per call index: vLLM 0.32 sends a call's name and its whole arguments as
        # two entries with the same index in one delta, which LangChain would keep apart.
        chunks: dict[int, ToolCallChunk] = {}
        for position, raw in enumerate(raw_calls):
            index = raw.get("index", position)
            function = raw.get("function") or {}
            name = function.get("name")
            if name in _PSEUDO_TOOLS or index in self._pseudo:
                self._pseudo_names.setdefault(index, name or "")
                self._pseudo.setdefault(index, []).append(function.get("arguments"))
                continue
            call_id: str | None = None
            if index not in self._call_index_ids:
                if self._ids is None:
                    self._ids = _CallIds(self._response_id)
                call_id = self._ids.assign(raw.get("id"), index)
                self._call_index_ids[index] = call_id
            if name and index not in self._named:
                self._named.add(index)
            else:
                name = None
            args = self._unless_null(index, _arguments_text(function.get("arguments")))
            same = chunks.get(index)
            if same is None:
                chunks[index] = tool_call_chunk(
                    name=name, args=args or None, id=call_id, index=index
                )
            else:
                same["name"] = same["name"] or name
                same["args"] = ((same["args"] or "") + args) or None
        return list(chunks.values())

    def _unless_null(self, index: int, text: str) -> str:
        """A call's arguments text, held back while it may still be ``null``.

        vLLM's hermes parser streams a model's ``"arguments": null`` as the text ``null``;
        like the non-streamed answer (and langchain-core's ``parse_tool_call``) that means no
        arguments. Held text that turns out to be something else goes out with the next piece,
        or with the final chunk (``final``) if the stream ends first.
        """
        if index in self._args_started or not text:
            return text
        held = self._held_args.pop(index, "") + text
        if "null".startswith(held.strip()):
            self._held_args[index] = held
            return ""
        self._args_started.add(index)
        return held
