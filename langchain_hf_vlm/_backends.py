"""Where requests go and how each kind of server differs. One table, one place.

A *dialect* is what a server expects beyond the common chat-completion protocol. The
differences are data in :data:`DIALECTS`, read by the payload builder; nothing else in the
package branches on the kind of server.

Hosts differ too: an Inference Endpoint may be scaled to zero. Its proxy answers 503 while a
replica starts, unless the request carries ``X-Scale-Up-Timeout``, in which case the proxy
holds the request for up to that many seconds
(https://huggingface.co/docs/inference-endpoints/guides/autoscaling). The transport waits
for such an endpoint within the model's timeout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from huggingface_hub import constants

Backend = Literal["auto", "router", "tgi", "vllm", "openai"]

ROUTER_URL = constants.INFERENCE_PROXY_TEMPLATE.format(provider="v1") + "/chat/completions"
ROUTER_POLICIES = ("auto", "fastest", "cheapest")
REMOVED_PROVIDERS = ("hyperbolic", "nebius", "sambanova")
INFERENCE_ENDPOINTS_SUFFIX = ".endpoints.huggingface.cloud"
_HF_HOST_SUFFIXES = (".huggingface.co", INFERENCE_ENDPOINTS_SUFFIX, ".hf.space")
_HF_HOSTS = ("huggingface.co",)
SCALE_UP_HEADER = "X-Scale-Up-Timeout"
SCALE_UP_WAIT_WITHOUT_TIMEOUT = 600.0
"""How long to wait for a server to start when the model has no timeout (the documentation's
example value of ``X-Scale-Up-Timeout``)."""
_SCALE_UP_SHARE = 0.9
"""The proxy may hold a request for this share of the client's timeout, so that its answer
arrives before the client stops waiting for the first byte."""


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
    wait_for_scale_up: bool | None = None
    """The user's choice about scaled-to-zero handling; None leaves it to the host rule."""

    @property
    def scales_to_zero(self) -> bool:
        """Whether the server may be a scaled-to-zero Inference Endpoint whose 503 answers
        mean "a replica is starting"."""
        if self.wait_for_scale_up is not None:
            return self.wait_for_scale_up
        return is_inference_endpoint(self.url)

    def with_scale_up_header(
        self, headers: Mapping[str, str], timeout: float | None
    ) -> dict[str, str]:
        """``headers`` plus ``X-Scale-Up-Timeout`` for an endpoint that may be scaled to zero,
        unless the caller already set that header."""
        merged = dict(headers)
        if not self.scales_to_zero or SCALE_UP_HEADER.lower() in map(str.lower, merged):
            return merged
        if timeout is None:
            seconds = int(SCALE_UP_WAIT_WITHOUT_TIMEOUT)
        else:
            seconds = max(1, int(timeout * _SCALE_UP_SHARE))
        merged[SCALE_UP_HEADER] = str(seconds)
        return merged

    @property
    def info_url(self) -> str:
        """TGI's ``/info`` route on the same server."""
        return self.probe_urls[0]

    @property
    def probe_urls(self) -> tuple[str, ...]:
        """The routes of :data:`PROBES` on the same server, in order."""
        root = self.url.removesuffix("/chat/completions").removesuffix("/v1")
        return tuple(root + path for path, _, _ in PROBES)

    def identified(self, *answers: object) -> Endpoint:
        """This endpoint with its dialect settled by the answers of :attr:`probe_urls` (in
        order, up to the one that named a dialect; none named: the guess stands)."""
        dialect = recognised(answers) or self.dialect
        return Endpoint(self.url, dialect, self.hf_host, True, self.wait_for_scale_up)


def _is_tgi_info(answer: object) -> bool:
    return isinstance(answer, dict) and "model_id" in answer and "version" in answer


def _is_vllm_model_list(answer: object) -> bool:
    data = answer.get("data") if isinstance(answer, dict) else None
    return isinstance(data, list) and any(
        isinstance(model, dict) and model.get("owned_by") == "vllm" for model in data
    )


PROBES: tuple[tuple[str, str, Callable[[object], bool]], ...] = (
    ("/info", "tgi", _is_tgi_info),  # TGI's own route: model_id and version
    # vLLM's OpenAI route lists every served model as owned_by "vllm" (its /version, with only
    # {"version": ...}, is a shape other servers share)
    ("/v1/models", "vllm", _is_vllm_model_list),
)
"""How a server of unknown kind is recognised: a route to GET, the dialect it reveals, and the
test of its JSON answer. Asked in order, once per model, before a request that depends on it."""


def recognised(answers: Sequence[object]) -> Dialect | None:
    """The dialect named by the answers to the first ``len(answers)`` probes, if any."""
    for (_, name, matches), answer in zip(PROBES, answers, strict=False):  # fewer answers
        if matches(answer):
            return DIALECTS[name]
    return None


@functools.lru_cache(maxsize=256)  # pure, and asked on every request
def is_hf_host(url: str) -> bool:
    """Whether the URL's host belongs to Hugging Face (router, Hub, Inference Endpoints)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in _HF_HOSTS or host.endswith(_HF_HOST_SUFFIXES)


@functools.lru_cache(maxsize=256)
def is_inference_endpoint(url: str) -> bool:
    """Whether the URL's host is an Inference Endpoint (``*.endpoints.huggingface.cloud``)."""
    return (urlsplit(url).hostname or "").lower().endswith(INFERENCE_ENDPOINTS_SUFFIX)


def scale_up_wait(timeout: float | None) -> float:
    """Seconds to wait, since the first attempt, for a server that answers "starting up"."""
    return SCALE_UP_WAIT_WITHOUT_TIMEOUT if timeout is None else timeout


def chat_completions_url(base_url: str) -> str:
    """Complete a server's base URL (with or without ``/v1``) to its chat-completions route."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def resolve_endpoint(
    base_url: str | None, backend: Backend, wait_for_scale_up: bool | None = None
) -> Endpoint:
    """The endpoint for a base URL (None: the Inference Providers router), backend choice and
    scaled-to-zero choice (None: decided by the host)."""
    if base_url is None:
        if backend not in ("auto", "router"):
            raise ValueError(f"backend={backend!r} needs a base_url")
        if wait_for_scale_up:
            raise ValueError("wait_for_scale_up applies to an Inference Endpoint's base_url")
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
        elif is_inference_endpoint(url):
            backend = "tgi"
        else:
            backend, known = "openai", False
    return Endpoint(url, DIALECTS[backend], hf_host, known, wait_for_scale_up)
