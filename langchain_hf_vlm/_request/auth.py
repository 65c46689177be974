"""Who gets which credentials: the token rule.

The Hugging Face token (an explicit ``api_key``, or else ``HF_TOKEN`` / the hub login) goes
to Hugging Face hosts only. Any other host receives only a key the user passed explicitly.
The ambient token (one the user did not pass) never goes over plain ``http://``, not even to
a Hugging Face host: anyone on the path could read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from huggingface_hub import get_token
from langchain_core.utils import secret_from_env
from pydantic import SecretStr

from langchain_hf_vlm._servers.dialects import Endpoint
from langchain_hf_vlm.errors import MissingTokenError

token_from_env = secret_from_env("HF_TOKEN", default=None)
"""``HF_TOKEN`` as a SecretStr, or None: the default of ``api_key``."""

_MISSING_TOKEN = (
    "No Hugging Face token found for the Inference Providers router. Set the HF_TOKEN "
    "environment variable, run `hf auth login`, or pass api_key='hf_...' to "
    "ChatHuggingFaceVLM. To use your own server instead, pass base_url='http://host:port'."
)


_PLAIN_HTTP = (
    "Refusing to send your Hugging Face token over plain HTTP to {url}: use https://, or pass "
    "api_key= explicitly if you really mean to send it there."
)


def bearer_token(endpoint: Endpoint, api_key: SecretStr | None, explicit: bool) -> str | None:
    """The token to send to ``endpoint``, or None; raises if the router gets none."""
    if explicit and api_key is not None:
        return api_key.get_secret_value()
    if not endpoint.hf_host:
        return None
    if not endpoint.url.lower().startswith("https://"):
        if endpoint.dialect.needs_token:
            raise MissingTokenError(_PLAIN_HTTP.format(url=endpoint.url))
        return None
    token = api_key.get_secret_value() if api_key is not None else get_token()
    if token is None and endpoint.dialect.needs_token:
        raise MissingTokenError(_MISSING_TOKEN)
    return token


@dataclass(slots=True, kw_only=True)  # not frozen: made on every call, and frozen costs ~4 µs
class Credentials:
    """The model's key and where it came from, as the token rule needs them."""

    api_key: SecretStr | None
    explicit: bool
    """The user passed ``api_key`` (rather than it coming from the environment)."""
    env_name: str | None = None
    """``api_key_env``: the variable holding the key, read at each request."""

    def token(self, endpoint: Endpoint) -> str | None:
        """The token for ``endpoint`` under the token rule; a key named by ``env_name`` counts
        as given explicitly."""
        if self.env_name is None:
            return bearer_token(endpoint, self.api_key, self.explicit)
        key = os.environ.get(self.env_name)
        if not key:
            raise MissingTokenError(
                f"api_key_env={self.env_name!r} names an environment variable that is not set"
            )
        return bearer_token(endpoint, SecretStr(key), explicit=True)


def request_headers(
    endpoint: Endpoint,
    token: str | None,
    *,
    bill_to: str | None,
    default_headers: Mapping[str, str] | None,
) -> dict[str, str]:
    """Headers of every request to ``endpoint``."""
    headers = {"content-type": "application/json", "accept": "application/json"}
    if default_headers:
        headers.update(default_headers)
    if token:
        headers["authorization"] = f"Bearer {token}"
    if bill_to and endpoint.hf_host:
        headers["x-hf-bill-to"] = bill_to
    return headers
