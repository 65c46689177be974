"""Caption every image of a folder into a JSONL file: concurrent, resumable, failure-tolerant.

    python examples/batch_caption.py photos/ --out captions.jsonl --concurrency 8
    python examples/batch_caption.py photos/ --base-url URL --model NAME  # TGI, vLLM, ...

Each output line is one image, written as soon as its answer arrives:
    {"image": "cat.jpg", "caption": "A cat on a sofa.", "usage": {"input_tokens": ...}}
or, when that image failed (unreadable file, server error after retries...):
    {"image": "notes.png", "error": "InvalidContentError: ..."}
One image failing does not stop the others. Run the same command again after a stop (Ctrl-C,
a crash, failed images) and it skips every image that already has a caption in the file and
retries the rest. At most ``--concurrency`` requests are in flight, and at most that many
images are in memory. The exit status is 1 when an image of this run failed.

With neither HF_TOKEN nor --base-url it starts a tiny local test model (see quickstart.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from _target import add_target_arguments, open_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from tqdm import tqdm

from langchain_hf_vlm import image_block

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
DEFAULT_QUESTION = "Describe this image in one sentence."


@dataclass
class Summary:
    captioned: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0


def images_in(folder: Path) -> list[Path]:
    """The image files under ``folder``, recursively, in a stable order."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )


def captioned(out: Path) -> set[str]:
    """Images that already have a caption in the output file. A line cut short by a crash,
    and lines recording failures, do not count: those images are done again."""
    if not out.exists():
        return set()
    done = set()
    with out.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "caption" in record:
                done.add(record["image"])
    return done


async def caption_folder(
    model: BaseChatModel,
    folder: Path,
    out: Path,
    *,
    concurrency: int = 8,
    question: str = DEFAULT_QUESTION,
    progress: bool = True,
) -> Summary:
    """Caption the images of ``folder`` not yet captioned in ``out``, appending to ``out``."""
    done = captioned(out)
    todo = [path for path in images_in(folder) if path.relative_to(folder).as_posix() not in done]
    summary = Summary(skipped=len(done))
    queue: Iterator[Path] = iter(todo)
    start = time.perf_counter()
    with (
        _append_to(out) as sink,
        tqdm(total=len(todo), unit="img", disable=not progress, file=sys.stderr) as bar,
    ):

        async def worker() -> None:
            # Workers share one iterator: each takes the next image when its last one is
            # written, so that at most `concurrency` images are read and in flight.
            for path in queue:
                record = await _caption(model, path, folder, question)
                _write(sink, record)
                if "error" in record:
                    summary.failed += 1
                else:
                    summary.captioned += 1
                bar.update()

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    summary.seconds = time.perf_counter() - start
    return summary


async def _caption(model: BaseChatModel, path: Path, folder: Path, question: str) -> dict[str, Any]:
    name = path.relative_to(folder).as_posix()
    try:
        block = await asyncio.to_thread(image_block, path)
        message = HumanMessage(content=[{"type": "text", "text": question}, block])
        answer = await model.ainvoke([message])
    except Exception as exc:  # recorded for this image; the run goes on
        return {"image": name, "error": f"{type(exc).__name__}: {exc}"}
    return {"image": name, "caption": answer.text, "usage": answer.usage_metadata}


def _append_to(out: Path) -> IO[str]:
    sink = out.open("a+b")
    if sink.tell() > 0:
        sink.seek(-1, 2)
        if sink.read(1) != b"\n":  # a line cut short by a crash: start a new one
            sink.write(b"\n")
    sink.close()
    return out.open("a", encoding="utf-8")


def _write(sink: IO[str], record: dict[str, Any]) -> None:
    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    sink.flush()  # a crash loses at most the answers in flight


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="folder of images (searched recursively)")
    parser.add_argument("--out", type=Path, help="JSONL file (default: FOLDER/captions.jsonl)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--question", default=DEFAULT_QUESTION)
    parser.add_argument("--max-tokens", type=int, default=100)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_target_arguments(parser)
    args = parser.parse_args()
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    out = args.out or args.folder / "captions.jsonl"

    with ExitStack() as stack:
        model = open_model(args, stack, max_tokens=args.max_tokens)
        summary = asyncio.run(
            caption_folder(
                model,
                args.folder,
                out,
                concurrency=args.concurrency,
                question=args.question,
                progress=not args.no_progress,
            )
        )
    rate = summary.captioned / summary.seconds if summary.seconds else 0.0
    print(
        f"{summary.captioned} captioned, {summary.failed} failed, {summary.skipped} already "
        f"done ({rate:.1f} images/s); results in {out}"
    )
    sys.exit(1 if summary.failed else 0)


if __name__ == "__main__":
    main()
