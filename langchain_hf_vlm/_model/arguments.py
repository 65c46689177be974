"""The constructor's argument names: what ChatOpenAI and ChatHuggingFace call a field of this
model, and a refusal that says what was meant for any other unknown name. Pure: no I/O.

pydantic drops unknown arguments silently, and a misspelt ``max_token=5`` must not be ignored.
Nor may the refusal send it to ``extra_body``: vLLM and TGI ignore request fields they do not
read, so the misspelling would be ignored one step later.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic.fields import FieldInfo

ALIASES: Mapping[str, str] = {
    # ChatOpenAI's field names (and aliases) for the same settings
    "model_name": "model",
    "openai_api_key": "api_key",
    "openai_api_base": "base_url",
    "request_timeout": "timeout",
    "max_completion_tokens": "max_tokens",
    "stop_sequences": "stop",
    # ChatHuggingFace's, and its HuggingFaceEndpoint's
    "model_id": "model",
    "repo_id": "model",
    "huggingfacehub_api_token": "api_key",
    "endpoint_url": "base_url",
    "max_new_tokens": "max_tokens",
}
"""Names other LangChain chat models give to a field of this one, with the same meaning."""

_SAMPLING_ELSEWHERE = (
    "a sampling parameter without a field here: vLLM reads it from extra_body={{{name!r}: ...}}; "
    "TGI's chat route and the router's providers may ignore it silently"
)
ADVICE: Mapping[str, str] = {
    "model_kwargs": "request parameters beyond the fields go in extra_body={...}, sent at the "
    "top level of the body (a server ignores, without an error, a name it does not read)",
    "openai_organization": "there are no OpenAI organisations here; the router bills an "
    "organisation named by bill_to=",
    "organization": "there are no OpenAI organisations here; the router bills an organisation "
    "named by bill_to=",
    "openai_proxy": "set HTTPS_PROXY, or pass http_client=httpx.Client(proxy=...)",
    "default_query": "write the query in base_url (it stays at the end of the chat URL)",
    "stream_chunk_timeout": "timeout= bounds the wait between two events of a stream",
    "llm": "ChatHuggingFaceVLM is the model itself: pass model= (and base_url= for your own "
    "server)",
    "tokenizer": "the server applies the chat template; nothing is tokenized on the client",
    "top_k": _SAMPLING_ELSEWHERE.format(name="top_k"),
    "repetition_penalty": _SAMPLING_ELSEWHERE.format(name="repetition_penalty"),
    "logit_bias": _SAMPLING_ELSEWHERE.format(name="logit_bias"),
}
"""Other names those models take, and what to do here instead."""


def with_field_names(fields: Mapping[str, FieldInfo], values: Any) -> Any:
    """``values`` with :data:`ALIASES` renamed to the fields they stand for; raises ValueError
    for any other argument that is no field, saying what was meant."""
    if not isinstance(values, Mapping):
        return values
    known = set(fields) | {info.alias for info in fields.values() if info.alias}
    renamed = dict(values)
    for name in values:
        field = ALIASES.get(name)
        if field is None or name in fields:
            continue
        if field in values:
            raise ValueError(
                f"ChatHuggingFaceVLM got both {field}= and {name}= (another chat model's name "
                f"for {field}); pass {field}= only"
            )
        renamed[field] = renamed.pop(name)
    unknown = sorted(str(name) for name in renamed if name not in known)
    if unknown:
        raise ValueError(
            "ChatHuggingFaceVLM got unknown arguments: "
            + "; ".join(_advice(name, known) for name in unknown)
        )
    return renamed


def _advice(name: str, known: set[str]) -> str:
    if name in ADVICE:
        return f"{name}: {ADVICE[name]}"
    close = difflib.get_close_matches(name, [*known, *ALIASES], n=1, cutoff=0.75)
    if close:
        meant = ALIASES.get(close[0], close[0])
        return f"{name}: did you mean {meant}?"
    return (
        f"{name}: not a field of ChatHuggingFaceVLM (see help(ChatHuggingFaceVLM)); a parameter "
        "your server documents beyond the fields goes in extra_body={...}, headers in "
        "default_headers={...}"
    )
