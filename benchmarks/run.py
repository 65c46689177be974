"""Client overhead benchmark: ChatHuggingFaceVLM against plain httpx and the other clients.

Every contender talks to the same loopback server (``benchmarks/loopback.py``: an asyncio
HTTP/1.1 keep-alive server in its own process that answers with pre-built bytes), so what is
measured is the client's own cost:

- ``floor``: plain httpx with a pre-built JSON body (``json.loads`` of the answer; for streams,
  ``iter_lines`` only). The floor's async pool keeps as many connections alive as ours (100).
- ``hf_hub``: huggingface_hub's ``InferenceClient(base_url=...).chat_completion``.
- ``lc-huggingface``: langchain-huggingface, ``ChatHuggingFace(llm=HuggingFaceEndpoint(
  endpoint_url=...))``, the way its docs point it at a self-hosted server.
- ``lc-openai``: langchain-openai, ``ChatOpenAI(base_url=.../v1)``.
- ``lc-core minimum``: a ``BaseChatModel`` whose ``_generate`` / ``_stream`` do the floor's
  I/O and build the least LangChain needs (one ``AIMessage``; one ``AIMessageChunk`` per
  event): what any LangChain chat model pays before doing anything of its own.
- ``ours``: ``ChatHuggingFaceVLM(base_url=..., backend="openai")``.

Measures: ``invoke`` (a text and an 8x8 PNG, max_tokens 16), ``stream`` (2,000 chunks; time per
chunk), ``async`` (256 requests at concurrency 32; requests per second), ``connections``
(accepted by the server over 100 sequential short streams, sync and async), ``memory`` (Python
heap retained per call over many sequential invokes, tracemalloc; RSS growth alongside),
``payload`` (invoke with a ~430 KB image data URI), and ``import`` / ``construct`` (import of
``langchain_hf_vlm`` over an already imported langchain-core, in fresh processes; building one
instance). Timed measures run in interleaved rounds (each round runs every contender once, in a
rotating order) and report the median and the spread over rounds (min, p10, p90, max), so a
busy machine slows all contenders alike. Each sample starts after a full garbage collection
(see ``interleaved``).

Every contender's client is alive in the process for the whole run, as in an application that
holds several; ``--heap MB`` also keeps that much of ordinary Python objects alive. Beside each
timed figure the report gives what does not depend on the machine's load (``sampling``): the
client process's CPU time per unit (and its ratio to the LangChain minimum's), the TCP
connections the client opened during its timed rounds (after the warm-up: a well-kept pool
opens none), and the garbage collections that ran in them (young/middle/old generation).

Run: ``python benchmarks/run.py [--rounds 7] [--quick] [--only invoke,stream,...] [--heap MB]``.
Prints figures and the targets of issues #7 and #23; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import httpx
from huggingface_hub import AsyncInferenceClient, InferenceClient
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint
from langchain_openai import ChatOpenAI
from loopback import MODEL, LoopbackServer
from sampling import Sample, ameasured, measured, resident_heap, spread, total

from langchain_hf_vlm import ChatHuggingFaceVLM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests.support
from tests.support.pngs import rgb_png

T = TypeVar("T")
MEASURES = ("connections", "invoke", "stream", "async", "memory", "payload", "import", "construct")
STREAM_CHUNKS = 2000
SHORT_STREAM_CHUNKS = 20
ASYNC_REQUESTS, ASYNC_CONCURRENCY = 256, 32
JSON_HEADERS = {"content-type": "application/json"}
QUESTION = "What is in this image? Answer in a few words."
LOOP = asyncio.new_event_loop()
"""One event loop for every async measure: ChatOpenAI and ChatHuggingFace keep clients bound
to the first loop they ran on, across instances, and fail on a later one."""

# ---------------------------------------------------------------- requests


def png(width: int, height: int, *, noise: bool = False, seed: int = 0) -> bytes:
    """A real RGB PNG (standard library only); with ``noise``, incompressible pixels."""
    if noise:
        rows = b"".join(
            b"\x00" + random.Random(seed + y).randbytes(3 * width) for y in range(height)
        )
    else:
        rows = b"".join(b"\x00" + b"\xff\x20\x20" * width for _ in range(height))
    return rgb_png(width, height, rows, level=1)


@dataclass(frozen=True)
class Request:
    """One request in every contender's input form: LangChain messages, wire dicts, bytes."""

    messages: list[BaseMessage]
    wire: list[dict[str, Any]]
    body: bytes
    stream_body: bytes

    @classmethod
    def with_image(cls, image: bytes) -> Request:
        uri = "data:image/png;base64," + base64.b64encode(image).decode()
        content: list[str | dict[str, Any]] = [
            {"type": "text", "text": QUESTION},
            {"type": "image_url", "image_url": {"url": uri}},
        ]
        wire = [{"role": "user", "content": content}]
        body = {"model": MODEL, "messages": wire, "max_tokens": 16}
        stream = {**body, "stream": True, "stream_options": {"include_usage": True}}
        return cls(
            [HumanMessage(content=content)],
            wire,
            json.dumps(body, separators=(",", ":")).encode(),
            json.dumps(stream, separators=(",", ":")).encode(),
        )


SMALL = Request.with_image(png(8, 8))
BIG = Request.with_image(png(400, 268, noise=True))  # ~322 KB PNG, ~430 KB as base64

# ---------------------------------------------------------------- contenders


class Contender:
    """One client under test: blocking and async invoke, and a streamed request."""

    name = ""

    def invoke(self, request: Request) -> object:
        raise NotImplementedError

    def stream(self, request: Request) -> int:
        raise NotImplementedError

    async def ainvoke(self, request: Request) -> object:
        raise NotImplementedError

    async def astream(self, request: Request) -> int:
        raise NotImplementedError


class Floor(Contender):
    name = "floor (httpx)"

    def __init__(self, url: str) -> None:
        self.url = url + "/v1/chat/completions"
        self.limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.client = httpx.Client(limits=self.limits)
        self.aclient: httpx.AsyncClient | None = None

    def invoke(self, request: Request) -> object:
        response = self.client.post(self.url, content=request.body, headers=JSON_HEADERS)
        return json.loads(response.content)

    def stream(self, request: Request) -> int:
        with self.client.stream(
            "POST", self.url, content=request.stream_body, headers=JSON_HEADERS
        ) as response:
            return sum(1 for _ in response.iter_lines())

    def _async_client(self) -> httpx.AsyncClient:
        if self.aclient is None:
            self.aclient = httpx.AsyncClient(limits=self.limits)
        return self.aclient

    async def ainvoke(self, request: Request) -> object:
        client = self._async_client()
        response = await client.post(self.url, content=request.body, headers=JSON_HEADERS)
        return json.loads(response.content)

    async def astream(self, request: Request) -> int:
        client = self._async_client()
        async with client.stream(
            "POST", self.url, content=request.stream_body, headers=JSON_HEADERS
        ) as response:
            return sum([1 async for _ in response.aiter_lines()])


class Hub(Contender):
    name = "hf_hub InferenceClient"

    def __init__(self, url: str) -> None:
        self.client = InferenceClient(base_url=url)
        self.aclient = AsyncInferenceClient(base_url=url)

    def invoke(self, request: Request) -> object:
        return self.client.chat_completion(request.wire, model=MODEL, max_tokens=16)

    def stream(self, request: Request) -> int:
        chunks = self.client.chat_completion(request.wire, model=MODEL, max_tokens=16, stream=True)
        return sum(1 for _ in chunks)

    async def ainvoke(self, request: Request) -> object:
        return await self.aclient.chat_completion(request.wire, model=MODEL, max_tokens=16)

    async def astream(self, request: Request) -> int:
        chunks = await self.aclient.chat_completion(
            request.wire, model=MODEL, max_tokens=16, stream=True
        )
        return sum([1 async for _ in chunks])


class LangChainModel(Contender):
    """Any LangChain chat model."""

    def __init__(self, name: str, model: BaseChatModel) -> None:
        self.name = name
        self.model = model

    def invoke(self, request: Request) -> object:
        return self.model.invoke(request.messages)

    def stream(self, request: Request) -> int:
        return sum(1 for _ in self.model.stream(request.messages))

    async def ainvoke(self, request: Request) -> object:
        return await self.model.ainvoke(request.messages)

    async def astream(self, request: Request) -> int:
        return sum([1 async for _ in self.model.astream(request.messages)])


class MinimalChatModel(BaseChatModel):
    """The least a LangChain chat model can do over the floor's I/O (a reference, not a
    usable client: it sends one fixed body)."""

    floor: Any

    @property
    def _llm_type(self) -> str:
        return "minimal"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        body = self.floor.invoke(_request_for(messages))
        message = AIMessage(content=body["choices"][0]["message"]["content"])
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        body = await self.floor.ainvoke(_request_for(messages))
        message = AIMessage(content=body["choices"][0]["message"]["content"])
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        request = _request_for(messages)
        with self.floor.client.stream(
            "POST", self.floor.url, content=request.stream_body, headers=JSON_HEADERS
        ) as response:
            for line in response.iter_lines():
                if chunk := _minimal_chunk(line):
                    yield chunk

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = _request_for(messages)
        async with self.floor._async_client().stream(
            "POST", self.floor.url, content=request.stream_body, headers=JSON_HEADERS
        ) as response:
            async for line in response.aiter_lines():
                if chunk := _minimal_chunk(line):
                    yield chunk


def _request_for(messages: list[BaseMessage]) -> Request:
    return BIG if messages[0].content == BIG.messages[0].content else SMALL


def _minimal_chunk(line: str) -> ChatGenerationChunk | None:
    if not line.startswith("data: {"):
        return None
    choices = json.loads(line[6:])["choices"]
    content = choices[0]["delta"].get("content") if choices else None
    return ChatGenerationChunk(message=AIMessageChunk(content=content)) if content else None


def contenders(url: str) -> list[Contender]:
    floor = Floor(url)
    return [
        floor,
        Hub(url),
        LangChainModel(
            "lc-huggingface ChatHuggingFace",
            ChatHuggingFace(llm=HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=16)),  # type: ignore[call-arg]
        ),
        LangChainModel(
            "lc-openai ChatOpenAI",
            ChatOpenAI(base_url=url + "/v1", api_key="x", model=MODEL, max_tokens=16),  # type: ignore[arg-type,call-arg]
        ),
        LangChainModel("lc-core minimum", MinimalChatModel(floor=Floor(url))),
        LangChainModel(
            "ours ChatHuggingFaceVLM",
            ChatHuggingFaceVLM(model=MODEL, base_url=url, backend="openai", max_tokens=16),
        ),
    ]


# ---------------------------------------------------------------- measuring


@dataclass
class Row:
    measure: str
    contender: str
    samples: list[float]
    unit: str
    note: str = ""
    higher_is_better: bool = False
    floor: list[float] = field(default_factory=list)
    minimum: list[float] = field(default_factory=list)
    """The LangChain minimum's samples of the same measure."""
    cpu: list[float] = field(default_factory=list)
    """CPU µs of the client process per unit (call, chunk, request), per round."""
    minimum_cpu: list[float] = field(default_factory=list)
    connections: int | None = None
    """TCP connections the client opened during its timed rounds."""
    collections: tuple[int, int, int] | None = None
    """Garbage collections (young, middle, old generation) during its timed rounds."""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def ratio(self, to: list[float] | None = None) -> str:
        reference = self.floor if to is None else to
        if not reference or self.contender.startswith("floor"):
            return ""
        ratio = self.median / statistics.median(reference)
        return f"{ratio:.2f}x"

    def paired(self) -> str:
        """The median over rounds of this round's figure over the minimum's in the same round.

        The two run next to each other in most rounds (the rotation moves both together), so a
        slow spell of the machine, which lasts seconds, slows both: the ratio of the medians
        does not cancel it when the spells fall on different rounds for the two."""
        if not self.minimum or len(self.minimum) != len(self.samples):
            return ""
        ratios = [mine / theirs for mine, theirs in zip(self.samples, self.minimum, strict=True)]
        return f"{statistics.median(ratios):.2f}x ({_width(ratios):.0%})"

    @classmethod
    def timed(
        cls,
        measure: str,
        contender: str,
        samples: list[Sample],
        units: int,
        unit: str,
        *,
        throughput: bool = False,
    ) -> Row:
        """A row of ``samples`` of ``units`` units each (µs per unit, or units per second)."""
        values = [units / s.wall if throughput else s.wall / units * 1e6 for s in samples]
        whole = total(samples)
        return cls(
            measure,
            contender,
            values,
            unit,
            higher_is_better=throughput,
            cpu=[s.cpu / units * 1e6 for s in samples],
            connections=whole.connections,
            collections=whole.collections,
        )


def interleaved(
    names: list[str], rounds: int, sample: Callable[[int, int], T]
) -> dict[str, list[T]]:
    """``sample(index, round)`` for every contender in every round, in a rotating order.

    Each sample starts right after a full garbage collection. Otherwise the full collections
    that the retained state of every contender together makes necessary (about 100 ms each in
    this process) fall on whichever contender happens to cross the threshold, always the same
    one when the period matches the rotation.
    """
    results: dict[str, list[T]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for index in [*range(shift, len(names)), *range(shift)]:
            gc.collect()
            results[names[index]].append(sample(index, round_number))
    return results


def time_calls(call: Callable[[], object], calls: int) -> float:
    """Seconds per call over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def retained_per_call(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """(bytes of Python heap, bytes of RSS) still held after ``calls`` calls, per call."""
    for _ in range(min(200, calls)):
        call()
    gc.collect()
    rss_before = _rss()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(calls):
        call()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / calls, (_rss() - rss_before) / calls


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Settings:
    rounds: int
    invoke_calls: int
    streams: int
    payload_calls: int
    construct_calls: int
    memory_calls: int
    memory_calls_others: int
    import_runs: int


def bench_invoke(
    players: list[Contender],
    settings: Settings,
    server: LoopbackServer,
    request: Request,
    measure: str,
    calls: int,
) -> list[Row]:
    for player in players:
        for _ in range(3):
            player.invoke(request)

    def sample(index: int, _: int) -> Sample:
        def run() -> None:
            for _ in range(calls):
                players[index].invoke(request)

        return measured(server, run)[1]

    names = [p.name for p in players]
    samples = interleaved(names, settings.rounds, sample)
    return [Row.timed(measure, name, samples[name], calls, "µs/call") for name in names]


def bench_stream(players: list[Contender], settings: Settings, server: LoopbackServer) -> list[Row]:
    server.stream_chunks = STREAM_CHUNKS
    for player in players:
        player.stream(SMALL)

    def sample(index: int, _: int) -> Sample:
        streams = []
        for _ in range(settings.streams):
            gc.collect()  # see interleaved(): a stream retains ~20,000 objects until its end
            chunks, one = measured(server, partial(players[index].stream, SMALL))
            assert chunks >= STREAM_CHUNKS, (players[index].name, chunks)
            streams.append(one)
        return total(streams)

    names = [p.name for p in players]
    samples = interleaved(names, settings.rounds, sample)
    units = settings.streams * STREAM_CHUNKS
    return [Row.timed("stream, per chunk", n, samples[n], units, "µs/chunk") for n in names]


def bench_async(players: list[Contender], settings: Settings, server: LoopbackServer) -> list[Row]:
    async def burst(player: Contender, requests: int = ASYNC_REQUESTS) -> None:
        gate = asyncio.Semaphore(ASYNC_CONCURRENCY)

        async def one() -> object:
            async with gate:
                return await player.ainvoke(SMALL)

        await asyncio.gather(*(one() for _ in range(requests)))

    async def main() -> dict[str, list[Sample]]:
        for player in players:
            await burst(player)  # warm-up: opens the pools
        names = [p.name for p in players]
        results: dict[str, list[Sample]] = {name: [] for name in names}
        for round_number in range(settings.rounds):
            shift = round_number % len(names)
            for index in [*range(shift, len(names)), *range(shift)]:
                player = players[index]
                # Untimed: while the other clients ran, httpx's 5-second keep-alive expiry may
                # have emptied this one's pool (with every peer in the process a rotation takes
                # about that long); the timed burst measures requests, not reconnections.
                await burst(player, ASYNC_CONCURRENCY)
                gc.collect()
                results[names[index]].append((await ameasured(server, partial(burst, player)))[1])
        return results

    samples = LOOP.run_until_complete(main())
    measure = f"async {ASYNC_REQUESTS} req, concurrency {ASYNC_CONCURRENCY}"
    return [
        Row.timed(measure, name, values, ASYNC_REQUESTS, "req/s", throughput=True)
        for name, values in samples.items()
    ]


def bench_connections(server: LoopbackServer) -> list[Row]:
    """Fresh instances (no pool opened by earlier measures), 100 short streams each."""
    server.stream_chunks = SHORT_STREAM_CHUNKS
    rows = []
    for target in contenders(server.url):
        server.reset_connections()
        for _ in range(100):
            target.stream(SMALL)
        sync_count = server.connections_opened

        async def streams(target: Contender = target) -> None:
            for _ in range(100):
                await target.astream(SMALL)

        server.reset_connections()
        LOOP.run_until_complete(streams())
        rows.append(
            Row(
                "TCP connections, 100 streams",
                target.name,
                [float(sync_count)],
                "conn",
                note=f"async: {server.connections_opened}",
            )
        )
    server.stream_chunks = STREAM_CHUNKS
    return rows


def bench_memory(players: list[Contender], settings: Settings) -> list[Row]:
    rows = []
    for player in players:
        calls = settings.memory_calls if player.name.startswith("ours") else None
        calls = calls or settings.memory_calls_others
        heap, rss = retained_per_call(partial(player.invoke, SMALL), calls)
        rows.append(
            Row(
                "memory retained per invoke",
                player.name,
                [heap],
                "B/call",
                note=f"{calls:,} calls; RSS {rss:+.0f} B/call",
            )
        )
    return rows


def bench_import(settings: Settings) -> list[Row]:
    # langchain_core's packages import their classes lazily: import what every chat model
    # needs, so that only the integration's own cost is timed.
    preload = (
        "from langchain_core.language_models import BaseChatModel; "
        "from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage; "
        "from langchain_core.outputs import ChatGenerationChunk, ChatResult; "
        "from langchain_core.runnables import Runnable; from langchain_core.tools import BaseTool"
    )
    rows = []
    for module in ("langchain_hf_vlm", "langchain_openai", "langchain_huggingface"):
        code = (
            f"import time; {preload}; start = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - start)"
        )
        samples = []
        for _ in range(settings.import_runs):
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            samples.append(float(out.stdout) * 1e3)
        rows.append(Row("import over langchain_core", module, samples, "ms"))
    return rows


def bench_construct(url: str, settings: Settings) -> list[Row]:
    builders: dict[str, Callable[[], object]] = {
        "lc-huggingface ChatHuggingFace": lambda: ChatHuggingFace(
            llm=HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=16)  # type: ignore[call-arg]
        ),
        "lc-openai ChatOpenAI": lambda: ChatOpenAI(
            base_url=url + "/v1",
            api_key="x",  # type: ignore[arg-type]
            model=MODEL,
            max_tokens=16,  # type: ignore[call-arg]
        ),
        "ours ChatHuggingFaceVLM": lambda: ChatHuggingFaceVLM(
            model=MODEL, base_url=url, backend="openai", max_tokens=16
        ),
    }
    names = list(builders)
    calls = settings.construct_calls
    samples = interleaved(
        names,
        settings.rounds,
        lambda i, _: time_calls(builders[names[i]], calls) * 1e6,
    )
    return [Row("construct one instance", name, samples[name], "µs") for name in names]


# ---------------------------------------------------------------- report

TARGETS: dict[str, tuple[str, Callable[[Row], bool]]] = {
    "invoke (text + 8x8 PNG)": ("≤ 1.6x floor", lambda r: _ratio(r) <= 1.6),
    "stream, per chunk": ("≤ 3x floor", lambda r: _ratio(r) <= 3.0),
    f"async {ASYNC_REQUESTS} req, concurrency {ASYNC_CONCURRENCY}": (
        "≥ 0.8x floor",
        lambda r: _ratio(r) >= 0.8,
    ),
    "TCP connections, 100 streams": (
        "1 (sync and async)",
        lambda r: r.median == 1 and r.note == "async: 1",
    ),
    "memory retained per invoke": ("~0 B/call", lambda r: r.median < 100),
    "invoke, 430 KB image": ("≤ 1.3x floor", lambda r: _ratio(r) <= 1.3),
}


MINIMUM_TARGETS = {
    "invoke (text + 8x8 PNG)",
    "stream, per chunk",
    f"async {ASYNC_REQUESTS} req, concurrency {ASYNC_CONCURRENCY}",
}
"""Issue #23: within 10% of the LangChain minimum or ahead (and, for async, a spread no wider
than the minimum's)."""


def _ratio(row: Row) -> float:
    return row.median / statistics.median(row.floor)


def _width(values: list[float]) -> float:
    """The spread of ``values`` as (p90 - p10) / median."""
    _, p10, p90, _ = spread(values)
    return (p90 - p10) / statistics.median(values)


def _minimum_target(row: Row) -> str:
    if not row.minimum:
        return ""
    ratio = row.median / statistics.median(row.minimum)
    met = ratio >= 0.9 if row.higher_is_better else ratio <= 1.1
    text = "within 10% of minimum"
    if row.higher_is_better:
        met = met and _width(row.samples) <= _width(row.minimum)
        text += ", spread ≤ minimum's"
    return f"{text}: {'met' if met else 'MISSED'}"


def _figure(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(row: Row) -> tuple[str, ...]:
    low, p10, p90, high = spread(row.samples)
    targets = []
    if row.contender.startswith("ours") and row.measure in TARGETS:
        text, met = TARGETS[row.measure]
        targets.append(f"{text}: {'met' if met(row) else 'MISSED'}")
    if row.contender.startswith("ours") and row.measure in MINIMUM_TARGETS:
        targets.append(_minimum_target(row))
    cpu = ""
    if row.cpu:
        cpu = _figure(statistics.median(row.cpu))
        if row.minimum_cpu and not row.contender.startswith("lc-core minimum"):
            cpu += f" ({statistics.median(row.cpu) / statistics.median(row.minimum_cpu):.2f}x)"
    return (
        row.measure,
        row.contender,
        _figure(row.median),
        _figure(low),
        _figure(p10),
        _figure(p90),
        _figure(high),
        f"{_width(row.samples):.0%}" if len(row.samples) > 1 else "",
        row.unit,
        row.ratio(),
        "" if row.contender.startswith("lc-core minimum") else row.ratio(row.minimum),
        "" if row.contender.startswith("lc-core minimum") else row.paired(),
        cpu,
        "" if row.connections is None else str(row.connections),
        "" if row.collections is None else "/".join(map(str, row.collections)),
        "; ".join(targets),
        row.note,
    )


def report(rows: list[Row]) -> str:
    header = (
        "measure",
        "contender",
        "median",
        "min",
        "p10",
        "p90",
        "max",
        "spread",
        "unit",
        "vs floor",
        "vs minimum",
        "paired (spread)",
        "CPU µs/unit (vs minimum)",
        "conn opened",
        "gc y/m/o",
        "target",
        "note",
    )
    lines = [header, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        out.append(
            " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
        if number == 0:
            out.append("-+-".join("-" * width for width in widths))
    legend = (
        "spread: (p90 - p10) / median over rounds. paired: the median of each round's ratio "
        "to the minimum's figure in that round (the two run side by side). CPU: this "
        "process's CPU time per unit (the server runs in its own). conn opened: TCP "
        "connections the client opened during its timed rounds, after its warm-up. gc: "
        "collections of the young/middle/old generation during its timed rounds."
    )
    return "\n".join([*out, "", legend])


def machine() -> str:
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "httpx",
            "huggingface_hub",
            "langchain-core",
            "langchain-huggingface",
            "langchain-openai",
        )
    )
    return (
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {versions}"
    )


def with_floor(rows: list[Row]) -> list[Row]:
    floor = next((r for r in rows if r.contender.startswith("floor")), None)
    minimum = next((r for r in rows if r.contender.startswith("lc-core minimum")), None)
    for row in rows:
        if floor is not None:
            row.floor = floor.samples
        if minimum is not None:
            row.minimum = minimum.samples
            row.minimum_cpu = minimum.cpu
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 7, quick 3)")
    parser.add_argument("--quick", action="store_true", help="fewer calls: a smoke run")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument(
        "--heap", type=int, default=0, metavar="MB", help="keep MB of Python objects alive"
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else set(MEASURES)
    unknown = only - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures {sorted(unknown)}; choose from {MEASURES}")
    if args.quick:
        settings = Settings(args.rounds or 3, 40, 1, 5, 100, 1_000, 300, 2)
    else:
        settings = Settings(args.rounds or 7, 200, 3, 20, 500, 10_000, 2_000, 7)
    os.environ.pop("HF_TOKEN", None)  # no token to a loopback server, for any contender

    print(f"# {machine()}")
    heap = resident_heap(args.heap)
    gc.collect()
    print(
        f"# rounds: {settings.rounds}{' (quick)' if args.quick else ''}; "
        f"heap held: {args.heap} MB, {len(gc.get_objects()):,} tracked objects",
        flush=True,
    )
    rows: list[Row] = []
    with LoopbackServer(stream_chunks=STREAM_CHUNKS) as server:
        players = contenders(server.url)
        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            # First: langchain-openai keeps process-wide pools, which later measures would open.
            ("connections", lambda: bench_connections(server)),
            (
                "invoke",
                lambda: bench_invoke(
                    players,
                    settings,
                    server,
                    SMALL,
                    "invoke (text + 8x8 PNG)",
                    settings.invoke_calls,
                ),
            ),
            ("stream", lambda: bench_stream(players, settings, server)),
            ("async", lambda: bench_async(players, settings, server)),
            ("memory", lambda: bench_memory(players, settings)),
            (
                "payload",
                lambda: bench_invoke(
                    players, settings, server, BIG, "invoke, 430 KB image", settings.payload_calls
                ),
            ),
            ("import", lambda: bench_import(settings)),
            ("construct", lambda: bench_construct(server.url, settings)),
        ]
        for name, step in steps:
            if name in only:
                print(f"# {name} ...", file=sys.stderr, flush=True)
                rows += with_floor(step())
    print(report(rows))
    del heap


if __name__ == "__main__":
    main()
