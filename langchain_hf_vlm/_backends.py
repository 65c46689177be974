"""Where requests go and how each kind of server differs. One table, one place.

A *dialect* is what a server expects beyond the common chat-completion protocol. The
differences are data in :data:`DIALECTS`, read by the payload builder; nothing else in the
package branches on the kind of server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from huggingface_hub import constants

Backend = Literal["auto", "router", "tgi", "vllm", "openai"]

ROUTER_URL = constants.INFERENCE_PROXY_TEMPLATE.format(provider="v1") + "/chat/completions"
ROUTER_POLICIES = ("auto", "fastest", "cheapest")
REMOVED_PROVIDERS = ("hyperbolic", "nebius", "sambanova")
_HF_HOST_SUFFIXES = (".huggingface.co", ".endpoints.huggingface.cloud", ".hf.space")
_HF_HOSTS = ("huggingface.co",)


@dataclass(frozen=True)
class Dialect:
    """What one kind of server needs that the plain protocol does not say."""

    name: str
    json_schema_wire: Literal["openai", "tgi"]
    """How a JSON-schema response format is written: OpenAI's shape or TGI's grammar."""
    response_format_with_tools: bool
    """Whether ``response_format`` may travel together with ``tools`` (TGI answers 422)."""
    accepts_top_p_one: bool
    """TGI rejects ``top_p=1.0`` with 422."""
    max_request_bytes: int | None
    """The server's default request body limit, if it has a known one (TGI: 2 MB)."""


DIALECTS: dict[str, Dialect] = {
    "router": Dialect("router", "openai", True, True, None),
    "tgi": Dialect("tgi", "tgi", False, False, 2_000_000),
    "vllm": Dialect("vllm", "openai", True, True, None),
    "openai": Dialect("openai", "openai", True, True, None),
}


@dataclass(frozen=True)
class Endpoint:
    """The resolved target of a model: URL, dialect, and whether it is a Hugging Face host."""

    url: str
    dialect: Dialect
    hf_host: bool
    dialect_known: bool = True
    """False when the dialect was guessed; a probe of ``/info`` can then tell TGI apart."""

    @property
    def info_url(self) -> str:
        """TGI's ``/info`` route on the same server."""
        return self.url.removesuffix("/chat/completions").removesuffix("/v1") + "/info"

    def identified(self, info: object) -> Endpoint:
        """This endpoint with its dialect settled by the answer of :attr:`info_url`."""
        is_tgi = isinstance(info, dict) and "model_id" in info and "version" in info
        dialect = DIALECTS["tgi"] if is_tgi else self.dialect
        return Endpoint(self.url, dialect, self.hf_host, dialect_known=True)


def is_hf_host(url: str) -> bool:
    """Whether the URL's host belongs to Hugging Face (router, Hub, Inference Endpoints)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in _HF_HOSTS or host.endswith(_HF_HOST_SUFFIXES)


def chat_completions_url(base_url: str) -> str:
    """Complete a server's base URL (with or without ``/v1``) to its chat-completions route."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def resolve_endpoint(base_url: str | None, backend: Backend) -> Endpoint:
    """The endpoint for a base URL (None: the Inference Providers router) and backend choice."""
    if base_url is None:
        if backend not in ("auto", "router"):
            raise ValueError(f"backend={backend!r} needs a base_url")
        return Endpoint(ROUTER_URL, DIALECTS["router"], hf_host=True)
    scheme = urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    url = chat_completions_url(base_url)
    hf_host = is_hf_host(url)
    known = True
    if backend == "auto":
        host = (urlsplit(url).hostname or "").lower()
        if host == urlsplit(ROUTER_URL).hostname:
            backend = "router"
        elif host.endswith(".endpoints.huggingface.cloud"):
            backend = "tgi"
        else:
            backend, known = "openai", False
    return Endpoint(url, DIALECTS[backend], hf_host=hf_host, dialect_known=known)
