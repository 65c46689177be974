"""Command line: ``hf-vlm-batch-caption``, a folder of images in, a JSONL file of answers out.

    hf-vlm-batch-caption photos/ --out captions.jsonl --concurrency 8   # HF router, HF_TOKEN
    hf-vlm-batch-caption photos/ --base-url URL --model NAME            # TGI, vLLM, ...

Each output line is one image, written as soon as its answer arrives, in the schema of
:class:`~langchain_hf_vlm.batch.BatchResult`:
    {"id": "cat.jpg", "answer": "A cat on a sofa.", "error": null, "retryable": false,
     "input_tokens": 812, "output_tokens": 9}
or, when that image failed (unreadable file, server error after retries...):
    {"id": "notes.png", "answer": null, "error": "InvalidContentError: ...", ...}
One image failing does not stop the others. Run the same command again after a stop (Ctrl-C,
a crash, failed images) and it skips every image that already has an answer in the file and
tries the rest again. At most ``--concurrency`` requests are in flight, and at most that many
images are in memory. The exit status is 1 when an image of this run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_hf_vlm.batch import DEFAULT_PROMPT, JsonlWriter, aiter_answers, done_ids, images_in

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

DEFAULT_ROUTER_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"


@dataclass
class Summary:
    """What one run did."""

    answered: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def line(self, out: Path) -> str:
        rate = self.answered / self.seconds if self.seconds else 0.0
        return (
            f"{self.answered} captioned, {self.failed} failed, {self.skipped} already done "
            f"({rate:.1f} images/s); results in {out}"
        )


async def caption_folder(
    model: BaseChatModel,
    folder: Path,
    out: Path,
    *,
    concurrency: int = 8,
    prompt: str = DEFAULT_PROMPT,
    progress: bool = True,
) -> Summary:
    """Answer the images of ``folder`` that have no answer in ``out`` yet, appending to ``out``."""
    done = done_ids(out)
    summary = Summary(skipped=len(done))
    start = time.perf_counter()
    with JsonlWriter(out) as sink:
        async for result in aiter_answers(
            model,
            images_in(folder),
            prompt=prompt,
            concurrency=concurrency,
            skip_ids=done,
            progress=progress,
        ):
            sink.write(result)
            if result.ok:
                summary.answered += 1
            else:
                summary.failed += 1
    summary.seconds = time.perf_counter() - start
    return summary


def parser() -> argparse.ArgumentParser:
    """The command's arguments (the model's are ``--base-url``, ``--model``, ``--max-tokens``)."""
    parser = argparse.ArgumentParser(
        prog="hf-vlm-batch-caption",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="folder of images (searched recursively)")
    parser.add_argument("--out", type=Path, help="JSONL file (default: FOLDER/captions.jsonl)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--question", default=DEFAULT_PROMPT, help="the prompt sent per image")
    parser.add_argument("--max-tokens", type=int, default=100)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--base-url", help="an OpenAI-compatible server (TGI, vLLM, ...)")
    parser.add_argument("--model", help="model id (router) or served model name (base URL)")
    return parser


def batch_caption(argv: Sequence[str] | None = None, *, model: BaseChatModel | None = None) -> int:
    """Run the command; returns the exit status (1 when an image of this run failed).

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        model: The model to use instead of the one ``--base-url`` and ``--model`` describe.
    """
    args = parser().parse_args(argv)
    if not args.folder.is_dir():
        parser().error(f"{args.folder} is not a folder")
    out = args.out or args.folder / "captions.jsonl"
    if model is None:
        from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM

        model = ChatHuggingFaceVLM(
            model=args.model or DEFAULT_ROUTER_MODEL,
            base_url=args.base_url,
            max_tokens=args.max_tokens,
            image_cache_bytes=0,  # each image is sent once: a cache would only hold memory
        )
    summary = asyncio.run(
        caption_folder(
            model,
            args.folder,
            out,
            concurrency=args.concurrency,
            prompt=args.question,
            progress=not args.no_progress,
        )
    )
    sys.stdout.write(summary.line(out) + "\n")
    return 1 if summary.failed else 0


def main() -> None:
    """Entry point of the ``hf-vlm-batch-caption`` console script."""
    sys.exit(batch_caption())
