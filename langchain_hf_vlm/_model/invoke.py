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
) -> PreparedRequest:
    """The request for one call, its images prepared and its server identified if need be."""
    wire = to_wire_messages(messages)
    llm._pipeline.prepare(wire)
    if _request.needs_dialect(llm, kwargs):
        llm._endpoint = identify(llm._sender, llm._target, _request.probe_headers(llm))
    return _request.build_request(llm, wire, stop, kwargs, stream=stream)


async def aprepare(
    llm: ChatHuggingFaceVLM,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> PreparedRequest:
    """Async twin of :func:`prepare`."""
    wire = to_wire_messages(messages)
    await llm._pipeline.aprepare(wire)
    if _request.needs_dialect(llm, kwargs):
        headers = _request.probe_headers(llm)
        llm._endpoint = await aidentify(llm._sender, llm._target, headers)
    return _request.build_request(llm, wire, stop, kwargs, stream=stream)


def result(answer: Answer) -> ChatResult:
    """A non-streamed answer as LangChain's result, with the provider and request id it names."""
    return chat_result(
        answer.body,
        inference_provider=provider_header(answer.headers),
        request_id=request_id(answer.headers),
    )
