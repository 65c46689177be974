"""Instructions per unit (callgrind): the package against the LangChain minimum, load-free.

Wall-clock and even CPU-time figures move with the machine's load; the number of instructions
a call executes does not. This script runs each (measure, contender) pair in its own process
under ``valgrind --tool=callgrind``, collecting only inside the measured call: the call is made
from a ctypes callback (``closure_fcn``, a C function nothing else in the process runs), and
callgrind's ``--toggle-collect`` counts only what runs inside it; instrumentation itself starts
there (``callgrind_control``), so imports run at valgrind's uninstrumented speed. Imports,
set-up and warm-up calls are not counted. The loopback server (``loopback.py``) runs natively,
started by this driver, so its work is not counted either. Garbage collection is disabled
during the measured call (a collection's cost depends on the whole heap; ``run.py`` reports
collections separately).

Measures (contenders ``minimum``, ``run.py``'s ``lc-core minimum``, and ``ours``):

- ``stream``: ``model.stream`` of ``run.py``'s request over loopback HTTP, 2,000 chunks;
  instructions per chunk (request preparation, langchain-core's per-chunk work and the final
  merge included).
- ``astream``: the same through ``model.astream`` on an event loop.
- ``pure``: one 2,000-chunk SSE body as the network reads it (64 KB reads) to LangChain
  chunks, no network: the minimum's httpx line decoder, ``json.loads`` and a bare
  ``AIMessageChunk``; the package's transport items and stream session.
- ``invoke``, ``ainvoke``: one call of ``run.py``'s request (text and an 8x8 PNG) over loopback
  HTTP; instructions per call.
- ``prepare``: the package's request preparation alone (messages, image, body; no I/O).

Run: ``python benchmarks/instructions.py [MEASURE ...] [--calls N]`` (default: every measure;
about 30 s of valgrind start-up per pair and a few seconds per measured call). Needs valgrind.
Prints instructions per unit and the ratio to the minimum; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopback import LoopbackServer, stream_bytes

HERE = Path(__file__).resolve()
MARKER = "closure_fcn"
CHUNKS = 2000
MEASURES = ("stream", "astream", "pure", "invoke", "ainvoke", "prepare")
CONTENDERS = {"prepare": ("ours",)}
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def counted(call: Callable[[], object]) -> None:
    """Run ``call`` inside the C function that callgrind's collection is toggled on: a ctypes
    callback (``closure_fcn``), called once by libc's ``bsearch`` over a one-element array."""
    libc = ctypes.CDLL(None)
    compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    libc.bsearch.restype = ctypes.c_void_p
    libc.bsearch.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        compare,
    ]

    def inside_marker(_key: int | None, _item: int | None) -> int:
        call()
        return 0

    key, items = ctypes.c_int(0), (ctypes.c_int * 1)(0)
    callback = compare(inside_marker)
    # Started with instrumentation off (a fast start-up); on from here, counted in the call only.
    subprocess.run(
        ["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True
    )
    gc.collect()
    gc.disable()
    libc.bsearch(ctypes.byref(key), items, 1, ctypes.sizeof(ctypes.c_int), callback)
    gc.enable()


def sse_reads(chunks: int) -> list[bytes]:
    """The body of the loopback server's stream, de-chunked, in 64 KB reads."""
    raw = stream_bytes(chunks)
    body = raw[raw.index(b"\r\n\r\n") + 4 :]
    pieces, position = [], 0
    while True:
        line_end = body.index(b"\r\n", position)
        size = int(body[position:line_end], 16)
        if size == 0:
            break
        pieces.append(body[line_end + 2 : line_end + 2 + size])
        position = line_end + 2 + size + 2
    data = b"".join(pieces)
    return [data[i : i + 65536] for i in range(0, len(data), 65536)]


def pure_stream(contender: str, reads: list[bytes]) -> Callable[[], object]:
    """One stream's bytes to LangChain chunks, without the network."""
    if contender == "minimum":
        from httpx._decoders import LineDecoder, TextDecoder
        from run import _minimal_chunk

        def minimum() -> object:
            lines, text = LineDecoder(), TextDecoder()
            return [
                chunk
                for read in reads
                for line in lines.decode(text.decode(read))
                if (chunk := _minimal_chunk(line))
            ]

        return minimum

    from langchain_hf_vlm._answers.stream import stream_chunks
    from langchain_hf_vlm._wire.policy import CallState, Limits
    from langchain_hf_vlm._wire.retry import ScaleUpPolicy
    from langchain_hf_vlm._wire.stream_items import StreamOpened, StreamReader

    def items() -> Any:
        reader = StreamReader(CallState({}, ScaleUpPolicy(), 0, Limits(timeout=60)))
        yield StreamOpened({})
        for read in [*reads, None]:
            yield from reader.feed(read)

    def ours() -> object:
        it: Any = items()
        return list(stream_chunks(it))

    return ours


def inside(measure: str, contender: str, calls: int, url: str) -> None:
    """In the process under callgrind: set up, warm up, then the counted calls."""
    from run import SMALL, LangChainModel, MinimalChatModel
    from run import Floor as FloorClient

    from langchain_hf_vlm import ChatHuggingFaceVLM
    from langchain_hf_vlm._model import invoke as model_invoke

    if measure == "pure":
        one: Callable[[], object] = pure_stream(contender, sse_reads(CHUNKS))
    else:
        model: Any = (
            MinimalChatModel(floor=FloorClient(url))
            if contender == "minimum"
            else ChatHuggingFaceVLM(model="tiny/vlm", base_url=url, backend="openai", max_tokens=16)
        )
        player = LangChainModel(contender, model)
        loop = asyncio.new_event_loop()
        one = {
            "stream": lambda: player.stream(SMALL),
            "astream": lambda: loop.run_until_complete(player.astream(SMALL)),
            "invoke": lambda: player.invoke(SMALL),
            "ainvoke": lambda: loop.run_until_complete(player.ainvoke(SMALL)),
            "prepare": lambda: model_invoke.prepare(
                model._parts(), SMALL.messages, None, {}, stream=False
            ),
        }[measure]
    for _ in range(3):
        one()

    def all_calls() -> None:
        for _ in range(calls):
            one()

    counted(all_calls)


def count(measure: str, contender: str, calls: int, url: str) -> int:
    """Instructions of ``calls`` measured calls, from callgrind in a child process."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--instr-atstart=no",
        f"--toggle-collect={MARKER}",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(HERE),
        "--inside",
        measure,
        contender,
        str(calls),
        url,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{measure}/{contender} failed:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("measures", nargs="*", help=f"any of {', '.join(MEASURES)} (default: all)")
    parser.add_argument("--calls", type=int, default=0, help="measured calls (default per measure)")
    parser.add_argument("--contenders", default="minimum,ours")
    parser.add_argument("--inside", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        measure, contender, calls, url = args.inside
        inside(measure, contender, int(calls), url)
        return
    wanted = args.contenders.split(",")
    unknown = set(args.measures) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures {sorted(unknown)}; choose from {MEASURES}")
    with LoopbackServer(stream_chunks=CHUNKS) as server:
        for measure in args.measures or MEASURES:
            streamed = measure in ("stream", "astream", "pure")
            calls = args.calls or (1 if streamed else 20)
            units = calls * (CHUNKS if streamed else 1)
            unit = "chunk" if streamed else "call"
            figures: dict[str, float] = {}
            for contender in CONTENDERS.get(measure, ("minimum", "ours")):
                if contender in wanted:
                    figures[contender] = count(measure, contender, calls, server.url) / units
            minimum = figures.get("minimum")
            for contender, figure in figures.items():
                ratio = f"  {figure / minimum:.3f}x the minimum" if minimum else ""
                print(
                    f"{measure:8} {contender:8} {figure / 1000:9.1f} k instructions/{unit}{ratio}"
                )
            sys.stdout.flush()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
