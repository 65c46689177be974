"""What a server says about the model it serves, read into LangChain's profile. Pure: the GET
itself is :func:`langchain_hf_vlm._servers.probes.get_json`'s (the only I/O of a refresh).

- vLLM: ``GET /v1/models`` lists each served model with ``max_model_len``, the context it
  enforces (``--max-model-len``), and ``root``, the path or repository it loaded (which names
  the family of a model served as ``--served-model-name``: :func:`served_root`).
- TGI and Inference Endpoints: ``GET /info`` has ``max_input_tokens``.
- The router: ``GET /v1/models/<id>`` lists the providers serving the model, each with its
  ``context_length`` and whether it supports tools and structured output; with a provider
  chosen, that provider's entry counts; with a policy, every live provider's (the router may
  pick any of them: the smallest context, tools and schemas only where all have them).
- Any other server (``transformers serve``): nothing to read; the profile stays.
"""

from __future__ import annotations

from typing import Any, cast

from langchain_core.language_models import ModelProfile

from langchain_hf_vlm._servers.dialects import ROUTER_POLICIES, Endpoint


def route(endpoint: Endpoint, model: str) -> str | None:
    """The URL that describes ``model`` on ``endpoint``'s server (None: none is known)."""
    name = endpoint.dialect.name
    if name == "router":
        return f"{endpoint.root}/v1/models/{model.split(':', 1)[0]}"
    if name == "vllm":
        return endpoint.root + "/v1/models"
    if name == "tgi":
        return endpoint.root + "/info"
    return None


def refreshed(
    profile: ModelProfile, endpoint: Endpoint, model: str, provider: str | None, answer: Any
) -> ModelProfile:
    """``profile`` with what the server's ``answer`` (from :func:`route`) says about
    ``model``; unchanged where it says nothing readable."""
    updates: dict[str, Any] = {}
    name = endpoint.dialect.name
    if name in ("vllm", "tgi"):  # identified, perhaps just now: what the server enforces
        updates["structured_output"] = endpoint.dialect.enforces_schemas
        tools = bool(profile.get("tool_calling"))
        updates["tool_choice"] = tools and endpoint.dialect.enforces_tool_choice
    if name == "vllm":
        updates |= _vllm(answer, model)
    elif name == "tgi" and isinstance(answer, dict):
        updates |= _positive(max_input_tokens=answer.get("max_input_tokens"))
    elif name == "router":
        chosen = model.split(":", 1)[1] if ":" in model else provider
        updates = _router(answer, None if chosen in (None, *ROUTER_POLICIES) else chosen)
    return cast(ModelProfile, {**profile, **updates})


def served_root(endpoint: Endpoint, model: str, answer: Any) -> str | None:
    """The path or repository a vLLM server loaded for ``model`` (its card's ``root``), from
    the answer of :func:`route`; None for other servers or where it does not say."""
    if endpoint.dialect.name != "vllm":
        return None
    root = (_vllm_card(answer, model) or {}).get("root")
    return root if isinstance(root, str) and root else None


def _vllm(answer: Any, model: str) -> dict[str, Any]:
    card = _vllm_card(answer, model)
    return {} if card is None else _positive(max_input_tokens=card.get("max_model_len"))


def _vllm_card(answer: Any, model: str) -> dict[str, Any] | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    for card in data if isinstance(data, list) else ():
        if isinstance(card, dict) and card.get("id") == model:
            return card
    return None


def _router(answer: Any, provider: str | None) -> dict[str, Any]:
    providers = answer.get("providers") if isinstance(answer, dict) else None
    entries = [
        entry
        for entry in (providers if isinstance(providers, list) else ())
        if isinstance(entry, dict)
        and (entry.get("provider") == provider if provider else entry.get("status") == "live")
    ]
    if not entries:
        return {}
    counts: list[int] = [
        entry["context_length"] for entry in entries if _is_count(entry.get("context_length"))
    ]
    updates: dict[str, Any] = {}
    if len(counts) == len(entries):
        updates["max_input_tokens"] = min(counts)
    tools = [entry.get("supports_tools") for entry in entries]
    if all(isinstance(flag, bool) for flag in tools):
        updates["tool_calling"] = updates["tool_choice"] = all(tools)
    schemas = [entry.get("supports_structured_output") for entry in entries]
    if all(isinstance(flag, bool) for flag in schemas):
        updates["structured_output"] = all(schemas)
    return updates


def _positive(**counts: Any) -> dict[str, int]:
    return {key: value for key, value in counts.items() if _is_count(value)}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
