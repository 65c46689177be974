"""Streamed chat.completion.chunk dicts to LangChain ``ChatGenerationChunk``s. Pure: no I/O.

Usage may come in a final chunk, on the last content chunk, or cumulatively on every chunk; it
is attached once, to the closing chunk. Tool-call pieces are merged per call index, TGI's
pseudo-tools become text, and vLLM's ``null`` arguments mean none. Reasoning, from a field or
from ``<think>`` tags in the content (:mod:`_answers.reasoning`), goes out in reasoning chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import ToolCallChunk, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hf_vlm._answers.answer import MODEL_PROVIDER
from langchain_hf_vlm._answers.reasoning import ThinkSplitter, ThinkTags
from langchain_hf_vlm._answers.shape import (
    UNREADABLE,
    Unreadable,
    content_of,
    kind,
    malformed,
    objects,
    reasoning_of,
    text_or_none,
)
from langchain_hf_vlm._answers.text_chunks import TextChunks
from langchain_hf_vlm._answers.tool_calls import (
    PSEUDO_TOOLS,
    CallIds,
    arguments_text,
    pseudo_tool_text,
)
from langchain_hf_vlm._answers.usage import read_usage

_METADATA = {"model_provider": MODEL_PROVIDER}
"""Every chunk's ``response_metadata`` (each gets its own copy)."""


class StreamAssembler:
    """Turns streamed chat.completion.chunk dicts into ``ChatGenerationChunk``s.

    One chunk is yielded per content or tool-call delta. The finishing chunk (the one with
    ``finish_reason``) is held back until the stream ends, so that usage reported after it,
    on it, or cumulatively on every chunk is attached exactly once, to that final chunk.
    """

    def __init__(
        self,
        *,
        inference_provider: str | None = None,
        request_id: str | None = None,
        think_tags: ThinkTags = "auto",
    ) -> None:
        self._provider = inference_provider
        self._think = ThinkSplitter(think_tags)
        self._request_id = request_id
        self._usage: Mapping[str, Any] | None = None
        self._finish: dict[str, Any] | None = None
        self._response_id: str | None = None
        self._model: str | None = None
        self._fingerprint: str | None = None
        self._ids: CallIds | None = None
        self._call_index_ids: dict[int, str] = {}
        self._named: set[int] = set()
        self._pseudo: dict[int, list[Any]] = {}
        self._pseudo_names: dict[int, str] = {}
        self._args_started: set[int] = set()
        self._held_args: dict[int, str] = {}
        self._texts: TextChunks | None = None

    def feed(self, chunk: Any) -> list[ChatGenerationChunk]:
        """Consume one parsed chunk; return the LangChain chunks ready to hand out (a list, not
        a generator: this runs once per token).

        Raises:
            MalformedResponseError: the chunk is not a chat.completion.chunk one can read.
        """
        try:
            return self._feed(chunk)
        except UNREADABLE as exc:
            raise malformed(exc, self._request_id) from exc

    def _feed(self, chunk: Any) -> list[ChatGenerationChunk]:
        if chunk.__class__ is not dict and not isinstance(chunk, Mapping):  # the ABC: ~0.1 µs
            raise Unreadable(f"a stream chunk is {kind(chunk)}, not an object")
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        self._response_id = self._response_id or text_or_none(chunk.get("id"))
        self._model = chunk.get("model") or self._model
        self._fingerprint = chunk.get("system_fingerprint") or self._fingerprint
        choices = chunk.get("choices") or ()
        if not isinstance(choices, (list, tuple)):
            raise Unreadable(f"a stream chunk has choices of type {kind(choices)}, not a list")
        ready = []
        for choice in choices:
            if choice.__class__ is not dict and not isinstance(choice, Mapping):
                raise Unreadable(f"a stream chunk's choice is {kind(choice)}, not an object")
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.__class__ is not dict and not isinstance(delta, Mapping):
                raise Unreadable(f"a stream chunk's delta is {kind(delta)}, not an object")
            finish_reason = choice.get("finish_reason")
            if finish_reason is not None:
                self._finish = {"finish_reason": finish_reason, "logprobs": choice.get("logprobs")}
            logprobs = choice.get("logprobs")
            made = self._delta_chunk(delta, {"logprobs": logprobs} if logprobs else None)
            if made is not None:
                ready.append(made)
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
        except UNREADABLE as exc:
            raise malformed(exc, self._request_id) from exc

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
        reasoning, held = self._think.end()
        content = held + "\n".join(
            pseudo_tool_text(self._pseudo_names[i], "".join(map(arguments_text, parts)))
            for i, parts in sorted(self._pseudo.items())
        )
        not_null = [
            tool_call_chunk(name=None, args=text, id=None, index=index)
            for index, text in self._held_args.items()
            if text.strip() not in ("", "null")
        ]
        message = AIMessageChunk(
            content=content,
            additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
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

    def _delta_chunk(
        self, delta: Mapping[str, Any], info: dict[str, Any] | None
    ) -> ChatGenerationChunk | None:
        content = delta.get("content") or ""
        if content.__class__ is not str:
            content = content_of(content, "a stream chunk's delta.content")
        reasoning = reasoning_of(delta)
        if reasoning:
            self._think.server_split()
        if content.__class__ is str and content:
            tagged, content = self._think.feed(content)
            if tagged:
                reasoning = (reasoning or "") + tagged
        raw_calls = delta.get("tool_calls")
        tool_chunks = (
            self._tool_call_chunks(objects(raw_calls, "a stream chunk's delta.tool_calls"))
            if raw_calls
            else []
        )
        if not reasoning and not tool_chunks and info is None and content.__class__ is str:
            if not content:
                return None
            # Most chunks carry text only, thousands per answer: copies of a validated one.
            texts = self._texts
            if texts is None or texts.response_id is not self._response_id:
                texts = self._texts = TextChunks(self._response_id, _METADATA)
            return texts.make(content)
        if not content and not reasoning and not tool_chunks:
            return None
        optional: dict[str, Any] = {}
        if reasoning:
            optional["additional_kwargs"] = {"reasoning_content": reasoning}
        if tool_chunks:
            optional["tool_call_chunks"] = tool_chunks
        message = AIMessageChunk(
            content=content,
            id=self._response_id,
            response_metadata={"model_provider": MODEL_PROVIDER},
            **optional,
        )
        if info is None:  # an explicit generation_info=None costs pydantic ~0.8 µs a chunk
            return ChatGenerationChunk(message=message)
        return ChatGenerationChunk(message=message, generation_info=info)

    def _tool_call_chunks(self, raw_calls: list[Mapping[str, Any]]) -> list[ToolCallChunk]:
        # One chunk per call index: vLLM 0.32 sends a call's name and its whole arguments as
        # two entries with the same index in one delta, which LangChain would keep apart.
        chunks: dict[int, ToolCallChunk] = {}
        for position, raw in enumerate(raw_calls):
            index = raw.get("index", position)
            function = raw.get("function") or {}
            name = function.get("name")
            if name in PSEUDO_TOOLS or index in self._pseudo:
                self._pseudo_names.setdefault(index, name or "")
                self._pseudo.setdefault(index, []).append(function.get("arguments"))
                continue
            call_id: str | None = None
            if index not in self._call_index_ids:
                if self._ids is None:
                    self._ids = CallIds(self._response_id)
                call_id = self._ids.assign(raw.get("id"), index)
                self._call_index_ids[index] = call_id
            if name and index not in self._named:
                self._named.add(index)
            else:
                name = None
            args = self._unless_null(index, arguments_text(function.get("arguments")))
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
