"""The request a model sends: URL, headers (token rule, scale-up), body bytes; the settings,
transport and LangSmith parameters derived from the model's fields. Pure: no I/O.

Shared by the sync and async entry points (through ``_model.invoke``), which differ only in how
images are prepared and how an unknown server is identified (both I/O) before
:func:`build_request`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import LangSmithParams
from pydantic import SecretStr

from langchain_hf_vlm._answers.answer import MODEL_PROVIDER
from langchain_hf_vlm._media.expand import MediaLimits
from langchain_hf_vlm._media.pdf import PdfLimits
from langchain_hf_vlm._media.refs import WireMessages
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._media.video import VideoLimits
from langchain_hf_vlm._request.auth import bearer_token, request_headers
from langchain_hf_vlm._request.body import (
    SAMPLING_PARAMETERS,
    body_bytes,
    build_payload,
    refuse_several_choices,
)
from langchain_hf_vlm._servers.dialects import Endpoint, resolve_endpoint
from langchain_hf_vlm._servers.providers import check_provider
from langchain_hf_vlm._wire.policy import Limits
from langchain_hf_vlm._wire.sender import ChatSender, PreparedRequest
from langchain_hf_vlm.errors import MissingTokenError

if TYPE_CHECKING:
    from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM


def checked_endpoint(llm: ChatHuggingFaceVLM) -> Endpoint:
    """The model's endpoint, once the rules across fields (which no field constraint can say)
    hold; raises ValueError naming the fields."""
    check_provider(llm.provider, llm.model, llm.base_url)
    endpoint = resolve_endpoint(llm.base_url, llm.backend, llm.wait_for_scale_up)
    if llm.api_key_env is not None and "api_key" in llm.model_fields_set:
        raise ValueError("pass either api_key or api_key_env, not both")
    clashes = sorted(set(llm.extra_body) & {*SAMPLING_PARAMETERS, "model", "messages"})
    if clashes:
        raise ValueError(
            f"extra_body repeats {clashes}: set these as the model's own fields instead"
        )
    if llm.streaming:
        refuse_several_choices(llm.n, "streaming=True")
    if llm.bill_to and not endpoint.hf_host:
        raise ValueError(f"bill_to applies to Hugging Face hosts only, not to {llm.base_url}")
    return endpoint


def identifying_params(llm: ChatHuggingFaceVLM) -> dict[str, Any]:
    """What identifies the model's answers (LangChain's ``_identifying_params``)."""
    return {
        "model": llm.model,
        "provider": llm.provider,
        "base_url": llm.base_url,
        "backend": llm._target.dialect.name,
        **parameters(llm),
    }


def parameters(llm: ChatHuggingFaceVLM) -> dict[str, Any]:
    """The model's sampling parameters (None: not set, never sent)."""
    return {name: getattr(llm, name) for name in SAMPLING_PARAMETERS}


def wire_model(llm: ChatHuggingFaceVLM, override: str | None) -> str:
    """The ``model`` of the body: with the provider suffix the router reads."""
    model = override or llm.model
    if llm.provider and llm.provider != "auto" and ":" not in model:
        return f"{model}:{llm.provider}"
    return model


def needs_dialect(llm: ChatHuggingFaceVLM, kwargs: Mapping[str, Any]) -> bool:
    """Whether this call depends on a dialect that is still a guess."""
    # The keys first: they are plain dict lookups, the endpoint a pydantic private attribute.
    return ("response_format" in kwargs or "tools" in kwargs) and not (llm._target.dialect_known)


def token(llm: ChatHuggingFaceVLM) -> str | None:
    """The token for the model's endpoint under the token rule (``_request.auth``); a key named by
    ``api_key_env`` counts as given explicitly."""
    if llm.api_key_env is None:
        return bearer_token(llm._target, llm.api_key, "api_key" in llm.model_fields_set)
    key = os.environ.get(llm.api_key_env)
    if not key:
        raise MissingTokenError(
            f"api_key_env={llm.api_key_env!r} names an environment variable that is not set"
        )
    return bearer_token(llm._target, SecretStr(key), explicit=True)


def probe_headers(llm: ChatHuggingFaceVLM) -> dict[str, str]:
    """Headers of an identification GET."""
    return request_headers(
        llm._target, token(llm), bill_to=None, default_headers=llm.default_headers
    )


def build_request(
    llm: ChatHuggingFaceVLM,
    wire: WireMessages,
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
) -> PreparedRequest:
    """The request for prepared wire messages and one call's ``stop`` and keyword arguments."""
    call_kwargs = dict(kwargs)
    override = call_kwargs.pop("model", None)
    stream_usage = call_kwargs.pop("stream_usage", llm.stream_usage)
    if stop is not None:
        call_kwargs["stop"] = stop
    endpoint = llm._target
    body = build_payload(
        model=wire_model(llm, override),
        messages=wire.messages,
        parameters=parameters(llm),
        extra_body=llm.extra_body,
        call_kwargs=call_kwargs,
        stream=stream,
        stream_usage=stream_usage,
        dialect=endpoint.dialect,
    )
    scale_up = endpoint.scale_up(llm.timeout, llm.scale_up_timeout)
    headers = request_headers(
        endpoint, token(llm), bill_to=llm.bill_to, default_headers=llm.default_headers
    )
    return PreparedRequest(
        endpoint.url, scale_up.with_header(headers), body_bytes(body), stream, scale_up
    )


def image_settings(llm: ChatHuggingFaceVLM) -> ImageSettings:
    """How the model's images are prepared (the request size guard included)."""
    return ImageSettings(
        max_pixels=llm.image_max_pixels,
        max_side=llm.image_max_side,
        max_request_bytes=llm.max_request_bytes or llm._target.dialect.max_request_bytes,
        fetch_urls=llm.fetch_image_urls,
        fetch_timeout=llm.image_fetch_timeout,
        fetch_max_bytes=llm.image_fetch_max_bytes,
        fetch_allow_private=llm.image_fetch_allow_private,
        max_input_pixels=llm.image_max_input_pixels,
        jpeg_quality=llm.image_jpeg_quality,
        cache_bytes=llm.image_cache_bytes,
    )


def media_limits(llm: ChatHuggingFaceVLM) -> MediaLimits:
    """How the model's documents, videos and text files become parts."""
    return MediaLimits(
        pdf=PdfLimits(
            max_pages=llm.pdf_max_pages,
            text_layer=llm.pdf_text_layer,
            max_bytes=llm.pdf_max_bytes,
            render_timeout=llm.pdf_render_timeout,
        ),
        video=VideoLimits(
            max_frames=llm.video_max_frames,
            frames_per_second=llm.video_frames_per_second,
            max_seconds=llm.video_max_seconds,
            max_bytes=llm.video_max_bytes,
        ),
        text_max_bytes=llm.text_file_max_bytes,
    )


def transport(llm: ChatHuggingFaceVLM) -> ChatSender:
    """The model's transport: its clients (none made yet), timeouts, retries and read limits."""
    return ChatSender(
        timeout=llm.timeout,
        max_retries=llm.max_retries,
        http_client=llm.http_client,
        http_async_client=llm.http_async_client,
        limits=Limits(
            timeout=llm.timeout,
            total_timeout=llm.total_timeout,
            max_response_bytes=llm.max_response_bytes,
            max_event_bytes=llm.max_stream_event_bytes,
        ),
    )


def ls_params(
    llm: ChatHuggingFaceVLM, stop: list[str] | None, kwargs: Mapping[str, Any]
) -> LangSmithParams:
    """What LangSmith records of one call: the model and the main parameters in effect."""
    params = LangSmithParams(
        ls_provider=MODEL_PROVIDER,
        ls_model_name=kwargs.get("model") or llm.model,
        ls_model_type="chat",
    )
    temperature = kwargs.get("temperature", llm.temperature)
    if temperature is not None:
        params["ls_temperature"] = temperature
    max_tokens = kwargs.get("max_tokens", llm.max_tokens)
    if max_tokens is not None:
        params["ls_max_tokens"] = max_tokens
    stop = stop or kwargs.get("stop") or llm.stop
    if stop:
        params["ls_stop"] = stop
    return params
