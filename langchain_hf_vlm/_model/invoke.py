"""What the four entry points of the chat model share around the transport: the request
prepared from LangChain messages, and a non-streamed answer read into a result.

Preparing differs between sync and async only in its I/O: preparing images (downloads, thread
pool) and identifying a server of unknown kind (:mod:`_servers.probes`) when the call depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.reasoning import ThinkTags
from langchain_hf_vlm._answers.stream import provider_header
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm._servers.probes import aidentify, identify
from langchain_hf_vlm._wire.failures import request_id
from langchain_hf_vlm._wire.sender import Answer, PreparedRequest

if TYPE_CHECKING:
    from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM


def prepare(
    llm: ChatHuggingFaceVLM,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> tuple[PreparedRequest, ThinkTags]:
    """The request for one call, its images prepared and its server identified if need be; and
    how its answer's ``<think>`` tags are read."""
    reasoning = _request.reasoning_settings(llm, kwargs)
    wire = to_wire_messages(messages, _request.reasoning_back(llm, reasoning))
    llm.images.prepare(wire)
    if _request.needs_dialect(llm, kwargs):
        llm._endpoint = identify(llm.transport, llm.endpoint, _request.probe_headers(llm))
    request = _request.build_request(llm, wire, stop, kwargs, stream=stream, reasoning=reasoning)
    return request, reasoning.reading


async def aprepare(
    llm: ChatHuggingFaceVLM,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> tuple[PreparedRequest, ThinkTags]:
    """Async twin of :func:`prepare`."""
    reasoning = _request.reasoning_settings(llm, kwargs)
    wire = to_wire_messages(messages, _request.reasoning_back(llm, reasoning))
    await llm.images.aprepare(wire)
    if _request.needs_dialect(llm, kwargs):
        headers = _request.probe_headers(llm)
        llm._endpoint = await aidentify(llm.transport, llm.endpoint, headers)
    request = _request.build_request(llm, wire, stop, kwargs, stream=stream, reasoning=reasoning)
    return request, reasoning.reading


def result(answer: Answer, think_tags: ThinkTags = "auto") -> ChatResult:
    """A non-streamed answer as LangChain's result, with the provider and request id it names;
    ``think_tags`` says how reasoning in ``<think>`` tags is read."""
    return chat_result(
        answer.body,
        inference_provider=provider_header(answer.headers),
        request_id=request_id(answer.headers),
        think_tags=think_tags,
    )
