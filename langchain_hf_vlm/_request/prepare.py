"""The request a model sends: URL, headers (token rule, scale-up), body bytes, from the
model's :class:`RequestSettings` (values: nothing here takes the model). Pure: no I/O.

Shared by the sync and async entry points (through ``_model.invoke``), which differ only in how
images are prepared and how an unknown server is identified (both I/O) before
:func:`build_request`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import LangSmithParams

from langchain_hf_vlm._answers.answer import MODEL_PROVIDER
from langchain_hf_vlm._answers.reasoning import ThinkTags
from langchain_hf_vlm._families.table import Family, family_for
from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.geometry import image_geometry
from langchain_hf_vlm._request.auth import Credentials, request_headers
from langchain_hf_vlm._request.body import (
    SAMPLING_PARAMETERS,
    body_bytes,
    build_payload,
    refuse_several_choices,
)
from langchain_hf_vlm._request.reasoning import FIELDS as REASONING_FIELDS
from langchain_hf_vlm._request.reasoning import (
    ReasoningBack,
    ReasoningSettings,
    reasoning_parameters,
)
from langchain_hf_vlm._servers.dialects import Backend, Endpoint, resolve_endpoint
from langchain_hf_vlm._servers.providers import check_provider
from langchain_hf_vlm._wire.sender import PreparedRequest


@dataclass(frozen=True)
class ModelRequest(PreparedRequest):
    """A prepared request and what its answer reports of it."""

    images: list[dict[str, Any]] = field(default_factory=list)
    """``response_metadata["images"]``: :func:`~_media.geometry.image_geometry`."""
    think_tags: ThinkTags = "auto"
    """How the answer's ``<think>`` tags are read."""


@dataclass(slots=True, kw_only=True)  # not frozen: made on every call, and frozen costs ~4 µs
class RequestSettings:
    """What the model's fields say about every request it sends: made from them per call (so
    that a field changed on the model, or by ``model_copy``, takes effect at once)."""

    model: str
    family: Family
    """The model's family (``model_family``, or found from the id)."""
    adapt_to_model: bool
    """Adapt a request to the family's rules where that is safe (``adapt_to_model``)."""
    provider: str | None
    parameters: Mapping[str, Any]
    """The sampling parameters (None: not set, never sent)."""
    extra_body: Mapping[str, Any]
    stream_usage: bool
    bill_to: str | None
    default_headers: Mapping[str, str] | None
    credentials: Credentials
    timeout: float | None
    """Each network wait; an Inference Endpoint starting up may hold a request for a share of
    it (``X-Scale-Up-Timeout``)."""
    scale_up_timeout: float
    """How long a server that is starting up is waited for, from the first attempt."""
    streaming: bool
    reasoning: Mapping[str, Any]
    """The model's reasoning fields (:data:`~_request.reasoning.FIELDS`), which a call's
    keyword arguments override."""


def check_settings(
    settings: RequestSettings,
    *,
    base_url: str | None,
    backend: Backend,
    wait_for_scale_up: bool | None,
) -> Endpoint:
    """The endpoint of ``base_url``, once the rules across fields (which no field constraint can
    say) hold; raises ValueError naming the fields."""
    check_provider(settings.provider, settings.model, base_url)
    endpoint = resolve_endpoint(base_url, backend, wait_for_scale_up)
    if settings.credentials.env_name is not None and settings.credentials.explicit:
        raise ValueError("pass either api_key or api_key_env, not both")
    clashes = sorted(set(settings.extra_body) & {*SAMPLING_PARAMETERS, "model", "messages"})
    if clashes:
        raise ValueError(
            f"extra_body repeats {clashes}: set these as the model's own fields instead"
        )
    if settings.streaming:
        refuse_several_choices(settings.parameters.get("n"), "streaming=True")
    if settings.bill_to and not endpoint.hf_host:
        raise ValueError(f"bill_to applies to Hugging Face hosts only, not to {base_url}")
    return endpoint


def identifying_params(fields: Mapping[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    """What identifies the model's answers (LangChain's ``_identifying_params``), from the
    model's field values as they are now (asked on every call: no :class:`RequestSettings`
    made for it)."""
    params = {
        "model": fields["model"],
        "provider": fields["provider"],
        "base_url": fields["base_url"],
        "backend": endpoint.dialect.name,
    }
    for name in SAMPLING_PARAMETERS:
        params[name] = fields[name]
    return params


def reasoning_settings(settings: RequestSettings, kwargs: Mapping[str, Any]) -> ReasoningSettings:
    """The reasoning fields of one call: its keyword arguments over the model's fields.

    Raises:
        ValueError: a call's value is not one the field takes.
    """
    model = settings.reasoning
    values = [kwargs[name] if name in kwargs else model[name] for name in REASONING_FIELDS]
    try:
        return _reasoning(*values)
    except TypeError:  # unhashable: not a value any field takes; the settings say which
        return ReasoningSettings(**dict(zip(REASONING_FIELDS, values, strict=True)))


@functools.lru_cache(maxsize=256)  # a few distinct values per process, asked on every call
def _reasoning(*values: Any) -> ReasoningSettings:
    return ReasoningSettings(**dict(zip(REASONING_FIELDS, values, strict=True)))


def reasoning_back(endpoint: Endpoint, reasoning: ReasoningSettings) -> ReasoningBack:
    """Which assistant turns carry their reasoning back, on the field the server reads."""
    return ReasoningBack(endpoint.dialect.reasoning_history_field, reasoning.reasoning_in_history)


def call_family(settings: RequestSettings, kwargs: Mapping[str, Any]) -> Family:
    """The family of the model one call names: the model's own, or a per-call ``model=``
    other than it, found by its id."""
    override = kwargs.get("model")
    if not override or override == settings.model:
        return settings.family
    return family_for(override)


def wire_model(settings: RequestSettings, override: str | None) -> str:
    """The ``model`` of the body: with the provider suffix the router reads."""
    model = override or settings.model
    if settings.provider and settings.provider != "auto" and ":" not in model:
        return f"{model}:{settings.provider}"
    return model


def needs_dialect(endpoint: Endpoint, kwargs: Mapping[str, Any]) -> bool:
    """Whether this call depends on a dialect that is still a guess."""
    return ("response_format" in kwargs or "tools" in kwargs) and not endpoint.dialect_known


def probe_headers(settings: RequestSettings, endpoint: Endpoint) -> dict[str, str]:
    """Headers of an identification GET."""
    token = settings.credentials.token(endpoint)
    return request_headers(endpoint, token, bill_to=None, default_headers=settings.default_headers)


def build_request(
    settings: RequestSettings,
    endpoint: Endpoint,
    wire: WireMessages,
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
    reasoning: ReasoningSettings | None = None,
) -> ModelRequest:
    """The request for prepared wire messages and one call's ``stop``, keyword arguments and
    reasoning settings (None: the model's)."""
    reasoning = reasoning or reasoning_settings(settings, kwargs)
    call_kwargs = {key: value for key, value in kwargs.items() if key not in REASONING_FIELDS}
    override = call_kwargs.pop("model", None)
    stream_usage = call_kwargs.pop("stream_usage", settings.stream_usage)
    if stop is not None:
        call_kwargs["stop"] = stop
    body = build_payload(
        model=wire_model(settings, override),
        messages=wire.messages,
        parameters=settings.parameters,
        extra_body=settings.extra_body,
        call_kwargs=call_kwargs,
        stream=stream,
        stream_usage=stream_usage,
        dialect=endpoint.dialect,
        reasoning=reasoning_parameters(reasoning, endpoint.dialect),
    )
    scale_up = endpoint.scale_up(settings.timeout, settings.scale_up_timeout)
    headers = request_headers(
        endpoint,
        settings.credentials.token(endpoint),
        bill_to=settings.bill_to,
        default_headers=settings.default_headers,
    )
    return ModelRequest(
        endpoint.url,
        scale_up.with_header(headers),
        body_bytes(body),
        stream,
        scale_up,
        images=image_geometry(wire.images) if wire.images else [],
        think_tags=reasoning.reading,
    )


def ls_params(
    model: str, parameters: Mapping[str, Any], stop: list[str] | None, kwargs: Mapping[str, Any]
) -> LangSmithParams:
    """What LangSmith records of one call: the model and the main parameters in effect."""
    params = LangSmithParams(
        ls_provider=MODEL_PROVIDER,
        ls_model_name=kwargs.get("model") or model,
        ls_model_type="chat",
    )
    temperature = kwargs.get("temperature", parameters.get("temperature"))
    if temperature is not None:
        params["ls_temperature"] = temperature
    max_tokens = kwargs.get("max_tokens", parameters.get("max_tokens"))
    if max_tokens is not None:
        params["ls_max_tokens"] = max_tokens
    stop = stop or kwargs.get("stop") or parameters.get("stop")
    if stop:
        params["ls_stop"] = stop
    return params
