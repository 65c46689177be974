"""Answer many images or conversations with one chat model: bounded, failure-tolerant, resumable.

The engine-agnostic core of batch work. Each item is an id and either an image (anything
:func:`~langchain_hf_vlm.images.image_block` accepts: a path, bytes, a PIL image, an http(s) URL,
a data URI), sent with a prompt, or a ready list of LangChain messages. Each item gives exactly
one :class:`BatchResult` in a fixed schema; an item that fails becomes a result with an error
string while the others go on, so no exception of one item ever escapes.

At most ``concurrency`` items are in flight, and the input is read only as far as that: a lazy
iterable of any length (a generator over millions of files) keeps memory bounded. Images are
read and prepared (decoded, resized, encoded) in worker threads, so preparation runs on every
core while the event loop keeps the requests going.

Three shells share :func:`aanswer`, which answers one item and never raises:

- :func:`aiter_answers`: an async iterator of results in completion order (for large inputs);
- :func:`aanswer_batch`: the list of results in input order;
- :func:`answer_batch`: the same for synchronous scripts.

Resume by passing the ids already answered as ``skip_ids`` (:func:`done_ids` reads them from a
JSONL output written with :class:`JsonlWriter`). Works with any LangChain chat model; no engine
is imported here (Ray Data: :mod:`langchain_hf_vlm.ray_data`).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import (
    AsyncGenerator,
    Callable,
    Container,
    Iterable,
    Iterator,
    Sequence,
    Sized,
)
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from langchain_core.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import BaseMessage, HumanMessage

from langchain_hf_vlm._batch_io import IMAGE_SUFFIXES as IMAGE_SUFFIXES
from langchain_hf_vlm._batch_io import JsonlWriter, done_ids, images_in
from langchain_hf_vlm.errors import MalformedResponseError, ResponseTooLargeError
from langchain_hf_vlm.images import ImageSource, image_block

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

DEFAULT_PROMPT = "Describe this image in one sentence."

ItemInput: TypeAlias = ImageSource | Sequence[BaseMessage]
"""An image source (sent after the prompt) or a ready conversation (sent as it is)."""
Item: TypeAlias = tuple[str, ItemInput]
"""One unit of work: its id and its input."""
Progress: TypeAlias = bool | Callable[["BatchResult"], object]
"""``True`` for a tqdm bar on stderr (when tqdm is installed), or a callback per result."""

_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one item; the same fields whatever happened.

    Attributes:
        id: The item's id, as given.
        answer: The model's text answer, or ``None`` when the item failed.
        error: ``"ErrorType: message"`` when the item failed, else ``None``.
        retryable: Whether trying the item again later may succeed (rate limits, server
            errors, timeouts, broken connections); ``False`` for bad input and for answers.
        input_tokens: Prompt tokens the server reported, if it did.
        output_tokens: Answer tokens the server reported, if it did.
    """

    id: str
    answer: str | None
    error: str | None = None
    retryable: bool = False
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the item was answered."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict (one JSONL line, one table row)."""
        return asdict(self)

    @classmethod
    def failed(cls, item_id: str, error: BaseException) -> BatchResult:
        """The result of an item that raised ``error``."""
        return cls(
            id=item_id,
            answer=None,
            error=f"{type(error).__name__}: {error}",
            retryable=is_retryable(error),
        )


def is_retryable(error: BaseException) -> bool:
    """Whether an item that failed with ``error`` may succeed when tried again later.

    Rate limits, timeouts (``total_timeout`` included), broken connections and server-side
    failures (5xx, a stream cut short) are; invalid input, authentication, other client errors
    (4xx), answers that are no chat completion and answers over the model's size limits are
    not: the same server would likely send them again.
    """
    if isinstance(error, (ModelRateLimitError, ModelConnectionError, ModelTimeoutError)):
        return True
    if isinstance(error, (MalformedResponseError, ResponseTooLargeError)):
        return False
    if isinstance(error, ModelAPIError):
        status = getattr(error, "status_code", None)
        return not isinstance(status, int) or status >= 500 or status in _RETRYABLE_STATUSES
    return False


async def aanswer(
    model: BaseChatModel,
    item_id: str,
    item: ItemInput,
    *,
    prompt: str = DEFAULT_PROMPT,
    **invoke_kwargs: Any,
) -> BatchResult:
    """Answer one item; never raises (a failure becomes a result with ``error`` set).

    Args:
        model: Any LangChain chat model; ``ChatHuggingFaceVLM`` for Hugging Face VLMs.
        item_id: The id recorded in the result.
        item: An image source, sent as ``[prompt, image]`` in one user message, or a sequence
            of LangChain messages, sent as they are (``prompt`` is then not used).
        prompt: The text sent before the image.
        **invoke_kwargs: Passed to ``model.ainvoke`` (``max_tokens``, ``stop``, ...).

    Returns:
        The item's :class:`BatchResult`.
    """
    try:
        messages = await _messages(item, prompt)
        message = await model.ainvoke(messages, **invoke_kwargs)
    except Exception as exc:  # recorded for this item; the batch goes on
        return BatchResult.failed(item_id, exc)
    usage = getattr(message, "usage_metadata", None)
    return BatchResult(
        id=item_id,
        answer=message.text,
        input_tokens=usage["input_tokens"] if usage else None,
        output_tokens=usage["output_tokens"] if usage else None,
    )


async def _messages(item: ItemInput, prompt: str) -> list[BaseMessage]:
    if isinstance(item, Sequence) and not isinstance(item, (str, bytes, bytearray, memoryview)):
        messages = list(item)
        for index, message in enumerate(messages):
            if not isinstance(message, BaseMessage):
                raise TypeError(
                    f"message {index}: a conversation item holds LangChain messages, "
                    f"got {type(message).__name__}"
                )
        return messages
    # Reading a file and encoding it as base64 takes milliseconds for a photo.
    block = await asyncio.to_thread(image_block, item)
    return [HumanMessage(content=[{"type": "text", "text": prompt}, block])]


async def aiter_answers(
    model: BaseChatModel,
    items: Iterable[Item],
    *,
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 8,
    skip_ids: Container[str] = frozenset(),
    progress: Progress = False,
    **invoke_kwargs: Any,
) -> AsyncGenerator[BatchResult, None]:
    """Answer every item, yielding each result as soon as it is ready (completion order).

    The input is consumed lazily: at most ``concurrency`` items are taken ahead of the results
    yielded, so memory stays bounded whatever the input's length. Stopping the iteration early
    cancels the items in flight.

    Args:
        model: Any LangChain chat model.
        items: ``(id, input)`` pairs; an input is an image source or a list of messages
            (see :func:`aanswer`). Any iterable, including a generator.
        prompt: The text sent before each image.
        concurrency: The most items in flight at once (requests, and images in memory).
        skip_ids: Ids not to answer (already done); they yield nothing.
        progress: ``True`` for a tqdm progress bar (if tqdm is installed), or a callable
            called with each result.
        **invoke_kwargs: Passed to ``model.ainvoke``.

    Yields:
        One :class:`BatchResult` per item not skipped.

    Example:
        ```python
        import asyncio
        from langchain_hf_vlm import ChatHuggingFaceVLM
        from langchain_hf_vlm.batch import JsonlWriter, aiter_answers, done_ids, images_in

        async def main() -> None:
            model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
            with JsonlWriter("captions.jsonl") as out:
                async for result in aiter_answers(
                    model, images_in("photos/"), concurrency=16,
                    skip_ids=done_ids("captions.jsonl"),
                ):
                    out.write(result)

        asyncio.run(main())
        ```
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    source = iter(items)
    in_flight: set[asyncio.Task[BatchResult]] = set()
    ready: list[asyncio.Task[BatchResult]] = []
    """Finished, not yet yielded: they hold their slots (asyncio.wait may return several)."""
    report = _Reporter(progress, items)

    def refill() -> None:
        while len(in_flight) + len(ready) < concurrency:
            try:
                item_id, item = next(source)
            except StopIteration:
                return
            if item_id in skip_ids:
                continue
            task = asyncio.ensure_future(
                aanswer(model, item_id, item, prompt=prompt, **invoke_kwargs)
            )
            in_flight.add(task)

    try:
        refill()
        while in_flight or ready:
            if not ready:
                done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                in_flight.difference_update(done)
                ready.extend(done)
            result = ready.pop().result()
            refill()  # the slot of the result about to be yielded is free
            report(result)
            yield result
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        report.close()


async def aanswer_batch(
    model: BaseChatModel,
    items: Iterable[Item],
    *,
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 8,
    skip_ids: Container[str] = frozenset(),
    progress: Progress = False,
    **invoke_kwargs: Any,
) -> list[BatchResult]:
    """Answer every item; the results in input order (skipped ids left out).

    Takes the arguments of :func:`aiter_answers`, which it runs; prefer that for inputs too
    large to hold their results in memory.

    Example:
        ```python
        results = await aanswer_batch(
            model, [("cat", "cat.jpg"), ("dog", "https://example.com/dog.png")]
        )
        for result in results:
            print(result.id, result.answer or result.error)
        ```
    """
    order: dict[str, int] = {}

    def numbered() -> Iterator[Item]:
        for position, (item_id, item) in enumerate(items):
            order.setdefault(item_id, position)
            yield item_id, item

    results = [
        result
        async for result in aiter_answers(
            model,
            numbered(),
            prompt=prompt,
            concurrency=concurrency,
            skip_ids=skip_ids,
            progress=progress,
            **invoke_kwargs,
        )
    ]
    return sorted(results, key=lambda result: order[result.id])


def answer_batch(
    model: BaseChatModel,
    items: Iterable[Item],
    *,
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 8,
    skip_ids: Container[str] = frozenset(),
    progress: Progress = False,
    **invoke_kwargs: Any,
) -> list[BatchResult]:
    """Synchronous :func:`aanswer_batch`, for scripts (runs its own event loop, and closes the
    connections the model opened in it when it ends: ``model.aclose()`` where there is one).

    Raises:
        RuntimeError: Called from a running event loop; await :func:`aanswer_batch` there.

    Example:
        ```python
        from langchain_hf_vlm import ChatHuggingFaceVLM
        from langchain_hf_vlm.batch import answer_batch, images_in

        model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
        for result in answer_batch(model, images_in("photos/"), progress=True):
            print(result.id, result.answer or result.error)
        ```
    """

    async def answer_in_own_loop() -> list[BatchResult]:
        try:
            return await aanswer_batch(
                model,
                items,
                prompt=prompt,
                concurrency=concurrency,
                skip_ids=skip_ids,
                progress=progress,
                **invoke_kwargs,
            )
        finally:  # the connections of this loop end with it (the model makes new ones)
            aclose = getattr(model, "aclose", None)
            if aclose is not None:
                await aclose()

    return asyncio.run(answer_in_own_loop())


class _Reporter:
    """Reports each result: to the user's callback, to a tqdm bar, or nowhere."""

    def __init__(self, progress: Progress, items: Iterable[Item]) -> None:
        self._callback = progress if callable(progress) else None
        self._bar: Any = None
        if progress is True:
            try:
                tqdm = importlib.import_module("tqdm").tqdm
            except ImportError:  # progress bars are optional
                return
            total = len(items) if isinstance(items, Sized) else None
            self._bar = tqdm(total=total, unit="item", file=sys.stderr)

    def __call__(self, result: BatchResult) -> None:
        if self._callback is not None:
            self._callback(result)
        if self._bar is not None:
            self._bar.update()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


__all__ = [
    "DEFAULT_PROMPT",
    "BatchResult",
    "Item",
    "ItemInput",
    "JsonlWriter",
    "aanswer",
    "aanswer_batch",
    "aiter_answers",
    "answer_batch",
    "done_ids",
    "images_in",
    "is_retryable",
]
