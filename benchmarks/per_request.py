"""CPU per async request: the package against plain httpx and the LangChain minimum.

At concurrency 32 against the loopback server the client's event loop is the bottleneck, so
the async row of ``run.py`` measures the client's CPU per request, blurred by the scheduler and
by the server sharing the machine's two cores. This script measures that cost directly: the
client process's CPU time (``time.process_time``; the server runs in its own process) per
``ainvoke`` of ``run.py``'s request (a question and an 8x8 PNG), median and minimum over
interleaved rounds.

``--concurrency 1`` (the default) sends one request at a time: each costs one write, one wait
and one read, so the figure is the per-request cost alone and repeats within a few percent.
``--concurrency 32`` sends as ``run.py`` does; the figure then also depends on how many answers
one wake-up of the event loop finds ready, that is on the server's speed, and on a busy
2-core machine some rounds come out twice as high for every contender alike.

Contenders as in ``run.py``: ``floor (httpx)``, ``lc-core minimum``, ``ours``.

Run: ``python benchmarks/per_request.py [--rounds 9] [--requests 1000] [--concurrency 1]
[--profile [CONTENDER]]`` (``--profile``: cProfile of one contender, ours by default: top
functions by own and cumulative time, and a ``.prof`` file). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import time
from typing import Any

from loopback import MODEL, LoopbackServer
from run import SMALL, Floor, LangChainModel, MinimalChatModel

from langchain_hf_vlm import ChatHuggingFaceVLM


def contenders(url: str) -> dict[str, Any]:
    return {
        "floor (httpx)": Floor(url),
        "lc-core minimum": LangChainModel("minimum", MinimalChatModel(floor=Floor(url))),
        "ours": LangChainModel(
            "ours", ChatHuggingFaceVLM(model=MODEL, base_url=url, backend="openai", max_tokens=16)
        ),
    }


async def cpu_per_request(player: Any, requests: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> object:
        async with gate:
            return await player.ainvoke(SMALL)

    gc.collect()
    start = time.process_time()
    await asyncio.gather(*(one() for _ in range(requests)))
    return (time.process_time() - start) / requests * 1e6


async def measure(url: str, rounds: int, requests: int, concurrency: int) -> dict[str, list[float]]:
    players = contenders(url)
    names = list(players)
    for player in players.values():
        await cpu_per_request(player, 200, concurrency)  # warm-up: opens the pools
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(await cpu_per_request(players[name], requests, concurrency))
    return samples


def profile(url: str, requests: int, concurrency: int, name: str) -> None:
    ours = contenders(url)[name]
    loop = asyncio.new_event_loop()
    loop.run_until_complete(cpu_per_request(ours, 200, concurrency))
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(cpu_per_request(ours, requests, concurrency))
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(80)
    stats.dump_stats(f"per_request-{name.split()[0]}.prof")


def cli() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument(
        "--profile", nargs="?", const="ours", default=None, help="contender to profile (ours)"
    )
    args = parser.parse_args()
    with LoopbackServer() as server:
        if args.profile:
            profile(server.url, args.requests, args.concurrency, args.profile)
            return
        samples = asyncio.run(measure(server.url, args.rounds, args.requests, args.concurrency))
    floor = statistics.median(samples["floor (httpx)"])
    minimum = statistics.median(samples["lc-core minimum"])
    print(f"{args.requests} requests at concurrency {args.concurrency}, {args.rounds} rounds")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:16} {median:6.0f} µs CPU per request (min {min(values):.0f}, "
            f"max {max(values):.0f}); floor/this {floor / median:.2f}x; "
            f"over the minimum {median - minimum:+.0f} µs"
        )
    print(json.dumps({name: [round(v, 1) for v in values] for name, values in samples.items()}))


if __name__ == "__main__":
    cli()
