"""ChatHuggingFaceVLM: the public chat model. Configuration and the four entry points only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import ModelError
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from langchain_hf_vlm import _structured, _tools
from langchain_hf_vlm._auth import bearer_token, request_headers
from langchain_hf_vlm._backends import (
    REMOVED_PROVIDERS,
    ROUTER_POLICIES,
    Backend,
    Endpoint,
    recognised,
    resolve_endpoint,
)
from langchain_hf_vlm._callbacks import retry_reporter
from langchain_hf_vlm._images import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_TIMEOUT,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_MAX_INPUT_PIXELS,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    ImagePipeline,
    ImageSettings,
)
from langchain_hf_vlm._messages import locate_image_errors, to_wire_messages
from langchain_hf_vlm._payload import SAMPLING_PARAMETERS, body_bytes, build_payload
from langchain_hf_vlm._responses import MODEL_PROVIDER, StreamAssembler, chat_result
from langchain_hf_vlm._transport import PreparedRequest, Transport
from langchain_hf_vlm.errors import IncompleteStreamError

_IMAGE_FIELDS = {
    "max_pixels": "image_max_pixels",
    "max_side": "image_max_side",
    "fetch_timeout": "image_fetch_timeout",
    "fetch_max_bytes": "image_fetch_max_bytes",
    "max_input_pixels": "image_max_input_pixels",
    "jpeg_quality": "image_jpeg_quality",
    "cache_bytes": "image_cache_bytes",
}
"""ImageSettings attribute -> the model field that sets it."""


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
    api_key: SecretStr | None = Field(default_factory=secret_from_env("HF_TOKEN", default=None))
    """Token. Defaults to ``HF_TOKEN``, which is only ever sent to Hugging Face hosts."""
    bill_to: str | None = None
    """Organisation to bill on the router (``X-HF-Bill-To``)."""
    timeout: float | None = 120.0
    """Seconds allowed to connect, for the first byte, and between stream chunks; also how
    long, from the first attempt, to keep retrying a server that is starting up."""
    max_retries: int = 2
    """Retries on 429, 502, 503, 504, connection failures and timeouts. A 503 from a server
    that is starting up is retried beyond this, within ``timeout``."""
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
    image_max_pixels: int | None = DEFAULT_MAX_PIXELS
    """Larger images are downscaled (aspect ratio kept) to at most this many pixels."""
    image_max_side: int | None = DEFAULT_MAX_SIDE
    """Larger images are downscaled so that neither side exceeds this many pixels."""
    max_request_bytes: int | None = None
    """Refuse, before sending, a request body estimated above this size (None: the
    backend's known limit, e.g. TGI's 2 MB)."""
    fetch_image_urls: bool = False
    """Download http(s) image URLs on the client and send them inline (for servers that
    cannot reach the image host)."""
    image_fetch_timeout: float = DEFAULT_FETCH_TIMEOUT
    """Seconds allowed for a client-side image download (each wait, and the whole)."""
    image_fetch_max_bytes: int = DEFAULT_FETCH_MAX_BYTES
    """A client-side image download larger than this is stopped and refused."""
    image_max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    """Images whose header claims more pixels are refused undecoded (decompression bombs)."""
    image_jpeg_quality: int = DEFAULT_JPEG_QUALITY
    """Quality (1-95) of images re-encoded as JPEG."""
    image_cache_bytes: int = DEFAULT_CACHE_BYTES
    """Budget of the cache of prepared images, so that turn N of a conversation does not
    prepare turn 1's images again (0: no cache)."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    _transport: Transport | None = PrivateAttr(default=None)
    _endpoint: Endpoint | None = PrivateAttr(default=None)
    _images: ImagePipeline | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_configuration(self) -> Self:
        _check_provider(self.provider, self.model, self.base_url)
        self._endpoint = resolve_endpoint(self.base_url, self.backend, self.wait_for_scale_up)
        try:  # invalid image settings fail here, not at the first request
            self._image_settings()
        except ValueError as exc:
            # ImageSettings names its own attributes; name the model's fields instead
            setting, _, rest = str(exc).partition(" ")
            raise ValueError(f"{_IMAGE_FIELDS.get(setting, setting)} {rest}") from None
        clashes = sorted(set(self.extra_body) & {*SAMPLING_PARAMETERS, "model", "messages"})
        if clashes:
            raise ValueError(
                f"extra_body repeats {clashes}: set these as the model's own fields instead"
            )
        if self.bill_to and not self._endpoint.hf_host:
            raise ValueError(f"bill_to applies to Hugging Face hosts only, not to {self.base_url}")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        return self

    # ---- LangChain conventions

    @property
    def _llm_type(self) -> str:
        return "huggingface-vlm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "base_url": self.base_url,
            "backend": self.endpoint.dialect.name,
            **self._parameters(),
        }

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_hf_vlm", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "HF_TOKEN"}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=MODEL_PROVIDER,
            ls_model_name=kwargs.get("model") or self.model,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stop = stop or kwargs.get("stop") or self.stop
        if stop:
            params["ls_stop"] = stop
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        return ModelProfile(
            text_inputs=True,
            image_inputs=True,
            image_url_inputs=True,
            pdf_inputs=False,
            audio_inputs=False,
            video_inputs=False,
            text_outputs=True,
            tool_calling=True,
            tool_choice=True,
            structured_output=True,
        )

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go: URL, dialect, and whether it is a Hugging Face host."""
        # Read once: a pydantic private attribute costs a failed lookup and __getattr__ (~2 µs)
        # on every access, and this runs several times per request (so do images, transport).
        endpoint = self._endpoint
        if endpoint is None:
            endpoint = resolve_endpoint(self.base_url, self.backend, self.wait_for_scale_up)
            self._endpoint = endpoint
        return endpoint

    # ---- request assembly (shared by sync and async)

    def _parameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SAMPLING_PARAMETERS}

    def _wire_model(self, override: str | None) -> str:
        model = override or self.model
        if self.provider and self.provider != "auto" and ":" not in model:
            return f"{model}:{self.provider}"
        return model

    @property
    def images(self) -> ImagePipeline:
        """The image pipeline: sizing, re-encoding, URL fetching and the request size guard."""
        images = self._images
        if images is None:
            images = ImagePipeline(self._image_settings())
            self._images = images
        return images

    def _image_settings(self) -> ImageSettings:
        return ImageSettings(
            max_pixels=self.image_max_pixels,
            max_side=self.image_max_side,
            max_request_bytes=self.max_request_bytes or self.endpoint.dialect.max_request_bytes,
            fetch_urls=self.fetch_image_urls,
            fetch_timeout=self.image_fetch_timeout,
            fetch_max_bytes=self.image_fetch_max_bytes,
            max_input_pixels=self.image_max_input_pixels,
            jpeg_quality=self.image_jpeg_quality,
            cache_bytes=self.image_cache_bytes,
        )

    def _needs_dialect(self, kwargs: Mapping[str, Any]) -> bool:
        # The keys first: they are plain dict lookups, the endpoint a pydantic private attribute.
        return ("response_format" in kwargs or "tools" in kwargs) and not (
            self.endpoint.dialect_known
        )

    def _identify(self, kwargs: Mapping[str, Any]) -> None:
        if self._needs_dialect(kwargs):
            headers = self._probe_headers()
            answers: list[object] = []
            for url in self.endpoint.probe_urls:
                answers.append(self.transport.probe(url, headers))
                if recognised(answers):
                    break
            self._endpoint = self.endpoint.identified(*answers)

    async def _aidentify(self, kwargs: Mapping[str, Any]) -> None:
        if self._needs_dialect(kwargs):
            headers = self._probe_headers()
            answers: list[object] = []
            for url in self.endpoint.probe_urls:
                answers.append(await self.transport.aprobe(url, headers))
                if recognised(answers):
                    break
            self._endpoint = self.endpoint.identified(*answers)

    def _probe_headers(self) -> dict[str, str]:
        token = bearer_token(self.endpoint, self.api_key, "api_key" in self.model_fields_set)
        return request_headers(
            self.endpoint, token, bill_to=None, default_headers=self.default_headers
        )

    def _request(
        self,
        wire_messages: list[dict[str, Any]],
        stop: list[str] | None,
        stream: bool,
        kwargs: Any,
    ) -> PreparedRequest:
        call_kwargs = dict(kwargs)
        override = call_kwargs.pop("model", None)
        stream_usage = call_kwargs.pop("stream_usage", self.stream_usage)
        if stop is not None:
            call_kwargs["stop"] = stop
        endpoint = self.endpoint
        body = build_payload(
            model=self._wire_model(override),
            messages=wire_messages,
            parameters=self._parameters(),
            extra_body=self.extra_body,
            call_kwargs=call_kwargs,
            stream=stream,
            stream_usage=stream_usage,
            dialect=endpoint.dialect,
        )
        token = bearer_token(endpoint, self.api_key, "api_key" in self.model_fields_set)
        headers = request_headers(
            endpoint, token, bill_to=self.bill_to, default_headers=self.default_headers
        )
        headers = endpoint.with_scale_up_header(headers, self.timeout)
        data = body_bytes(body)
        return PreparedRequest(endpoint.url, headers, data, stream, endpoint.scales_to_zero)

    @property
    def transport(self) -> Transport:
        transport = self._transport
        if transport is None:
            transport = Transport(timeout=self.timeout, max_retries=self.max_retries)
            self._transport = transport
        return transport

    def close(self) -> None:
        """Release the HTTP connections of the synchronous client."""
        if self._transport is not None:
            self._transport.close()

    # ---- the four entry points

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        wire = to_wire_messages(messages)
        with locate_image_errors(messages):
            self.images.prepare(wire)
        self._identify(kwargs)
        request = self._request(wire, stop, False, kwargs)
        answer = self.transport.post(request, retry_reporter(run_manager))
        return chat_result(answer.body, inference_provider=_provider_header(answer.headers))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        wire = to_wire_messages(messages)
        with locate_image_errors(messages):
            await self.images.aprepare(wire)
        await self._aidentify(kwargs)
        request = self._request(wire, stop, False, kwargs)
        answer = await self.transport.apost(request, retry_reporter(run_manager))
        return chat_result(answer.body, inference_provider=_provider_header(answer.headers))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        wire = to_wire_messages(messages)
        with locate_image_errors(messages):
            self.images.prepare(wire)
        self._identify(kwargs)
        request = self._request(wire, stop, True, kwargs)
        events = self.transport.stream(request, retry_reporter(run_manager))
        session = _StreamSession()
        try:
            for event in events:
                yield from session.feed(event)
        except ModelError as exc:
            raise session.broken(exc) from exc
        finally:
            events.close()
        yield session.finish()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        wire = to_wire_messages(messages)
        with locate_image_errors(messages):
            await self.images.aprepare(wire)
        await self._aidentify(kwargs)
        request = self._request(wire, stop, True, kwargs)
        events = self.transport.astream(request, retry_reporter(run_manager))
        session = _StreamSession()
        try:
            async for event in events:
                for chunk in session.feed(event):
                    yield chunk
        except ModelError as exc:
            raise session.broken(exc) from exc
        finally:
            await events.aclose()
        yield session.finish()

    # ---- tools

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
        formatted = _tools.format_tools(tools, strict=strict)
        bound: dict[str, Any] = {"tools": formatted, **kwargs}
        choice = _tools.format_tool_choice(tool_choice, formatted)
        if choice is not None:
            bound["tool_choice"] = choice
        if parallel_tool_calls is not None:
            bound["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(**bound)

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
        if kwargs:
            raise ValueError(f"unsupported arguments: {sorted(kwargs)}")
        if method not in _structured.METHODS:
            raise ValueError(f"method must be one of {_structured.METHODS}, got {method!r}")
        if schema is None and method != "json_mode":
            raise ValueError(f'method={method!r} needs a schema (only "json_mode" does not)')
        output_format = None
        if schema is not None:
            output_format = {
                "kwargs": {"method": method, "strict": strict},
                "schema": _structured.schema_function(schema),
            }
        llm: Runnable[LanguageModelInput, Any]
        if method == "function_calling" and schema is not None:
            name = _structured.schema_function(schema)["name"]
            llm = self.bind_tools(
                [schema],
                tool_choice=name,
                strict=strict,
                ls_structured_output_format=output_format,
            )
        elif method == "json_schema":
            llm = self.bind(
                response_format=_structured.json_schema_format(schema, strict),
                ls_structured_output_format=output_format,
            )
        else:
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format=output_format,
            )
        parser = _structured.output_parser(schema, method)
        if include_raw:
            return _structured.with_raw(llm, parser)
        return llm | parser


class _StreamSession:
    """State of one streamed answer, shared by the sync and async paths."""

    def __init__(self) -> None:
        self.assembler: StreamAssembler | None = None
        self.delivered: list[ChatGenerationChunk] = []

    def feed(self, event: Any) -> list[ChatGenerationChunk]:
        if not isinstance(event, dict):
            if self.assembler is None:
                self.assembler = StreamAssembler(inference_provider=_provider_header(event))
            return []
        assert self.assembler is not None
        chunks = self.assembler.feed(event)
        self.delivered += chunks
        return chunks

    def partial(self) -> AIMessageChunk | None:
        if not self.delivered:
            return None
        first, *rest = (chunk.message for chunk in self.delivered)
        merged = first + rest if rest else first
        return merged if isinstance(merged, AIMessageChunk) else None

    def broken(self, error: ModelError) -> ModelError:
        if not self.delivered:
            return error
        if isinstance(error, IncompleteStreamError):
            error.partial_message = self.partial()
            return error
        return IncompleteStreamError(
            f"the stream broke off after {len(self.delivered)} chunks: {error}",
            partial_message=self.partial(),
        )

    def finish(self) -> ChatGenerationChunk:
        if self.assembler is None or not self.assembler.finished:
            raise IncompleteStreamError(
                "the stream ended without a finish reason; the answer may be incomplete",
                partial_message=self.partial(),
            )
        return self.assembler.final()


def _provider_header(headers: Mapping[str, str]) -> str | None:
    return headers.get("x-inference-provider")


def _check_provider(provider: str | None, model: str, base_url: str | None) -> None:
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
    if provider in REMOVED_PROVIDERS:
        raise ValueError(
            f"provider {provider!r} was removed from Hugging Face Inference Providers; "
            f"valid providers: {', '.join(valid_providers())}"
        )
    if provider in ROUTER_POLICIES:
        return
    valid = valid_providers()
    if provider not in valid:
        raise ValueError(f"unknown provider {provider!r}; valid providers: {', '.join(valid)}")


def valid_providers() -> list[str]:
    """Providers that serve chat completions, as huggingface_hub knows them, plus policies."""
    from huggingface_hub.inference._providers import PROVIDERS

    names = sorted(name for name, tasks in PROVIDERS.items() if "conversational" in tasks)
    return [*ROUTER_POLICIES, *names]
