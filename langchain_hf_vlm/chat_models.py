"""ChatHuggingFaceVLM: the public chat model. The four entry points, the live parts (transport,
image pipeline) and the lifecycle; its fields and their documentation are in ``_model.fields``."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import BaseModel, PrivateAttr, model_validator

from langchain_hf_vlm._answers.stream import astream_chunks, stream_chunks
from langchain_hf_vlm._media.detect import with_mime_types
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._model import invoke as _invoke
from langchain_hf_vlm._model import pickling as _pickling
from langchain_hf_vlm._model.callbacks import retry_reporter
from langchain_hf_vlm._model.fields import ChatHuggingFaceVLMFields
from langchain_hf_vlm._model.profile import PROFILE
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._request import structured as _structured
from langchain_hf_vlm._request import tools as _tools
from langchain_hf_vlm._servers.dialects import Endpoint, resolve_endpoint
from langchain_hf_vlm._wire.sender import ChatSender


class ChatHuggingFaceVLM(ChatHuggingFaceVLMFields):
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

    Configuration: the fields, each documented, are declared in ``ChatHuggingFaceVLMFields``
    (``langchain_hf_vlm._model.fields``) and are fields of this class like any other.
    """

    _transport: ChatSender | None = PrivateAttr(default=None)
    _endpoint: Endpoint | None = PrivateAttr(default=None)
    _images: ImagePipeline | None = PrivateAttr(default=None)

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
    def transport(self) -> ChatSender:
        transport: ChatSender | None = self._live("_transport")
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
        request, tags = _invoke.prepare(self, messages, stop, kwargs, stream=False)
        return _invoke.result(self.transport.post(request, retry_reporter(run_manager)), tags)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request, tags = await _invoke.aprepare(self, messages, stop, kwargs, stream=False)
        return _invoke.result(
            await self.transport.apost(request, retry_reporter(run_manager)), tags
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request, tags = _invoke.prepare(self, messages, stop, kwargs, stream=True)
        yield from stream_chunks(self.transport.stream(request, retry_reporter(run_manager)), tags)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request, tags = await _invoke.aprepare(self, messages, stop, kwargs, stream=True)
        async for chunk in astream_chunks(
            self.transport.astream(request, retry_reporter(run_manager)), tags
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


# langchain-core asks ``inspect.signature(self._generate)`` (``_agenerate``) on every call, to
# learn whether it takes ``run_manager``: about 12 µs a call, answered at once from here.
for _entry_point in (ChatHuggingFaceVLM._generate, ChatHuggingFaceVLM._agenerate):
    setattr(_entry_point, "__signature__", inspect.signature(_entry_point))  # noqa: B010
