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
from pydantic.fields import FieldInfo

from langchain_hf_vlm._answers.answer import MODEL_PROVIDER
from langchain_hf_vlm._media.expand import MediaLimits
from langchain_hf_vlm._media.pdf import PdfLimits
from langchain_hf_vlm._media.refs import WireMessages
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._media.video import VideoLimits
from langchain_hf_vlm._request.auth import bearer_token, request_headers
from langchain_hf_vlm._request.body import SAMPLING_PARAMETERS, body_bytes, build_payload
from langchain_hf_vlm._request.reasoning import (
    FIELDS as REASONING_FIELDS,
)
from langchain_hf_vlm._request.reasoning import (
    ReasoningBack,
    ReasoningSettings,
    reasoning_parameters,
)
from langchain_hf_vlm._servers.dialects import Endpoint, resolve_endpoint
from langchain_hf_vlm._servers.providers import check_provider
from langchain_hf_vlm._wire.policy import Limits
from langchain_hf_vlm._wire.sender import ChatSender, PreparedRequest
from langchain_hf_vlm.errors import MissingTokenError

if TYPE_CHECKING:
    from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM


def refuse_unknown_arguments(fields: Mapping[str, FieldInfo], values: Any) -> Any:
    """``values`` unchanged; raises ValueError naming any argument that is no field (pydantic
    would drop it silently: a misspelt ``max_token=`` must not be ignored)."""
    if not isinstance(values, Mapping):
        return values
    known = set(fields) | {info.alias for info in fields.values() if info.alias}
    unknown = sorted(str(name) for name in values if name not in known)
    if unknown:
        raise ValueError(
            f"ChatHuggingFaceVLM got unknown arguments {unknown}; other request parameters "
            "go in extra_body={...}, headers in default_headers"
        )
    return values


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
    if llm.bill_to and not endpoint.hf_host:
        raise ValueError(f"bill_to applies to Hugging Face hosts only, not to {llm.base_url}")
    return endpoint


def identifying_params(llm: ChatHuggingFaceVLM) -> dict[str, Any]:
    """What identifies the model's answers (LangChain's ``_identifying_params``)."""
    return {
        "model": llm.model,
        "provider": llm.provider,
        "base_url": llm.base_url,
        "backend": llm.endpoint.dialect.name,
        **parameters(llm),
    }


def parameters(llm: ChatHuggingFaceVLM) -> dict[str, Any]:
    """The model's sampling parameters (None: not set, never sent)."""
    return {name: getattr(llm, name) for name in SAMPLING_PARAMETERS}


def reasoning_settings(llm: ChatHuggingFaceVLM, kwargs: Mapping[str, Any]) -> ReasoningSettings:
    """The reasoning fields of one call: its keyword arguments over the model's fields.

    Raises:
        ValueError: a call's value is not one the field takes.
    """
    return ReasoningSettings(
        **{
            name: kwargs[name] if name in kwargs else getattr(llm, name)
            for name in REASONING_FIELDS
        }
    )


def reasoning_back(llm: ChatHuggingFaceVLM, settings: ReasoningSettings) -> ReasoningBack:
    """Which assistant turns carry their reasoning back, on the field the server reads."""
    return ReasoningBack(
        llm.endpoint.dialect.reasoning_history_field, settings.reasoning_in_history
    )


def wire_model(llm: ChatHuggingFaceVLM, override: str | None) -> str:
    """The ``model`` of the body: with the provider suffix the router reads."""
    model = override or llm.model
    if llm.provider and llm.provider != "auto" and ":" not in model:
        return f"{model}:{llm.provider}"
    return model


def needs_dialect(llm: ChatHuggingFaceVLM, kwargs: Mapping[str, Any]) -> bool:
    """Whether this call depends on a dialect that is still a guess."""
    # The keys first: they are plain dict lookups, the endpoint a pydantic private attribute.
    return ("response_format" in kwargs or "tools" in kwargs) and not (llm.endpoint.dialect_known)


def token(llm: ChatHuggingFaceVLM) -> str | None:
    """The token for the model's endpoint under the token rule (``_request.auth``); a key named by
    ``api_key_env`` counts as given explicitly."""
    if llm.api_key_env is None:
        return bearer_token(llm.endpoint, llm.api_key, "api_key" in llm.model_fields_set)
    key = os.environ.get(llm.api_key_env)
    if not key:
        raise MissingTokenError(
            f"api_key_env={llm.api_key_env!r} names an environment variable that is not set"
        )
    return bearer_token(llm.endpoint, SecretStr(key), explicit=True)


def probe_headers(llm: ChatHuggingFaceVLM) -> dict[str, str]:
    """Headers of an identification GET."""
    return request_headers(
        llm.endpoint, token(llm), bill_to=None, default_headers=llm.default_headers
    )


def build_request(
    llm: ChatHuggingFaceVLM,
    wire: WireMessages,
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
    reasoning: ReasoningSettings | None = None,
) -> PreparedRequest:
    """The request for prepared wire messages and one call's ``stop``, keyword arguments and
    reasoning settings (None: the model's)."""
    call_kwargs = {key: value for key, value in kwargs.items() if key not in REASONING_FIELDS}
    override = call_kwargs.pop("model", None)
    stream_usage = call_kwargs.pop("stream_usage", llm.stream_usage)
    if stop is not None:
        call_kwargs["stop"] = stop
    endpoint = llm.endpoint
    body = build_payload(
        model=wire_model(llm, override),
        messages=wire.messages,
        parameters=parameters(llm),
        extra_body=llm.extra_body,
        call_kwargs=call_kwargs,
        stream=stream,
        stream_usage=stream_usage,
        dialect=endpoint.dialect,
        reasoning=reasoning_parameters(
            reasoning or reasoning_settings(llm, kwargs), endpoint.dialect
        ),
    )
    scale_up = endpoint.scale_up(llm.timeout)
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
        max_request_bytes=llm.max_request_bytes or llm.endpoint.dialect.max_request_bytes,
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
            request_timeout=llm.request_timeout,
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
