"""ChatHuggingFaceVLM: the public chat model. Configuration and the four entry points only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from langchain_hf_vlm import _invoke, _pickling, _request, _structured, _tools
from langchain_hf_vlm._auth import token_from_env
from langchain_hf_vlm._backends import Backend, Endpoint, resolve_endpoint
from langchain_hf_vlm._call import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT
from langchain_hf_vlm._callbacks import retry_reporter
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._media import pdf, video
from langchain_hf_vlm._media import settings as media
from langchain_hf_vlm._media.detect import with_mime_types
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.text import DEFAULT_MAX_TEXT_BYTES
from langchain_hf_vlm._profile import PROFILE
from langchain_hf_vlm._sse import DEFAULT_MAX_EVENT_BYTES
from langchain_hf_vlm._streaming import astream_chunks, stream_chunks
from langchain_hf_vlm._transport import Transport


class ChatHuggingFaceVLM(BaseChatModel):
    """Chat model for Hugging Face vision-language models over the chat-completion API.

    Talks to the Inference Providers router (default), Text Generation Inference and Inference
    Endpoints, vLLM, ``transformers serve`` and any other OpenAI-compatible server. Messages
    are plain LangChain messages; images may be given in any LangChain block shape.

    Example:
        .. code-block:: python

            from langchain_core.messages import HumanMessage
            from langchain_hf_vlm import ChatHuggingFaceVLM

            llm = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", max_tokens=200)
            answer = llm.invoke([
                HumanMessage(content=[
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image", "url": "https://example.com/cat.png"},
                ])
            ])
            print(answer.text, answer.usage_metadata)

    Lifecycle: ``close()`` / ``await aclose()``, or ``with`` / ``async with``, release the
    connections of the clients the model made (``http_client`` and ``http_async_client`` stay
    open: they are yours).

    Pickling (Ray, Dask, multiprocessing, Spark): the configuration travels; connections and
    the image cache are rebuilt on first use. A token from the environment (``HF_TOKEN``, the
    hub login) is not pickled: each worker reads its own. An explicit ``api_key`` is pickled,
    in clear text; to keep a key out, set ``HF_TOKEN`` on the workers or name its variable in
    ``api_key_env``. A model holding ``http_client`` or ``http_async_client`` refuses to pickle
    (set ``HTTPS_PROXY`` and ``SSL_CERT_FILE`` on the workers instead).
    """

    model: str
    """Hub model id, optionally with a router suffix (``:provider``, ``:fastest``,
    ``:cheapest``); with ``base_url``, the name the server serves the model under."""
    provider: str | None = None
    """Inference provider for the router: None or "auto" lets the router choose."""
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
    two data events (keep-alive comments do not count); also how long, from the first attempt,
    to keep retrying a server that is starting up. ``request_timeout`` bounds the whole call."""
    max_retries: int = Field(default=2, ge=0)
    """Retries on 429, 502, 503, 504, connection failures and timeouts. A 503 from a server
    that is starting up is retried beyond this, within ``timeout``."""
    request_timeout: float | None = Field(default=DEFAULT_REQUEST_TIMEOUT, gt=0)
    """Seconds for the whole call, all attempts and the waits between them included (None: no
    limit). Bounds what ``timeout`` cannot: a server that trickles bytes or sends keep-alive
    comments forever. In a stream, ``timeout`` counts between data events: comments do not
    reset it."""
    max_response_bytes: int | None = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    """An answer (after decompression), or a whole stream, larger than this is refused with
    ``ResponseTooLargeError`` (None: no limit)."""
    max_stream_event_bytes: int | None = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0)
    """One stream event (or line) larger than this is refused (None: no limit)."""
    wait_for_scale_up: bool | None = None
    """Treat ``base_url`` as an Inference Endpoint that may be scaled to zero: send
    ``X-Scale-Up-Timeout`` (so that its proxy holds the request while a replica starts) and
    keep retrying its 503 answers within ``timeout``. None: only for
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
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Any other server parameter, e.g. ``top_k``, ``repetition_penalty``,
    ``chat_template_kwargs``; sent at the top level of the request body."""
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

    _transport: Transport | None = PrivateAttr(default=None)
    _endpoint: Endpoint | None = PrivateAttr(default=None)
    _images: ImagePipeline | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_arguments(cls, values: Any) -> Any:
        return _request.refuse_unknown_arguments(cls.model_fields, values)

    @model_validator(mode="after")
    def _check_combinations(self) -> ChatHuggingFaceVLM:
        self._endpoint = _request.checked_endpoint(self)
        return self

    # ---- LangChain conventions

    @property
    def _llm_type(self) -> str:
        return "huggingface-vlm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return _request.identifying_params(self)

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
        return _request.ls_params(self, stop, kwargs)

    def _resolve_model_profile(self) -> ModelProfile | None:
        return PROFILE

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        # langchain-core refuses base64 blocks without mime_type while it formats the input
        # for tracing, before the model runs; the type is in the bytes (copies are filled in,
        # never the user's messages).
        return with_mime_types(super()._convert_input(model_input))

    # ---- live parts, made on first use (and again after unpickling)

    def _live(self, name: str) -> Any:
        """A private attribute's value, read straight from pydantic's dict of them."""
        private = self.__pydantic_private__
        return None if private is None else private.get(name)

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go: URL, dialect, and whether it is a Hugging Face host."""
        # Read from the private dict: ``self._endpoint`` costs a failed lookup and pydantic's
        # __getattr__ (~2 µs), and this runs several times per request (so do images, transport).
        endpoint: Endpoint | None = self._live("_endpoint")
        if endpoint is None:
            endpoint = resolve_endpoint(self.base_url, self.backend, self.wait_for_scale_up)
            self._endpoint = endpoint
        return endpoint

    @property
    def images(self) -> ImagePipeline:
        """The image pipeline: sizing, re-encoding, URL fetching and the request size guard."""
        images: ImagePipeline | None = self._live("_images")
        if images is None:
            images = ImagePipeline(_request.image_settings(self), _request.media_limits(self))
            self._images = images
        return images

    @property
    def transport(self) -> Transport:
        transport: Transport | None = self._live("_transport")
        if transport is None:
            transport = _request.transport(self)
            self._transport = transport
        return transport

    def close(self) -> None:
        """Close the synchronous connections the model opened (not ``http_client``)."""
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Close the connections the model opened: the synchronous ones and this event loop's
        (not ``http_client`` or ``http_async_client``)."""
        if self._transport is not None:
            await self._transport.aclose()

    def __enter__(self) -> ChatHuggingFaceVLM:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> ChatHuggingFaceVLM:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __getstate__(self) -> dict[Any, Any]:
        return _pickling.state_to_pickle(self, super().__getstate__())

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        _pickling.read_own_token(self)

    # ---- the four entry points

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = _invoke.prepare(self, messages, stop, kwargs, stream=False)
        return _invoke.result(self.transport.post(request, retry_reporter(run_manager)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = await _invoke.aprepare(self, messages, stop, kwargs, stream=False)
        return _invoke.result(await self.transport.apost(request, retry_reporter(run_manager)))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = _invoke.prepare(self, messages, stop, kwargs, stream=True)
        yield from stream_chunks(self.transport.stream(request, retry_reporter(run_manager)))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = await _invoke.aprepare(self, messages, stop, kwargs, stream=True)
        async for chunk in astream_chunks(
            self.transport.astream(request, retry_reporter(run_manager))
        ):
            yield chunk

    # ---- tools and structured output

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic classes, TypedDicts, JSON schemas
        or OpenAI tool dicts) so that the model may call them.

        Args:
            tools: The tools.
            tool_choice: "auto", "none", "any"/"required", a tool name, True (the single
                tool), or an OpenAI ``tool_choice`` dict.
            strict: Ask the server to enforce the schemas strictly (OpenAI ``strict``).
            parallel_tool_calls: Allow or forbid several calls in one answer.
            **kwargs: Further request parameters bound with the tools.
        """
        return super().bind(
            **_tools.tool_binding(
                tools,
                tool_choice=tool_choice,
                strict=strict,
                parallel_tool_calls=parallel_tool_calls,
                **kwargs,
            )
        )

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Answers parsed into ``schema`` (pydantic class -> instance; TypedDict or JSON schema
        -> dict).

        Args:
            schema: The output schema; may be None with "json_mode" (answers are parsed
                into whatever JSON object the model wrote, as ChatOpenAI does).
            method: "json_schema" (the server constrains decoding to the schema; written in
                TGI's grammar form for TGI), "function_calling" (a forced tool call) or
                "json_mode" (any JSON object; describe the schema in the prompt).
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead of raising.
            strict: Ask for strict schema adherence where the server supports it.
            **kwargs: Not supported; present for signature compatibility.

        Raises:
            OutputParserException: (when invoked) the answer does not parse; carries the text.
            ModelRefusalError: (when invoked) the model refused.
        """
        return _structured.structured_output(
            self, schema, method=method, include_raw=include_raw, strict=strict, **kwargs
        )
