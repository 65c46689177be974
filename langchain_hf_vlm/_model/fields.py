"""The configuration of ChatHuggingFaceVLM: its fields, their documentation and constraints,
and the values made from them that every layer below takes instead of the model.

A base class of the public one, as langchain-openai's ``BaseChatOpenAI`` holds the fields of
``ChatOpenAI``: the public module keeps the behaviour (entry points, live parts, lifecycle,
tools) and stays short enough to read in one sitting. Users never name this class; every field
is a field of ``ChatHuggingFaceVLM`` (``model_fields``, ``help()``, serialization).
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.language_models import BaseChatModel, LangSmithParams
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from langchain_hf_vlm._answers.reasoning import ThinkTags
from langchain_hf_vlm._families.detail import detail_budgets
from langchain_hf_vlm._families.table import Family, checked_family_name, resolve_family
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._media import pdf, video
from langchain_hf_vlm._media import settings as media
from langchain_hf_vlm._media.expand import MediaLimits
from langchain_hf_vlm._media.text import DEFAULT_MAX_TEXT_BYTES
from langchain_hf_vlm._model import pickling as _pickling
from langchain_hf_vlm._model.arguments import with_field_names
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._request.auth import Credentials, token_from_env
from langchain_hf_vlm._request.body import SAMPLING_PARAMETERS
from langchain_hf_vlm._request.reasoning import FIELDS as REASONING_FIELDS
from langchain_hf_vlm._request.reasoning import ReasoningInHistory
from langchain_hf_vlm._servers.dialects import Backend, Endpoint
from langchain_hf_vlm._wire.policy import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TOTAL_TIMEOUT,
    Limits,
)
from langchain_hf_vlm._wire.retry import DEFAULT_SCALE_UP_WAIT
from langchain_hf_vlm._wire.sender import ChatSender
from langchain_hf_vlm._wire.sse import DEFAULT_MAX_EVENT_BYTES


class ChatHuggingFaceVLMFields(BaseChatModel):
    """The fields of :class:`~langchain_hf_vlm.ChatHuggingFaceVLM` (not used on its own)."""

    model: str
    """Hub model id, optionally with a router suffix (``:provider``, ``:fastest``,
    ``:cheapest``, ``:preferred``); with ``base_url``, the name the server serves the model
    under."""
    provider: str | None = None
    """Inference provider for the router: None or "auto" lets the router choose; "fastest",
    "cheapest" and "preferred" (your order in the Hub settings) are policies. A name the
    installed huggingface_hub does not know is sent with a warning (the router may know it)."""
    model_family: str | None = None
    """The model's family, a name of the table in docs/models.md (``"qwen2.5-vl"``,
    ``"gemma-3"``...), for a checkpoint served under a name that does not say it (vLLM's
    ``--served-model-name``, a local path, TGI's ``tgi``): its profile, token counts, rules
    and image grid. None: found from ``model`` (and, after ``refresh_profile()`` on vLLM, from
    the path the server loaded)."""
    base_url: str | None = None
    """A TGI, vLLM or other OpenAI-compatible server, with or without ``/v1``."""
    backend: Backend = "auto"
    """Server dialect: "auto" infers it from ``base_url`` (router, Inference Endpoints: TGI,
    anything else: plain OpenAI-compatible); set "tgi" or "vllm" for self-hosted servers."""
    api_key: SecretStr | None = Field(default_factory=token_from_env)
    """Token. Defaults to ``HF_TOKEN``, which is only ever sent to Hugging Face hosts; a key
    passed explicitly goes to ``base_url`` whatever its host."""
    api_key_env: str | None = None
    """Name of an environment variable holding the key, read at each request (so it is never
    pickled): for a server other than Hugging Face's, whose key should stay out of pickles.
    Like an explicit ``api_key``, it goes to ``base_url`` whatever its host."""
    bill_to: str | None = None
    """Organisation to bill on the router (``X-HF-Bill-To``)."""
    timeout: float | None = Field(default=120.0, gt=0)
    """Seconds allowed for each network wait (connect, first byte), and in a stream between
    two data events (keep-alive comments do not count). ``request_timeout=`` is accepted as
    another name for it, as in ChatOpenAI; ``total_timeout`` bounds the whole call."""
    max_retries: int = Field(default=2, ge=0)
    """Retries on 429, 502, 503, 504, connection failures and timeouts. A 503 from a server
    that is starting up is retried beyond this, within ``scale_up_timeout``."""
    total_timeout: float | None = Field(default=DEFAULT_TOTAL_TIMEOUT, gt=0)
    """Seconds for the whole call, all attempts and the waits between them included (None: no
    limit). Bounds what ``timeout`` cannot: a server that trickles bytes or sends keep-alive
    comments forever. Raise it for streams longer than ten minutes."""
    scale_up_timeout: float = Field(default=DEFAULT_SCALE_UP_WAIT, gt=0)
    """Seconds, from the first attempt, to keep retrying a server that is starting up (a
    scaled-to-zero Inference Endpoint, or a 503 saying the model is loading), within
    ``total_timeout``. An endpoint's proxy is asked (``X-Scale-Up-Timeout``) to hold each
    request while a replica starts, for at most this long and less than ``timeout``."""
    max_response_bytes: int | None = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    """An answer (after decompression), or a whole stream, larger than this is refused with
    ``ResponseTooLargeError`` (None: no limit)."""
    max_stream_event_bytes: int | None = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0)
    """One stream event (or line) larger than this is refused (None: no limit)."""
    wait_for_scale_up: bool | None = None
    """Treat ``base_url`` as an Inference Endpoint that may be scaled to zero: send
    ``X-Scale-Up-Timeout`` (so that its proxy holds the request while a replica starts) and
    keep retrying its 503 answers within ``scale_up_timeout``. None: only for
    ``*.endpoints.huggingface.cloud`` hosts."""
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    n: int | None = Field(default=None, ge=1)
    """Choices generated per prompt, as in ChatOpenAI: ``generate()`` keeps them all in
    ``generations``, ``invoke()`` returns the first. Streams carry one choice: ``n`` > 1 with
    streaming is refused before sending."""
    reasoning_effort: str | None = None
    """How much a reasoning model thinks: "none", "minimal", "low", "medium", "high", "xhigh"
    (ChatOpenAI's name; the router's spec, vLLM and SGLang take it as ``reasoning_effort``).
    None: not sent. TGI has no such parameter (an error before sending)."""
    enable_thinking: bool | None = None
    """Switch thinking on or off: vLLM and other OpenAI-compatible servers get
    ``chat_template_kwargs={"enable_thinking": ..., "thinking": ...}`` (Qwen3 and GLM
    templates read the first, DeepSeek-V3.1 and others the second); the router gets
    ``reasoning_effort="none"`` for off. None: not sent. See docs/reasoning.md."""
    adapt_to_model: bool = False
    """Adapt a request to a rule of the model's family where that is safe, instead of
    refusing it: for Gemma (turns must alternate user/assistant), consecutive messages of one
    role are merged into one turn (contents in order, text and images kept; two texts that
    meet are joined by a blank line). Where no adaptation is safe (a second image for Llama
    3.2 Vision), the error stays. Off: such a request is refused before sending."""
    reasoning_in_history: ReasoningInHistory = "tool_turns"
    """Which assistant messages of the history carry their reasoning back to the server (as
    ``reasoning_content``, which GLM, Kimi and Qwen3 templates read and DeepSeek, Kimi and GLM
    require on tool-call turns): "tool_turns" (those with tool calls), "always" or "never"."""
    think_tags: ThinkTags = "auto"
    """How reasoning written as ``<think>...</think>`` in the answer text is read (servers
    without a reasoning parser): "auto" (a ``<think>`` block at the start), "open" (the chat
    template opens ``<think>`` in the prompt, as Qwen3-VL Thinking's and DeepSeek-R1's do: the
    text up to ``</think>`` is reasoning) or "off" (left in the text)."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Any other parameter the server reads (vLLM's ``top_k``, ``repetition_penalty``,
    ``chat_template_kwargs``...), sent at the top level of the request body. Servers ignore,
    without an error, a name they do not read: check the server's documentation."""
    default_headers: dict[str, str] | None = None
    """Headers added to every request."""
    streaming: bool = False
    """Stream even for ``invoke`` (the result is the same; tokens reach callbacks early)."""
    stream_usage: bool = True
    """Ask for token usage when streaming (all backends; the server may ignore it)."""
    image_max_pixels: int | None = Field(default=media.DEFAULT_MAX_PIXELS, gt=0)
    """Larger images are downscaled (aspect ratio kept) to at most this many pixels."""
    image_max_side: int | None = Field(default=media.DEFAULT_MAX_SIDE, gt=0)
    """Larger images are downscaled so that neither side exceeds this many pixels."""
    max_request_bytes: int | None = Field(default=None, gt=0)
    """Refuse, before sending, a request body estimated above this size (None: the
    backend's known limit, e.g. TGI's 2 MB)."""
    fetch_image_urls: bool = False
    """Download http(s) image URLs on the client and send them inline (for servers that
    cannot reach the image host). Loopback, private, link-local and other non-public
    addresses are refused (see ``image_fetch_allow_private``)."""
    image_fetch_allow_private: bool = False
    """Let client-side downloads (images, and always documents and videos) connect to loopback,
    private, link-local, multicast and reserved addresses (a local host). Off by default: URLs
    may come from users, and would otherwise reach cloud metadata (169.254.169.254) or internal
    services."""
    image_fetch_timeout: float = Field(default=media.DEFAULT_FETCH_TIMEOUT, gt=0)
    """Seconds allowed for a client-side image download (each wait, and the whole)."""
    image_fetch_max_bytes: int = Field(default=media.DEFAULT_FETCH_MAX_BYTES, gt=0)
    """A client-side image download larger than this is stopped and refused."""
    image_max_input_pixels: int = Field(default=media.DEFAULT_MAX_INPUT_PIXELS, gt=0)
    """Images whose header claims more pixels are refused undecoded (decompression bombs)."""
    image_jpeg_quality: int = Field(default=media.DEFAULT_JPEG_QUALITY, ge=1, le=95)
    """Quality (1-95) of images re-encoded as JPEG."""
    image_cache_bytes: int = Field(default=media.DEFAULT_CACHE_BYTES, ge=0)
    """Budget of the cache of prepared images, so that turn N of a conversation does not
    prepare turn 1's images again (0: no cache)."""
    pdf_max_pages: int = Field(default=pdf.DEFAULT_MAX_PAGES, gt=0)
    """Pages sent per request, over all its PDFs (each page is an image); more is an error
    before sending. Choose pages with ``document_block(..., pages="1-5")``."""
    pdf_text_layer: Literal["off", "on", "auto"] = pdf.DEFAULT_TEXT_LAYER
    """Send a page's text layer as text after its image: "auto" for pages that are not scans
    (their text layer is exact), "on" for every page, "off" for none."""
    pdf_max_bytes: int = Field(default=pdf.DEFAULT_MAX_BYTES, gt=0)
    """Largest PDF accepted (and downloaded), in bytes."""
    pdf_render_timeout: float = Field(default=pdf.DEFAULT_RENDER_TIMEOUT, gt=0)
    """Seconds allowed to render one document's pages."""
    video_max_frames: int = Field(default=video.DEFAULT_MAX_FRAMES, gt=0)
    """Frames sent per video (a block may ask for another number: ``video_block``)."""
    video_frames_per_second: float | None = Field(default=None, gt=0)
    """Sample videos at this rate (still at most ``video_max_frames``); None: evenly."""
    video_max_seconds: float = Field(default=video.DEFAULT_MAX_SECONDS, gt=0)
    """Longest video accepted."""
    video_max_bytes: int = Field(default=video.DEFAULT_MAX_BYTES, gt=0)
    """Largest video accepted (and downloaded), in bytes."""
    text_file_max_bytes: int = Field(default=DEFAULT_MAX_TEXT_BYTES, gt=0)
    """Largest text file (plain text, Markdown, CSV, JSON) sent as text."""

    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """Your own ``httpx.Client`` (proxies, custom CAs, mTLS, event hooks) for synchronous
    calls. The model's timeout and retries still apply to each request; the client stays
    yours: ``close()`` leaves it open. A model holding one cannot be pickled."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient`` for asynchronous calls; as ``http_client``."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    _served_family: str | None = PrivateAttr(default=None)
    """The family ``refresh_profile()`` found from the path vLLM loaded (None: none)."""

    @model_validator(mode="before")
    @classmethod
    def _known_arguments(cls, values: Any) -> Any:
        return with_field_names(cls.model_fields, values)

    @field_validator("model_family")
    @classmethod
    def _known_family(cls, value: str | None) -> str | None:
        return None if value is None else checked_family_name(value)

    # ---- LangChain conventions, and pickling (the configuration travels, not the live parts)

    @property
    def _llm_type(self) -> str:
        return "huggingface-vlm"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_hf_vlm", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "HF_TOKEN"}

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        # BaseChatModel builds the same dict through its deprecated dict(), inside a block that
        # silences the deprecation warning: a few µs on every call for nothing this class needs.
        return {**self.asdict(), "stop": stop, **kwargs}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        model, parameters = self.__dict__["model"], self.__dict__
        return _request.ls_params(model, parameters, stop, kwargs)

    def __getstate__(self) -> dict[Any, Any]:
        return _pickling.state_to_pickle(
            super().__getstate__(),
            holds_clients=self.http_client is not None or self.http_async_client is not None,
            api_key_given="api_key" in self.model_fields_set,
        )

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        if "api_key" not in self.model_fields_set:  # the environment's: this worker's own
            self.__dict__["api_key"] = token_from_env()

    # ---- the values made from the fields, which the layers below take instead of the model

    def _family(self) -> Family:
        """The model's family: ``model_family``, or the one the server named, or by id."""
        fields = self.__dict__
        named = fields["model_family"] or (self.__pydantic_private__ or {}).get("_served_family")
        return resolve_family(fields["model"], named)

    def _request_settings(self) -> _request.RequestSettings:
        """What every request says, as the fields are now (a few µs per call)."""
        fields = self.__dict__  # pydantic keeps field values here: plain reads
        return _request.RequestSettings(
            model=fields["model"],
            family=self._family(),
            adapt_to_model=fields["adapt_to_model"],
            provider=fields["provider"],
            parameters={name: fields[name] for name in SAMPLING_PARAMETERS},
            extra_body=fields["extra_body"],
            stream_usage=fields["stream_usage"],
            bill_to=fields["bill_to"],
            default_headers=fields["default_headers"],
            credentials=Credentials(
                api_key=fields["api_key"],
                explicit="api_key" in self.model_fields_set,
                env_name=fields["api_key_env"],
            ),
            timeout=fields["timeout"],
            scale_up_timeout=fields["scale_up_timeout"],
            streaming=fields["streaming"],
            reasoning={name: fields[name] for name in REASONING_FIELDS},
        )

    def _image_settings(self, endpoint: Endpoint) -> media.ImageSettings:
        """How the model's images are prepared (the request size guard included)."""
        family = self._family()
        low, high = detail_budgets(family, self.image_max_pixels, self.image_max_side)
        return media.ImageSettings(
            max_pixels=self.image_max_pixels,
            max_side=self.image_max_side,
            max_request_bytes=self.max_request_bytes or endpoint.dialect.max_request_bytes,
            fetch_urls=self.fetch_image_urls,
            fetch_timeout=self.image_fetch_timeout,
            fetch_max_bytes=self.image_fetch_max_bytes,
            fetch_allow_private=self.image_fetch_allow_private,
            max_input_pixels=self.image_max_input_pixels,
            jpeg_quality=self.image_jpeg_quality,
            cache_bytes=self.image_cache_bytes,
            grid=family.grid,
            low=low,
            high=high,
        )

    def _media_limits(self) -> MediaLimits:
        """How the model's documents, videos and text files become parts."""
        return MediaLimits(
            pdf=pdf.PdfLimits(
                max_pages=self.pdf_max_pages,
                text_layer=self.pdf_text_layer,
                max_bytes=self.pdf_max_bytes,
                render_timeout=self.pdf_render_timeout,
            ),
            video=video.VideoLimits(
                max_frames=self.video_max_frames,
                frames_per_second=self.video_frames_per_second,
                max_seconds=self.video_max_seconds,
                max_bytes=self.video_max_bytes,
            ),
            text_max_bytes=self.text_file_max_bytes,
        )

    def _new_sender(self) -> ChatSender:
        """The model's sender: its clients (none made yet), timeouts, retries and read limits."""
        return ChatSender(
            timeout=self.timeout,
            max_retries=self.max_retries,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
            limits=Limits(
                timeout=self.timeout,
                total_timeout=self.total_timeout,
                max_response_bytes=self.max_response_bytes,
                max_event_bytes=self.max_stream_event_bytes,
            ),
        )
