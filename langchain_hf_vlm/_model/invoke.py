"""What the four entry points of the chat model share around the sender: the request prepared
from LangChain messages, and a non-streamed answer read into a result. Takes the model's values
(:class:`Parts`), never the model.

Preparing differs between sync and async only in its I/O: preparing images (downloads, thread
pool) and identifying a server of unknown kind (:mod:`_servers.probes`) when the call depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._answers.stream import provider_header
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm._request.prepare import (
    RequestSettings,
    build_request,
    needs_dialect,
    probe_headers,
)
from langchain_hf_vlm._servers.dialects import Endpoint
from langchain_hf_vlm._servers.probes import aidentify, identify
from langchain_hf_vlm._wire.failures import request_id
from langchain_hf_vlm._wire.sender import Answer, ChatSender, PreparedRequest


@dataclass(frozen=True, slots=True)
class Parts:
    """One call's view of the model: its request settings and its live parts."""

    settings: RequestSettings
    endpoint: Endpoint
    images: ImagePipeline
    sender: ChatSender


class Prepared(NamedTuple):
    """A prepared request, and the endpoint it goes to (identified, if the call needed it)."""

    request: PreparedRequest
    endpoint: Endpoint


def prepare(
    parts: Parts,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> Prepared:
    """The request for one call, its images prepared and its server identified if need be."""
    wire = to_wire_messages(messages)
    parts.images.prepare(wire)
    endpoint = parts.endpoint
    if needs_dialect(endpoint, kwargs):
        endpoint = identify(parts.sender, endpoint, probe_headers(parts.settings, endpoint))
    request = build_request(parts.settings, endpoint, wire, stop, kwargs, stream=stream)
    return Prepared(request, endpoint)


async def aprepare(
    parts: Parts,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> Prepared:
    """Async twin of :func:`prepare`."""
    wire = to_wire_messages(messages)
    await parts.images.aprepare(wire)
    endpoint = parts.endpoint
    if needs_dialect(endpoint, kwargs):
        headers = probe_headers(parts.settings, endpoint)
        endpoint = await aidentify(parts.sender, endpoint, headers)
    request = build_request(parts.settings, endpoint, wire, stop, kwargs, stream=stream)
    return Prepared(request, endpoint)


def result(answer: Answer) -> ChatResult:
    """A non-streamed answer as LangChain's result, with the provider and request id it names."""
    return chat_result(
        answer.body,
        inference_provider=provider_header(answer.headers),
        request_id=request_id(answer.headers),
    )
