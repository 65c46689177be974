"""The request body (model, messages, exactly the parameters the user set) and its bytes. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._request.reasoning import merge_reasoning
from langchain_hf_vlm._request.structured import response_format_for
from langchain_hf_vlm._servers.dialects import Dialect

SAMPLING_PARAMETERS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
    "n",
)
# Keys LangChain itself passes through **kwargs that are not server parameters.
_LANGCHAIN_INTERNAL_KWARGS = frozenset({"ls_structured_output_format", "stream_usage"})


def build_payload(
    *,
    model: str,
    messages: list[dict[str, Any]],
    parameters: Mapping[str, Any],
    extra_body: Mapping[str, Any],
    call_kwargs: Mapping[str, Any],
    stream: bool,
    stream_usage: bool,
    dialect: Dialect,
    reasoning: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the JSON body. ``model`` comes first so routers can pick a provider early.

    Precedence: per-call keyword arguments over ``extra_body`` over the model's fields; the
    ``reasoning`` controls (as the dialect writes them) must agree with both. A
    ``None`` value means "not set" and is never sent; ``stop=[]`` is "no stop sequences" and is
    not sent either (transformers serve fails on any ``stop`` for vision models).
    """
    body: dict[str, Any] = {"model": model, "messages": messages}
    for source in (parameters, extra_body, call_kwargs):
        for key, value in source.items():
            if key in _LANGCHAIN_INTERNAL_KWARGS:
                continue
            if value is None or (key == "stop" and value == []):
                body.pop(key, None)
                continue
            body[key] = value
    if reasoning:
        merge_reasoning(body, reasoning)
    if not dialect.accepts_top_p_one and body.get("top_p") == 1.0:
        raise ValueError(
            f"{dialect.name} rejects top_p=1.0 (it must be < 1.0); leave top_p unset for the "
            "same effect"
        )
    if "response_format" in body:
        body["response_format"] = response_format_for(body["response_format"], dialect)
        if "tools" in body and not dialect.response_format_with_tools:
            if body["tools"]:
                raise ValueError(
                    f"{dialect.name} cannot combine response_format with tools (it answers "
                    "422); use with_structured_output(method='function_calling') instead"
                )
            del body["tools"]
            body.pop("tool_choice", None)
    if stream:
        refuse_several_choices(body.get("n"))
        body["stream"] = True
        if stream_usage:
            options = dict(body.get("stream_options") or {})
            options.setdefault("include_usage", True)
            body["stream_options"] = options
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


def refuse_several_choices(n: Any, where: str = "a stream") -> None:
    """Raise ValueError if ``n`` asks for several choices where only one can be read (a stream
    interleaves the choices' deltas; ChatOpenAI refuses them too)."""
    if isinstance(n, int) and n > 1:
        raise ValueError(
            f"n={n} asks for {n} choices, but {where} carries one: use invoke() or generate() "
            "(generate() keeps every choice in generations), or leave n unset to stream"
        )


def body_bytes(body: dict[str, Any]) -> bytes:
    """The request body as compact JSON: each image ref of the messages written as its parts,
    image data URIs copied in as they are (see :func:`~langchain_hf_vlm._media.refs.json_bytes`)."""
    return json_bytes(body)
