"""Ray Data on one machine against the batch core in one process (needs .venv-ray).

Both answer the same folder of small PNGs against the loopback server (``loopback.py``, its own
process): the core with ``aanswer_batch`` (concurrency 32), Ray with ``caption_files`` (local
Ray, ``--actors`` actors of concurrency 32, Parquet out). Ray's times are for a pipeline on a
Ray already started (its start, ``ray.init``, is reported apart); the first pipeline of a
session also starts the actors.

Run: ``.venv-ray/bin/python benchmarks/batch_ray.py [--images 2000] [--rounds 3] [--actors 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ray
from loopback import MODEL, LoopbackServer

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.batch import aanswer_batch, images_in
from langchain_hf_vlm.ray_data import caption_files, image_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.pngs import tiny_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--actors", type=int, default=1)
    args = parser.parse_args()

    print(
        f"# {time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; ray {ray.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for index in range(args.images):
            (folder / f"{index:05}.png").write_bytes(tiny_png(8 + index % 9, 8))
        settings = {"model": MODEL, "base_url": server.url, "backend": "openai", "max_tokens": 16}

        start = time.perf_counter()
        ray.init(num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        started = time.perf_counter() - start

        def core() -> float:
            model = ChatHuggingFaceVLM(**settings)  # type: ignore[arg-type]
            begin = time.perf_counter()
            results = asyncio.run(aanswer_batch(model, images_in(folder), concurrency=32))
            assert all(result.ok for result in results)
            return float(args.images) / (time.perf_counter() - begin)

        def on_ray() -> float:
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            begin = time.perf_counter()
            caption_files(
                image_paths(folder), out, model_kwargs=settings, actors=args.actors, batch_size=64
            )
            return float(args.images) / (time.perf_counter() - begin)

        first = on_ray()
        rates: dict[str, list[float]] = {"core, one process": [], "Ray Data": []}
        for _ in range(args.rounds):
            rates["core, one process"].append(core())
            rates["Ray Data"].append(on_ray())
        ray.shutdown()

    print(f"# {args.images} images of 8x8 to 16x16 px; Ray: {args.actors} actor(s) x 32")
    print(f"ray.init: {started:.1f} s; first pipeline: {args.images / first:.0f} img/s")
    for name, samples in rates.items():
        print(
            f"{name:<18} {statistics.median(samples):6.0f} img/s "
            f"(min {min(samples):.0f}, max {max(samples):.0f})"
        )


if __name__ == "__main__":
    main()
