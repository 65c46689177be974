"""Which inference providers the Hugging Face router accepts, checked before sending.

The list comes from huggingface_hub's provider table, which is a private module
(``huggingface_hub.inference._providers``). Should it move, the check falls back to accepting
any provider name (the router then answers an unknown one itself) with a warning.
"""

from __future__ import annotations

import warnings

from langchain_hf_vlm._servers.dialects import REMOVED_PROVIDERS, ROUTER_POLICIES


def check_provider(provider: str | None, model: str, base_url: str | None) -> None:
    """Refuse a provider choice that the router would refuse, or that contradicts itself."""
    if provider in (None, "auto"):
        return
    if base_url is not None:
        raise ValueError(
            f"provider={provider!r} selects a provider on the Hugging Face router; it cannot be "
            "combined with base_url"
        )
    if ":" in model:
        raise ValueError(
            f"model {model!r} already names a provider or policy after ':'; drop provider="
        )
    valid = valid_providers()
    if provider in REMOVED_PROVIDERS:
        raise ValueError(
            f"provider {provider!r} was removed from Hugging Face Inference Providers; "
            f"valid providers: {', '.join(valid)}"
        )
    if provider in ROUTER_POLICIES or len(valid) == len(ROUTER_POLICIES):  # no list: no check
        return
    if provider not in valid:
        raise ValueError(f"unknown provider {provider!r}; valid providers: {', '.join(valid)}")


def valid_providers() -> list[str]:
    """Routing policies plus the providers that serve chat completions, as huggingface_hub
    knows them; only the policies if huggingface_hub's provider table cannot be read."""
    try:
        from huggingface_hub.inference._providers import PROVIDERS

        names = sorted(name for name, tasks in PROVIDERS.items() if "conversational" in tasks)
    except (ImportError, AttributeError, TypeError) as exc:
        warnings.warn(
            f"huggingface_hub's provider list is unavailable ({exc}); provider names are not "
            "checked before sending",
            RuntimeWarning,
            stacklevel=2,
        )
        names = []
    return [*ROUTER_POLICIES, *names]
