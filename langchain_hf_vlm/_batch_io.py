"""Folders and JSONL files: what a command-line batch run reads and writes.

:func:`images_in` lists a folder's images lazily; :class:`JsonlWriter` appends
:class:`~langchain_hf_vlm.batch.BatchResult` records, one line each; :func:`done_ids` reads
back the ids answered, to resume. Public through :mod:`langchain_hf_vlm.batch`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol


class Record(Protocol):
    """What a JSONL line is made from (a :class:`~langchain_hf_vlm.batch.BatchResult`)."""

    def to_dict(self) -> dict[str, Any]: ...


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})


def images_in(folder: str | os.PathLike[str]) -> Iterator[tuple[str, Path]]:
    """The image files under ``folder``, recursively, as ``(relative path, path)`` items.

    Lazy and in a stable order (sorted names, depth first): one folder's listing is in memory
    at a time, however many files there are. Files are chosen by suffix (PNG, JPEG, GIF,
    WebP, BMP, TIFF), so an unreadable image still gives a result (with an error).
    """
    root = Path(folder)

    def walk(directory: Path) -> Iterator[tuple[str, Path]]:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            path = directory / entry.name
            if entry.is_dir():
                yield from walk(path)
            elif entry.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                yield path.relative_to(root).as_posix(), path

    return walk(root)


def done_ids(path: str | os.PathLike[str]) -> set[str]:
    """The ids that have an answer in a JSONL output of :class:`BatchResult` records.

    Lines recording failures and a last line cut short by a crash do not count, so those items
    are done again. A missing file gives an empty set.
    """
    done: set[str] = set()
    if not Path(path).exists():
        return done
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("answer"), str):
                done.add(str(record["id"]))
    return done


class JsonlWriter:
    """Appends results to a JSONL file, one line each, flushed as written.

    A crash loses at most the items in flight. A last line cut short by an earlier crash is
    ended first, so that it stays one unreadable line (:func:`done_ids` skips it).

    Example:
        ```python
        with JsonlWriter("captions.jsonl") as out:
            for result in answer_batch(model, images_in("photos/")):
                out.write(result)
        ```
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def __enter__(self) -> JsonlWriter:
        with self.path.open("a+b") as raw:
            if raw.tell() > 0:
                raw.seek(-1, os.SEEK_END)
                if raw.read(1) != b"\n":
                    raw.write(b"\n")
        self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, result: Record) -> None:
        """Append ``result`` as one line."""
        if self._file is None:
            raise RuntimeError("JsonlWriter.write outside its `with` block")
        self._file.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        self._file.flush()
