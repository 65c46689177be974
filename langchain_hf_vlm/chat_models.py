"""The chat model, :class:`ChatHuggingFaceVLM` (its fields are declared in a base class)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    LanguageModelInput,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import BaseModel, model_validator

from langchain_hf_vlm._answers.stream import astream_chunks, stream_chunks
from langchain_hf_vlm._media.detect import with_mime_types
from langchain_hf_vlm._model import invoke as _invoke
from langchain_hf_vlm._model.callbacks import retry_reporter
from langchain_hf_vlm._model.knowledge import ModelKnowledge
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._request import structured as _structured
from langchain_hf_vlm._request import tools as _tools
from langchain_hf_vlm._request.prepare import ModelRequest


class ChatHuggingFaceVLM(ModelKnowledge):
    """Chat model for Hugging Face vision-language models over the chat-completion API.

    Talks to the Inference Providers router (the default), Text Generation Inference and
    Inference Endpoints, vLLM, ``transformers serve`` and any other OpenAI-compatible server.
    Messages are plain LangChain messages; images go in any LangChain block shape, and PDF
    pages and video frames are rendered to images on the client.

    Key init args: ``model`` (a Hub model id, optionally ``:provider``; with ``base_url``, the
    name the server serves), ``base_url`` (your server; None: the router), ``api_key`` (by
    default ``HF_TOKEN`` or the ``hf auth login`` token, sent to Hugging Face hosts only),
    ``temperature``, ``max_tokens`` and the other sampling parameters (sent exactly as given,
    and only when set), ``extra_body`` (any other server parameter), ``timeout``,
    ``max_retries``. Every field is listed in the repository's docs/configuration.md.

    Example:
        ```python
        from langchain_core.messages import HumanMessage
        from PIL import Image
        from langchain_hf_vlm import ChatHuggingFaceVLM, image_block

        llm = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", max_tokens=200)
        picture = Image.new("RGB", (320, 240), "orange")  # or a path, bytes, a URL
        message = HumanMessage(content=[
            {"type": "text", "text": "What colour is this picture?"},
            image_block(picture),
        ])
        answer = llm.invoke([message])
        print(answer.text, answer.usage_metadata)
        ```

    ``close()`` / ``await aclose()``, or ``with`` / ``async with``, release the connections it
    opened (``http_client``, ``http_async_client`` stay yours). It pickles with its settings
    (Ray, Dask, process pools), without a token read from the environment.
    """

    @model_validator(mode="after")
    def _check_combinations(self) -> ChatHuggingFaceVLM:
        self._endpoint = _request.check_settings(
            self._request_settings(),
            base_url=self.base_url,
            backend=self.backend,
            wait_for_scale_up=self.wait_for_scale_up,
        )
        return self

    # ---- LangChain conventions

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return _request.identifying_params(self.__dict__, self._target)

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        # langchain-core refuses base64 blocks without mime_type while it formats the input
        # for tracing, before the model runs; the type is in the bytes (copies are filled in,
        # never the user's messages).
        return with_mime_types(super()._convert_input(model_input))

    # ---- the four entry points

    def _parts(self) -> _invoke.Parts:
        return _invoke.Parts(self._request_settings(), self._target, self._pipeline, self._sender)

    def _prepared(self, prepared: _invoke.Prepared) -> ModelRequest:
        if prepared.endpoint is not self._live("_endpoint"):  # identified by this call
            self._endpoint = prepared.endpoint
        return prepared.request

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._prepared(
            _invoke.prepare(self._parts(), messages, stop, kwargs, stream=False)
        )
        return _invoke.result(request, self._sender.post(request, retry_reporter(run_manager)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        parts = self._parts()
        request = self._prepared(
            await _invoke.aprepare(parts, messages, stop, kwargs, stream=False)
        )
        answer = await self._sender.apost(request, retry_reporter(run_manager))
        return _invoke.result(request, answer)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._prepared(
            _invoke.prepare(self._parts(), messages, stop, kwargs, stream=True)
        )
        items = self._sender.stream(request, retry_reporter(run_manager))
        yield from stream_chunks(items, request.think_tags, request.images)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        parts = self._parts()
        request = self._prepared(await _invoke.aprepare(parts, messages, stop, kwargs, stream=True))
        items = self._sender.astream(request, retry_reporter(run_manager))
        async for chunk in astream_chunks(items, request.think_tags, request.images):
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
