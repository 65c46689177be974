"""Where requests go and how each kind of server differs. One table per kind of difference.

Request side, as data read by the code that needs it (nothing else branches on the server):

- :data:`DIALECTS`: what a kind of server expects beyond the common chat-completion protocol
  (one keyword-built :class:`Dialect` each; a new backend is one entry).
- :data:`FINGERPRINTS`: how a server of unknown kind is identified by one GET.
- :data:`MOVED_HOSTS`: hosts that were retired, and where their requests go now.
- :class:`~_wire.retry.ScaleUpPolicy`: how long a server that is starting up is waited for,
  made by the :class:`Endpoint`. An Inference Endpoint may be scaled to zero: its proxy
  answers 503 while a replica starts, unless the request carries ``X-Scale-Up-Timeout``, in
  which case the proxy holds the request for up to that many seconds
  (https://huggingface.co/docs/inference-endpoints/guides/autoscaling).

Answer side, the tolerant readers (each accepts every shape the supported servers send):

- ``_answers.tool_calls``: tool-call arguments as JSON text or objects, missing or repeated
  call ids, TGI's pseudo-tools (``notify_error``, ``no_tool``).
- ``_answers.shape``: reasoning under ``reasoning`` or ``reasoning_content``; content as text or
  a list of blocks.
- ``_answers.reasoning``: reasoning as ``<think>...</think>`` in the content (servers without a
  reasoning parser), or up to a lone ``</think>`` (templates that open it in the prompt).
- ``_answers.usage``: token counts as integers or integral floats; a wrong count drops the
  usage only.
- ``_answers.chunks``: usage in a final chunk, on the last content chunk or cumulative; one
  call's pieces sent as two entries of one delta (vLLM), ``null`` arguments streamed as text.
- ``_wire.sse``: ``data:`` with or without the space, ``[DONE]`` or none, keep-alive comments,
  ``event: error`` frames, JSON spread over several ``data:`` lines.
- ``_wire.failures``: error bodies from TGI, OpenAI/vLLM, FastAPI (``detail`` lists), plain text;
  context-overflow wordings of each server; ``Retry-After`` as seconds or HTTP date.
- ``_wire.sender``: an error answered with status 200 as JSON (where a stream was asked for too),
  uvicorn dropping a connection after a 500.
- ``_wire.stream_items``: error events inside a stream, even beside choices (OpenRouter).
- ``_wire.retry``: 503 bodies that say the model is loading.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from huggingface_hub import constants

from langchain_hf_vlm._wire.retry import DEFAULT_SCALE_UP_WAIT, ScaleUpPolicy

Backend = Literal["auto", "router", "tgi", "vllm", "openai"]

ROUTER_URL = constants.INFERENCE_PROXY_TEMPLATE.format(provider="v1") + "/chat/completions"
ROUTER_POLICIES = ("auto", "fastest", "cheapest", "preferred")
"""Router policies instead of a provider: the router's choice, the fastest or cheapest provider,
or the first of the user's preferred providers in their settings (in order)."""
REMOVED_PROVIDERS = ("hyperbolic", "nebius", "sambanova")
INFERENCE_ENDPOINTS_SUFFIX = ".endpoints.huggingface.cloud"
_HF_HOST_SUFFIXES = (".huggingface.co", INFERENCE_ENDPOINTS_SUFFIX, ".hf.space")
_HF_HOSTS = ("huggingface.co",)
_SCALE_UP_SHARE = 0.9
"""The proxy may hold a request for this share of the client's timeout, so that its answer
arrives before the client stops waiting for the first byte."""


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """What one kind of server needs that the plain protocol does not say."""

    name: str
    json_schema_wire: Literal["openai", "tgi"] = "openai"
    """How a JSON-schema response format is written: OpenAI's shape or TGI's grammar."""
    response_format_with_tools: bool = True
    """Whether ``response_format`` may travel together with ``tools`` (TGI answers 422)."""
    accepts_top_p_one: bool = True
    """TGI rejects ``top_p=1.0`` with 422."""
    max_request_bytes: int | None = None
    """The server's default request body limit, if it has a known one (TGI: 2 MB)."""
    needs_token: bool = False
    """Requests without a token are refused before sending (the router answers 401)."""
    enforces_tool_choice: bool = True
    """A forced ``tool_choice`` is honoured (``llm.profile["tool_choice"]``)."""
    enforces_schemas: bool = True
    """``response_format`` schemas constrain decoding (``llm.profile["structured_output"]``)."""
    takes_reasoning_effort: bool = True
    """Whether the server reads a top-level ``reasoning_effort`` (the router's spec, vLLM and
    SGLang do; TGI has no reasoning control and would ignore it)."""
    thinking_switch: Literal["chat_template_kwargs", "reasoning_effort"] | None = (
        "chat_template_kwargs"
    )
    """How thinking is switched on or off: vLLM and SGLang pass ``chat_template_kwargs`` to
    the chat template; the router's spec has only ``reasoning_effort`` ("none" is off); None:
    no way (TGI)."""
    reasoning_history_field: str | None = "reasoning_content"
    """The field of an assistant message in the history that carries its reasoning back: the
    one the chat templates read (GLM, Kimi, Qwen3) and that DeepSeek, Kimi and GLM providers
    require on tool-call turns. None: the server drops it (TGI renders only role, content and
    tool calls), so it is not sent."""


DIALECTS: dict[str, Dialect] = {
    "router": Dialect(name="router", needs_token=True, thinking_switch="reasoning_effort"),
    "tgi": Dialect(
        name="tgi",
        json_schema_wire="tgi",
        response_format_with_tools=False,
        accepts_top_p_one=False,
        max_request_bytes=2_000_000,
        takes_reasoning_effort=False,
        thinking_switch=None,
        reasoning_history_field=None,
    ),
    "vllm": Dialect(name="vllm"),
    # Unknown until identified: ``transformers serve`` ignores both (measured, 5.24).
    "openai": Dialect(name="openai", enforces_tool_choice=False, enforces_schemas=False),
}


def _is_tgi_info(answer: object) -> bool:
    return isinstance(answer, dict) and {"model_id", "version"} <= answer.keys()


def _is_vllm_model_list(answer: object) -> bool:
    data = answer.get("data") if isinstance(answer, dict) else None
    return isinstance(data, list) and any(
        isinstance(model, dict) and model.get("owned_by") == "vllm" for model in data
    )


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    """A GET on the server's root that identifies its dialect."""

    route: str
    test: Callable[[object], bool]
    """Whether the JSON answer of ``route`` identifies the dialect."""
    dialect: str

    def matches(self, answer: object) -> bool:
        return self.test(answer)


FINGERPRINTS = (
    # TGI's own route: model_id and version
    Fingerprint(route="/info", test=_is_tgi_info, dialect="tgi"),
    # vLLM's OpenAI route lists every served model as owned_by "vllm" (its /version, with only
    # {"version": ...}, is a shape other servers share)
    Fingerprint(route="/v1/models", test=_is_vllm_model_list, dialect="vllm"),
)
"""Tried in order on a server whose dialect was guessed; the first match settles it."""


@dataclass(frozen=True, kw_only=True)
class MovedHost:
    """A retired host: its requests go to ``url`` instead, with a one-time warning."""

    host: str
    url: str
    note: str


MOVED_HOSTS = {
    moved.host: moved
    for moved in (
        MovedHost(
            host="api-inference.huggingface.co",
            url=ROUTER_URL,
            note="the serverless Inference API was retired; its chat completions are served "
            "by the Inference Providers router",
        ),
    )
}
_warned_moves: set[str] = set()


@dataclass(frozen=True)
class Endpoint:
    """The resolved target of a model: URL, dialect, and whether it is a Hugging Face host."""

    url: str
    dialect: Dialect
    hf_host: bool
    dialect_known: bool = True
    """False when the dialect was guessed; :data:`FINGERPRINTS` can then settle it."""
    wait_for_scale_up: bool | None = field(default=None, kw_only=True)
    """The user's choice about scaled-to-zero handling; None leaves it to the host rule."""

    def scale_up(self, timeout: float | None, wait: float = DEFAULT_SCALE_UP_WAIT) -> ScaleUpPolicy:
        """The policy for a server that is starting up, given the model's ``timeout`` (each
        network wait) and ``scale_up_timeout`` (``wait``, the whole wait for the server)."""
        asleep = self.wait_for_scale_up
        if asleep is None:
            asleep = is_inference_endpoint(self.url)
        header = None
        if asleep:
            hold = wait if timeout is None else min(wait, timeout * _SCALE_UP_SHARE)
            header = max(1, int(hold))
        return ScaleUpPolicy(asleep_when_503=asleep, wait_budget=wait, header_seconds=header)

    @property
    def root(self) -> str:
        """The server's root, where fingerprint routes live."""
        return self.url.removesuffix("/chat/completions").removesuffix("/v1")

    def identified(self, dialect: str | None) -> Endpoint:
        """This endpoint with its dialect settled (None: the guess stands)."""
        settled = self.dialect if dialect is None else DIALECTS[dialect]
        return replace(self, dialect=settled, dialect_known=True)


@functools.lru_cache(maxsize=256)  # pure, and asked on every request
def is_hf_host(url: str) -> bool:
    """Whether the URL's host belongs to Hugging Face (router, Hub, Inference Endpoints)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in _HF_HOSTS or host.endswith(_HF_HOST_SUFFIXES)


@functools.lru_cache(maxsize=256)
def is_inference_endpoint(url: str) -> bool:
    """Whether the URL's host is an Inference Endpoint (``*.endpoints.huggingface.cloud``)."""
    return (urlsplit(url).hostname or "").lower().endswith(INFERENCE_ENDPOINTS_SUFFIX)


def chat_completions_url(base_url: str) -> str:
    """Complete a server's base URL (with or without ``/v1``) to its chat-completions route;
    a query (``?api-version=...``) stays at the end."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions" if path.endswith("/v1") else "/v1/chat/completions"
    return urlunsplit(parts._replace(path=path))


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
    url = _moved(chat_completions_url(base_url))
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
    return Endpoint(url, DIALECTS[backend], hf_host, known, wait_for_scale_up=wait_for_scale_up)


def _moved(url: str) -> str:
    """``url``, or where its retired host's requests go now (warned about once per host)."""
    moved = MOVED_HOSTS.get((urlsplit(url).hostname or "").lower())
    if moved is None:
        return url
    if moved.host not in _warned_moves:
        _warned_moves.add(moved.host)
        warnings.warn(
            f"{moved.host} is retired ({moved.note}); sending requests to {moved.url} "
            f"instead. Use base_url={moved.url.removesuffix('/chat/completions')!r} (or no "
            "base_url at all) to silence this warning.",
            DeprecationWarning,
            stacklevel=_user_stacklevel(),
        )
    return moved.url


def _user_stacklevel() -> int:
    """The stack level of the first frame outside this package, langchain-core and pydantic."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("langchain_hf_vlm", "langchain_core", "pydantic")
    ):
        frame = frame.f_back
        level += 1
    return level
