"""What the four entry points of the chat model share around the sender: the request prepared
from LangChain messages (and checked against the model's rules, :mod:`_families.rules`), and an
answer read into a result that also says the size of each image as given and as sent
(``response_metadata["images"]``). Takes the model's values (:class:`Parts`), never the model.

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
from langchain_hf_vlm._families.rules import adapts, check_request, merge_runs
from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm._request.prepare import (
    ModelRequest,
    RequestSettings,
    build_request,
    call_family,
    needs_dialect,
    probe_headers,
    reasoning_back,
    reasoning_settings,
)
from langchain_hf_vlm._servers.dialects import Endpoint
from langchain_hf_vlm._servers.probes import aidentify, identify
from langchain_hf_vlm._wire.failures import request_id
from langchain_hf_vlm._wire.sender import Answer, ChatSender


@dataclass(slots=True)
class Parts:
    """One call's view of the model: its request settings and its live parts."""

    settings: RequestSettings
    endpoint: Endpoint
    images: ImagePipeline
    sender: ChatSender


class Prepared(NamedTuple):
    """A prepared request, and the endpoint it goes to (identified, if the call needed it)."""

    request: ModelRequest
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
    reasoning = reasoning_settings(parts.settings, kwargs)
    wire = to_wire_messages(messages, reasoning_back(parts.endpoint, reasoning))
    parts.images.prepare(wire)
    _keep_rules(parts.settings, messages, wire, kwargs)
    endpoint = parts.endpoint
    if needs_dialect(endpoint, kwargs):
        endpoint = identify(parts.sender, endpoint, probe_headers(parts.settings, endpoint))
    request = build_request(
        parts.settings, endpoint, wire, stop, kwargs, stream=stream, reasoning=reasoning
    )
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
    reasoning = reasoning_settings(parts.settings, kwargs)
    wire = to_wire_messages(messages, reasoning_back(parts.endpoint, reasoning))
    await parts.images.aprepare(wire)
    _keep_rules(parts.settings, messages, wire, kwargs)
    endpoint = parts.endpoint
    if needs_dialect(endpoint, kwargs):
        headers = probe_headers(parts.settings, endpoint)
        endpoint = await aidentify(parts.sender, endpoint, headers)
    request = build_request(
        parts.settings, endpoint, wire, stop, kwargs, stream=stream, reasoning=reasoning
    )
    return Prepared(request, endpoint)


def _keep_rules(
    settings: RequestSettings,
    messages: list[BaseMessage],
    wire: WireMessages,
    kwargs: Mapping[str, Any],
) -> None:
    """Refuse a request that breaks a rule of the model's family, or adapt it where that is
    safe and asked for (``adapt_to_model``)."""
    family = call_family(settings, kwargs)
    adapt = settings.adapt_to_model
    check_request(family, kwargs.get("model") or settings.model, messages, wire.images, adapt=adapt)
    if adapt and adapts(family):
        merge_runs(wire)


def result(request: ModelRequest, answer: Answer) -> ChatResult:
    """A non-streamed answer as LangChain's result, with the provider and request id it names,
    its ``<think>`` tags read as the request says."""
    chat = chat_result(
        answer.body,
        inference_provider=provider_header(answer.headers),
        request_id=request_id(answer.headers),
        think_tags=request.think_tags,
    )
    if request.images:
        for generation in chat.generations:
            generation.message.response_metadata["images"] = request.images
    return chat
