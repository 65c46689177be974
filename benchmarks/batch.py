"""Throughput of the batch command (hf-vlm-batch-caption) against the loopback server.

Captions a folder of small PNGs (files read, blocks built, ``ainvoke``, one JSONL line written
and flushed per image) at concurrency 1, 8 and 32, against the same loopback server as
``run.py``, next to the floor: plain httpx posting a pre-built body at the same concurrency.
Rounds are interleaved; each round starts from an empty output file.

Run: ``python benchmarks/batch.py [--images 256] [--rounds 5] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from loopback import MODEL, LoopbackServer
from run import LOOP, SMALL, Floor, Row, machine, png, report

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.cli import caption_folder

CONCURRENCY = (1, 8, 32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, help="images in the folder (default 256)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="64 images, 2 rounds")
    args = parser.parse_args()
    images = args.images or (64 if args.quick else 256)
    rounds = args.rounds or (2 if args.quick else 5)

    print(f"# {machine()}")
    print(f"# {images} images of 8x8 to 16x16 px, {rounds} rounds", flush=True)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for index in range(images):
            (folder / f"{index:05}.png").write_bytes(png(8 + index % 9, 8))
        out = Path(tmp) / "captions.jsonl"
        model = ChatHuggingFaceVLM(
            model=MODEL, base_url=server.url, backend="openai", max_tokens=16
        )
        floor = Floor(server.url)

        async def captions(concurrency: int) -> float:
            out.unlink(missing_ok=True)
            summary = await caption_folder(
                model, folder, out, concurrency=concurrency, progress=False
            )
            assert (summary.answered, summary.failed) == (images, 0), summary
            return images / summary.seconds

        async def floor_rate(concurrency: int) -> float:
            gate = asyncio.Semaphore(concurrency)

            async def one() -> object:
                async with gate:
                    return await floor.ainvoke(SMALL)

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(images)))
            return images / (time.perf_counter() - start)

        samples: dict[tuple[int, str], list[float]] = {}
        for concurrency in CONCURRENCY:  # warm-up: pools opened at every level
            LOOP.run_until_complete(captions(concurrency))
            LOOP.run_until_complete(floor_rate(concurrency))
        for round_number in range(rounds):
            order = CONCURRENCY[round_number % 3 :] + CONCURRENCY[: round_number % 3]
            for concurrency in order:
                for name, measure in (("floor (httpx)", floor_rate), ("batch_caption", captions)):
                    rate = LOOP.run_until_complete(measure(concurrency))
                    samples.setdefault((concurrency, name), []).append(rate)

    rows = []
    for concurrency in CONCURRENCY:
        floor_samples = samples[concurrency, "floor (httpx)"]
        for name in ("floor (httpx)", "batch_caption"):
            rows.append(
                Row(
                    f"{images} images, concurrency {concurrency}",
                    name,
                    samples[concurrency, name],
                    "img/s",
                    floor=floor_samples,
                )
            )
    print(report(rows))


if __name__ == "__main__":
    main()
