"""Photos at full speed: the batch core on full-size camera JPEGs and PNG screenshots.

A folder of distinct 4000x3000 camera JPEGs (3-5 MB, quality 92) and 2880x1800 PNG
screenshots is answered end to end against the loopback server (``loopback.py``, its own
process) by

- ``batch core``: ``aanswer_batch(model, images_in(folder), concurrency=8)``: files read and
  base64-encoded by ``image_block`` in threads, prepared by the model (decode with JPEG draft
  scaling, LANCZOS resize to the default limits, JPEG/PNG encode) in threads;
- ``batch core, 1 thread``: the same with a one-thread executor (one core's worth);
- ``naive``: what a user writes by hand: Pillow ``thumbnail`` (LANCZOS) to the same limits and
  JPEG quality 85 in a ``ThreadPoolExecutor`` of one thread per core, then the same model calls.

Each run is a fresh process (so that the peak resident set is that run's alone), rounds are
interleaved. Reported: images/s, CPU use (process CPU seconds per wall second: 2.0 is both
cores of a 2-core machine busy), CPU time per image (what a busy machine does not change
much), and peak RSS. The folder is read lazily, so the peak does not
grow with the folder (``--photos`` 2x: same peak).

Run: ``python benchmarks/batch_photos.py [--photos 32] [--screenshots 8] [--rounds 3] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from loopback import MODEL, LoopbackServer
from PIL import Image

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.batch import aanswer, aanswer_batch, images_in

CONTENDERS = ("batch core", "batch core, 1 thread", "naive")
LIMIT = (1568, 1568)
MAX_PIXELS = 1120 * 1120
CONCURRENCY = 8


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment after SOI: same pixels, distinct bytes (no cache hit)."""
    data = text.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(data) + 2) + data + jpeg[2:]


def with_text_chunk(png: bytes, text: str) -> bytes:
    """The same PNG with a tEXt chunk before IEND: same pixels, distinct bytes."""
    data = b"Comment\x00" + text.encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:-12] + chunk + png[-12:]


def make_folder(folder: Path, photos: int, screenshots: int) -> None:
    from images import encoded, make_photo, make_screenshot

    jpeg = encoded(make_photo(), "JPEG", quality=92)
    png = encoded(make_screenshot(), "PNG", optimize=False)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(photos):
        (folder / f"photo{index:04}.jpg").write_bytes(with_comment(jpeg, str(index)))
    for index in range(screenshots):
        (folder / f"screen{index:04}.png").write_bytes(with_text_chunk(png, str(index)))


def naive_data_uri(path: Path) -> str:
    with Image.open(path) as image:
        image.thumbnail(naive_size(image.size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def naive_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, LIMIT[0] / max(size), (MAX_PIXELS / (width * height)) ** 0.5)
    return max(1, int(width * scale)), max(1, int(height * scale))


async def run_one(name: str, folder: Path, url: str) -> dict[str, float]:
    # Each image is seen once: no cache of prepared images (it would only hold memory).
    model = ChatHuggingFaceVLM(
        model=MODEL, base_url=url, backend="openai", max_tokens=16, image_cache_bytes=0
    )
    loop = asyncio.get_running_loop()
    await model.ainvoke("warm up")
    if name == "batch core, 1 thread":
        loop.set_default_executor(ThreadPoolExecutor(1))
    cpu, start = time.process_time(), time.perf_counter()
    if name == "naive":
        # Prepare-then-send per image, CONCURRENCY in flight; one Pillow thread per core.
        pool = ThreadPoolExecutor(os.cpu_count() or 1)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: str, path: Path) -> bool:
            async with gate:
                uri = await loop.run_in_executor(pool, naive_data_uri, path)
                return (await aanswer(model, item_id, uri)).ok

        oks = await asyncio.gather(*(one(item_id, path) for item_id, path in images_in(folder)))
    else:
        results = await aanswer_batch(model, images_in(folder), concurrency=CONCURRENCY)
        oks = [result.ok for result in results]
    wall = time.perf_counter() - start
    assert all(oks), "an image failed"
    return {
        "rate": len(oks) / wall,
        "cpu": (time.process_time() - cpu) / wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, help="camera JPEGs (default 32)")
    parser.add_argument("--screenshots", type=int, help="PNG screenshots (default 8)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="8 photos, 2 screenshots, 1 round")
    parser.add_argument("--run", nargs=3, metavar=("CONTENDER", "FOLDER", "URL"), help="internal")
    args = parser.parse_args()
    if args.run:
        name, folder, url = args.run
        print(json.dumps(asyncio.run(run_one(name, Path(folder), url))))
        return
    photos = args.photos or (8 if args.quick else 32)
    screenshots = args.screenshots if args.screenshots is not None else (2 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 3)

    from run import machine

    print(f"# {machine()}")
    print(
        f"# {photos} camera JPEGs 4000x3000 and {screenshots} PNG screenshots 2880x1800, "
        f"concurrency {CONCURRENCY}, {rounds} rounds",
        flush=True,
    )
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        folder = Path(tmp) / "photos"
        make_folder(folder, photos, screenshots)
        for round_number in range(rounds):
            shift = round_number % len(CONTENDERS)
            for name in CONTENDERS[shift:] + CONTENDERS[:shift]:
                out = subprocess.run(
                    [sys.executable, __file__, "--run", name, str(folder), server.url],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                samples[name].append(json.loads(out.stdout.splitlines()[-1]))
    naive = statistics.median(s["rate"] for s in samples["naive"])
    print(
        "contender            | img/s (median, min-max) | vs naive | CPU use | CPU/img | peak RSS"
    )
    print(
        "---------------------+-------------------------+----------+---------+---------+---------"
    )
    for name in CONTENDERS:
        rates = [s["rate"] for s in samples[name]]
        rate = statistics.median(rates)
        cpu = statistics.median(s["cpu"] for s in samples[name])
        per_image = statistics.median(s["cpu"] / s["rate"] * 1000 for s in samples[name])
        rss = statistics.median(s["rss_mb"] for s in samples[name])
        figures = f"{rate:5.1f} ({min(rates):.1f}-{max(rates):.1f})"
        print(
            f"{name:<20} | {figures:<23} | {rate / naive:7.2f}x | {cpu:6.2f}  "
            f"| {per_image:4.0f} ms | {rss:5.0f} MB"
        )


if __name__ == "__main__":
    main()
