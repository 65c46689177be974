"""Which inference providers the Hugging Face router accepts, checked before sending.

The list comes from huggingface_hub's provider table, which is a private module
(``huggingface_hub.inference._providers``). The router learns providers before a given
huggingface_hub release does, so a name that list does not hold is sent with a warning, not
refused; a near miss of a known name (a typo) and a name that cannot be a provider are refused.
Should the table move, any provider name is accepted (the router then answers an unknown one
itself) with a warning.
"""

from __future__ import annotations

import difflib
import re
import warnings

from huggingface_hub import __version__ as hub_version

from langchain_hf_vlm._servers.dialects import REMOVED_PROVIDERS, ROUTER_POLICIES, _user_stacklevel

_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_TYPO_CUTOFF = 0.8
"""How alike a name must be to a known one to be taken for a typo of it (``difflib`` ratio:
"togther" and "together" are 0.93 alike, "fal-ai" and "fal" 0.67)."""


def check_provider(provider: str | None, model: str, base_url: str | None) -> None:
    """Refuse a provider choice that the router would refuse, or that contradicts itself; warn
    about a name the installed huggingface_hub does not know."""
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
    if provider in valid or len(valid) == len(ROUTER_POLICIES):  # no list: no check
        return
    typo_of = difflib.get_close_matches(provider, valid, n=1, cutoff=_TYPO_CUTOFF)
    if typo_of or not _PROVIDER_NAME.fullmatch(provider):
        hint = f"did you mean {typo_of[0]!r}? " if typo_of else ""
        raise ValueError(
            f"unknown provider {provider!r}; {hint}valid providers: {', '.join(valid)}"
        )
    warnings.warn(
        f"provider {provider!r} is not among those huggingface_hub {hub_version} knows "
        f"({', '.join(valid)}); it is sent to the router as is (a provider newer than this "
        "huggingface_hub works; the router refuses an unknown one)",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


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
