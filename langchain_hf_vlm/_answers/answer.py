"""Chat-completion answers to LangChain results: the non-streamed answer. Pure: no I/O.

Handles every answer shape the supported servers produce, with the readers it shares with the
stream assembler (:mod:`_answers.chunks`): field shapes (:mod:`_answers.shape`), tool calls
(:mod:`_answers.tool_calls`: arguments as JSON text or objects, missing or repeated call ids, TGI's
pseudo-tools), usage (:mod:`langchain_hf_vlm._answers.usage`); reasoning text under ``reasoning`` or
``reasoning_content``, or as ``<think>`` tags in the content (:mod:`_answers.reasoning`).

Whatever a server sends, the caller gets an answer or :class:`MalformedResponseError`: no
choices, a choice, message, delta or content of the wrong type are errors naming the field; a
usage the server got wrong (``1e400``, ``NaN``, ``"lots"``) is dropped and the answer kept,
with the reason under ``response_metadata["usage_error"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

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
from langchain_hf_vlm._answers.tool_calls import CallIds, parse_tool_calls
from langchain_hf_vlm._answers.usage import read_usage

MODEL_PROVIDER = "huggingface"


def chat_result(
    body: Any,
    *,
    inference_provider: str | None = None,
    request_id: str | None = None,
    think_tags: ThinkTags = "auto",
) -> ChatResult:
    """A non-streamed chat.completion body to a ChatResult with one generation per choice;
    ``think_tags`` says how reasoning in ``<think>`` tags is read (:mod:`_answers.reasoning`).

    Raises:
        MalformedResponseError: the body is not a chat completion one can read.
    """
    try:
        return _chat_result(body, inference_provider, think_tags)
    except UNREADABLE as exc:
        raise malformed(exc, request_id) from exc


def _chat_result(body: Any, inference_provider: str | None, think_tags: ThinkTags) -> ChatResult:
    if not isinstance(body, Mapping):
        raise Unreadable(f"the server's answer is {kind(body)}, not an object")
    choices = body.get("choices")
    if not choices:
        raise Unreadable("the server's answer has no choices")
    if not isinstance(choices, list):
        raise Unreadable(f"the server's answer has choices of type {kind(choices)}, not a list")
    response_id = text_or_none(body.get("id"))
    usage, usage_error = read_usage(body.get("usage"))
    generations = []
    for position, choice in enumerate(choices):
        where = f"choice {position}"
        if not isinstance(choice, Mapping):
            raise Unreadable(f"{where} is {kind(choice)}, not an object")
        message = choice.get("message") or {}
        if not isinstance(message, Mapping):
            raise Unreadable(f"{where}: message is {kind(message)}, not an object")
        ids = CallIds(response_id)
        raw_calls = objects(message.get("tool_calls"), f"{where}: message.tool_calls")
        calls, invalid, texts = parse_tool_calls(raw_calls, ids)
        content = content_of(message.get("content"), f"{where}: message.content")
        reasoning = reasoning_of(message)
        if isinstance(content, str):
            reasoning, content = _split_reasoning(content, reasoning, think_tags)
        if texts:
            if isinstance(content, list):
                content = [*content, *texts]
            else:
                content = "\n".join([content, *texts]) if content else "\n".join(texts)
        additional_kwargs: dict[str, Any] = {}
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


def _split_reasoning(
    content: str, reasoning: str | None, think_tags: ThinkTags
) -> tuple[str | None, str]:
    """(reasoning, answer) of a whole answer: the server's reasoning field, else its tags."""
    if (
        reasoning is not None
        or think_tags == "off"
        or (think_tags == "auto" and not content.lstrip().startswith("<"))
    ):  # nothing to split (what the splitter would find, without making one)
        return reasoning, content
    splitter = ThinkSplitter(think_tags)
    if reasoning is not None:
        splitter.server_split()
    tagged, answer = splitter.feed(content)
    tagged_rest, answer_rest = splitter.end()
    tagged += tagged_rest
    if tagged:
        reasoning = (reasoning or "") + tagged
    return reasoning, answer + answer_rest


def _response_metadata(
    body: Mapping[str, Any], choice: Mapping[str, Any], inference_provider: str | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model_name": body.get("model"),
        "finish_reason": choice.get("finish_reason"),
        "id": text_or_none(body.get("id")),
        "system_fingerprint": body.get("system_fingerprint"),
        "logprobs": choice.get("logprobs"),
        "model_provider": MODEL_PROVIDER,
    }
    if inference_provider:
        metadata["inference_provider"] = inference_provider
    return metadata
