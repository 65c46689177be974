"""Ray Data adapter: answer the images of a Ray ``Dataset`` past one machine.

Needs the ``ray`` extra (``pip install '.[ray]'`` from a clone); Ray is imported only when a
function here runs, so importing this module costs nothing.

- :class:`VLMAnswerer` is the callable class for ``Dataset.map_batches``: each actor builds one
  model (from a model or from its keyword arguments) and keeps at most ``concurrency`` requests
  in flight over every batch it is given, on the actor's own event loop. Each row gets the
  columns of :class:`~langchain_hf_vlm.batch.BatchResult` with fixed Arrow types (a failed row
  has an error string; a batch where every row failed still has a ``string`` answer column,
  never a null-typed one, which Parquet cannot take).
- :func:`answer_dataset` adds that stage to a dataset with resource settings that do not
  starve a small cluster: fractional CPUs for the HTTP actors (they wait on the network; whole
  CPUs can leave none for the read task, and the job then hangs with no error).
- :func:`caption_files` is the whole pipeline: image files in, Parquet or JSONL out, resumable.

Resume. :func:`answered_ids` reads the ids that already have an answer from an output folder
(files cut short by a crash are skipped), and :func:`caption_files` leaves them out of the read
(an anti-join on the output): a rerun sends only the missing requests, failed rows included.
Ray's own ``DataContext.checkpoint_config = CheckpointConfig(id_column="path", ...)`` also works
with these stages (the id column is kept to the write), but its filter actor takes a whole CPU.

The API key: a model given to :class:`VLMAnswerer` travels pickled to the actors, key included,
through Ray's object store. To keep the key out of it, give ``model_kwargs`` without
``api_key`` and set ``HF_TOKEN`` in the workers' environment (for example through
``runtime_env={"env_vars": ...}`` from a secret store, or the cluster's own environment).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_hf_vlm.batch import DEFAULT_PROMPT, IMAGE_SUFFIXES, BatchResult, aanswer

if TYPE_CHECKING:
    import pyarrow as pa
    from langchain_core.language_models import BaseChatModel
    from ray.data import Dataset

RESULT_COLUMNS = ("answer", "error", "retryable", "input_tokens", "output_tokens")
"""The columns each row gets, typed string, string, bool, int64, int64."""
ACTOR_CPUS = 0.25
"""CPUs reserved per HTTP actor: it mostly waits, and the read and write tasks need CPUs."""
WRITE_CPUS = 0.1
"""CPUs reserved per write task, so that writes keep pace with the answers (a crash then loses
only the blocks in flight, not everything answered so far)."""


def result_schema() -> pa.Schema:
    """The Arrow types of :data:`RESULT_COLUMNS`."""
    import pyarrow as pa

    return pa.schema(
        [
            ("answer", pa.string()),
            ("error", pa.string()),
            ("retryable", pa.bool_()),
            ("input_tokens", pa.int64()),
            ("output_tokens", pa.int64()),
        ]
    )


class VLMAnswerer:
    """A ``Dataset.map_batches`` stage (``batch_format="pyarrow"``): one answer per row.

    The output has the input's columns (the image column dropped when it holds the image
    bytes) and :data:`RESULT_COLUMNS`. A row's failure is recorded in its ``error`` column and
    never fails the batch.

    Args:
        model: The chat model to use; it is pickled to each actor.
        model_kwargs: Instead of ``model``: the keyword arguments of a ``ChatHuggingFaceVLM``
            built in each actor (keeps the API key out of the pickle when it is left out and
            ``HF_TOKEN`` is set on the workers). ``image_cache_bytes`` defaults to 0 here:
            each image is sent once, so a cache of prepared images would only hold memory.
        image_column: The column holding each row's image: bytes, a path or an http(s) URL.
        id_column: The column holding each row's id (kept in the output).
        prompt: The text sent before each image.
        concurrency: The most requests in flight in one actor, over all its batches.
        invoke_kwargs: Passed to ``model.ainvoke`` (``max_tokens``...).

    Example:
        ```python
        import ray
        from langchain_hf_vlm.ray_data import VLMAnswerer

        ds = ray.data.read_binary_files("s3://bucket/photos/", include_paths=True)
        answers = ds.map_batches(
            VLMAnswerer,
            fn_constructor_kwargs={"model_kwargs": {"model": "Qwen/Qwen2.5-VL-7B-Instruct"}},
            batch_format="pyarrow", batch_size=64, concurrency=4, num_cpus=0.25,
        )
        answers.write_parquet("s3://bucket/captions/", ray_remote_args={"num_cpus": 0.1})
        ```
    """

    def __init__(
        self,
        model: BaseChatModel | None = None,
        *,
        model_kwargs: Mapping[str, Any] | None = None,
        image_column: str = "bytes",
        id_column: str = "path",
        prompt: str = DEFAULT_PROMPT,
        concurrency: int = 32,
        invoke_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if (model is None) == (model_kwargs is None):
            raise ValueError("give either model or model_kwargs")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if model is None:
            from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM

            # Each image is sent once: no cache of prepared images unless asked for.
            model = ChatHuggingFaceVLM(**{"image_cache_bytes": 0, **(model_kwargs or {})})
        self.model = model
        self.image_column = image_column
        self.id_column = id_column
        self.prompt = prompt
        self.concurrency = concurrency
        self.invoke_kwargs = dict(invoke_kwargs or {})
        # Made on first use: it must belong to the actor's event loop, which runs the batches.
        self._gate: asyncio.Semaphore | None = None

    async def __call__(self, batch: pa.Table) -> pa.Table:
        """Answer every row of ``batch``; the rows in the same order."""
        import pyarrow as pa

        if self._gate is None:
            self._gate = asyncio.Semaphore(self.concurrency)
        for role, name in (("id", self.id_column), ("image", self.image_column)):
            if name not in batch.column_names:
                raise KeyError(
                    f"the {role} column {name!r} is not in the dataset "
                    f"(columns: {', '.join(batch.column_names)})"
                )
        ids = [str(value) for value in batch.column(self.id_column).to_pylist()]
        images = batch.column(self.image_column).to_pylist()
        results = await asyncio.gather(
            *(self._answer(item_id, image) for item_id, image in zip(ids, images, strict=True))
        )
        kept = batch
        if self.image_column != self.id_column and pa.types.is_binary(
            batch.schema.field(self.image_column).type
        ):
            kept = batch.drop_columns([self.image_column])
        columns = {name: [getattr(result, name) for result in results] for name in RESULT_COLUMNS}
        for field in result_schema():
            if field.name in kept.column_names:
                kept = kept.drop_columns([field.name])
            kept = kept.append_column(field, pa.array(columns[field.name], type=field.type))
        return kept

    async def _answer(self, item_id: str, image: Any) -> BatchResult:
        assert self._gate is not None
        async with self._gate:
            if image is None:
                return BatchResult.failed(item_id, ValueError(f"no image in {self.image_column}"))
            return await aanswer(
                self.model, item_id, image, prompt=self.prompt, **self.invoke_kwargs
            )


def answer_dataset(
    ds: Dataset,
    model: BaseChatModel | None = None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
    image_column: str = "bytes",
    id_column: str = "path",
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 32,
    actors: int | tuple[int, int] = 1,
    batch_size: int = 64,
    num_cpus: float = ACTOR_CPUS,
    invoke_kwargs: Mapping[str, Any] | None = None,
) -> Dataset:
    """``ds`` with one answer per row, by a pool of :class:`VLMAnswerer` actors.

    The requests in flight are at most ``actors`` (the largest pool size) times
    ``concurrency``; each row's model call retries rate limits itself, honouring the server's
    ``Retry-After``.

    Args:
        ds: A dataset with an image column and an id column, for example
            ``ray.data.read_binary_files(paths, include_paths=True)`` (columns ``bytes`` and
            ``path``, the defaults).
        model: See :class:`VLMAnswerer`, as are ``model_kwargs``, ``image_column``,
            ``id_column``, ``prompt``, ``concurrency`` and ``invoke_kwargs``.
        actors: The actor pool's size, or its ``(min, max)`` for autoscaling.
        batch_size: Rows given to an actor at once.
        num_cpus: CPUs reserved per actor; keep it fractional (see the module's notes).

    Returns:
        The lazy dataset (nothing runs until it is consumed or written).
    """
    from ray.data import ActorPoolStrategy

    if isinstance(actors, int):
        pool = ActorPoolStrategy(size=actors)
    else:
        pool = ActorPoolStrategy(min_size=actors[0], max_size=actors[1])
    return ds.map_batches(
        VLMAnswerer,
        fn_constructor_kwargs={
            "model": model,
            "model_kwargs": model_kwargs,
            "image_column": image_column,
            "id_column": id_column,
            "prompt": prompt,
            "concurrency": concurrency,
            "invoke_kwargs": invoke_kwargs,
        },
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        num_cpus=num_cpus,
    )


def answered_ids(output: str | os.PathLike[str], *, id_column: str = "path") -> set[str]:
    """The ids that have an answer in an output folder of Parquet or JSONL files.

    The folder may be local or in object storage (``s3://...``, through Arrow's file
    systems). A file that cannot be read (cut short by a crash) is skipped: its rows are done
    again. A folder that does not exist gives an empty set.
    """
    import pyarrow.fs
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    where = os.fspath(output)
    if "://" in where:
        fs, root = pyarrow.fs.FileSystem.from_uri(where)
    else:
        fs, root = pyarrow.fs.LocalFileSystem(), os.path.abspath(where)
    listing = fs.get_file_info(pyarrow.fs.FileSelector(root, allow_not_found=True))
    done: set[str] = set()
    for info in sorted(listing, key=lambda info: info.path):
        try:
            if info.extension == "parquet":
                table = pq.read_table(info.path, columns=[id_column, "answer"], filesystem=fs)
            elif info.extension in ("json", "jsonl"):
                with fs.open_input_file(info.path) as raw:
                    table = pa_json.read_json(raw).select([id_column, "answer"])
            else:
                continue
        except Exception:  # a partial file: its rows are answered again
            continue
        answers = table.column("answer").to_pylist()
        for item_id, answer in zip(table.column(id_column).to_pylist(), answers, strict=True):
            if answer is not None:
                done.add(str(item_id))
    return done


def image_paths(source: str | os.PathLike[str]) -> list[str]:
    """The image files of a folder (recursively, sorted), or the paths listed in a text file
    (one a line; blank lines and ``#`` comments skipped)."""
    path = Path(source)
    if path.is_dir():
        return sorted(
            str(file)
            for file in path.rglob("*")
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def caption_files(
    paths: Sequence[str],
    output: str | os.PathLike[str],
    model: BaseChatModel | None = None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
    output_format: Literal["parquet", "json"] = "parquet",
    resume: bool = True,
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 32,
    actors: int | tuple[int, int] = 1,
    batch_size: int = 64,
    invoke_kwargs: Mapping[str, Any] | None = None,
) -> int:
    """Answer image files with Ray Data into ``output`` (a folder of Parquet or JSONL files).

    Each output row has the file's ``path`` and :data:`RESULT_COLUMNS`. With ``resume``, paths
    that already have an answer in ``output`` are left out, so that a rerun after a crash or
    with failed rows sends only the missing requests; the rows of earlier runs stay (an id may
    then have an error row from an earlier run and an answer from a later one).

    Args:
        paths: Image files, local or in object storage (``s3://...``, read by Arrow).
        output: The output folder (local or in object storage).
        model: See :func:`answer_dataset`, as are the other arguments.
        output_format: ``"parquet"`` or ``"json"`` (JSON Lines).
        resume: Leave out the paths already answered in ``output``.

    Returns:
        How many paths were sent to the pipeline (0: nothing left to do).

    Example:
        ```python
        import ray
        from langchain_hf_vlm.ray_data import caption_files, image_paths

        ray.init()  # or ray.init(address="auto") on a cluster
        caption_files(image_paths("photos/"), "captions/",
                      model_kwargs={"model": "Qwen/Qwen2.5-VL-7B-Instruct"})
        ```
    """
    import ray.data

    # Arrow reports object-storage paths without their scheme ("bucket/key" for "s3://...").
    done = {_without_scheme(path) for path in answered_ids(output)} if resume else set()
    todo = [path for path in paths if _without_scheme(path) not in done]
    if not todo:
        return 0
    ds = ray.data.read_binary_files(todo, include_paths=True, num_cpus=ACTOR_CPUS)
    answers = answer_dataset(
        ds,
        model,
        model_kwargs=model_kwargs,
        prompt=prompt,
        concurrency=concurrency,
        actors=actors,
        batch_size=batch_size,
        invoke_kwargs=invoke_kwargs,
    )
    write = answers.write_parquet if output_format == "parquet" else answers.write_json
    write(str(output), ray_remote_args={"num_cpus": WRITE_CPUS})
    return len(todo)


def _without_scheme(path: str) -> str:
    return path.split("://", 1)[1] if "://" in path else path


__all__ = [
    "ACTOR_CPUS",
    "RESULT_COLUMNS",
    "WRITE_CPUS",
    "VLMAnswerer",
    "answer_dataset",
    "answered_ids",
    "caption_files",
    "image_paths",
    "result_schema",
]
