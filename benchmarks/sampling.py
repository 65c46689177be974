"""What one timed sample of ``run.py`` records besides its wall-clock time, and a heap to hold.

Each sample records, for the block it times: wall-clock seconds, the CPU seconds of this
process (``time.process_time``: the loopback server runs in its own process, so this is the
client's own cost, and it hardly moves when other processes load the machine), the TCP
connections the server accepted (a client that drops and reopens connections shows here, not
only as a slower round), and the garbage collections of each generation that ran.

``--heap`` keeps a realistic amount of Python objects alive (:func:`resident_heap`): in a real
application a full collection walks the whole heap, so allocations that survive into the
older generations cost more there than in a benchmark process holding little else.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
_COLLECTIONS = [0, 0, 0]


def _count_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _COLLECTIONS[info["generation"]] += 1


gc.callbacks.append(_count_collection)


class Server(Protocol):
    """What a sample reads from the loopback server."""

    @property
    def connections_opened(self) -> int: ...

    def reset_connections(self) -> None: ...


@dataclass(frozen=True)
class Sample:
    """One timed block: seconds of wall clock and of this process's CPU, connections the
    server accepted, and garbage collections per generation (young to old)."""

    wall: float
    cpu: float
    connections: int
    collections: tuple[int, int, int]


class _Meter:
    """Readings at the start of a block; :meth:`stop` makes the block's :class:`Sample`."""

    def __init__(self, server: Server) -> None:
        self.server = server
        server.reset_connections()
        self.collections = tuple(_COLLECTIONS)
        self.cpu = time.process_time()
        self.wall = time.perf_counter()

    def stop(self) -> Sample:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        young, middle, old = (
            now - then for now, then in zip(_COLLECTIONS, self.collections, strict=True)
        )
        return Sample(wall, cpu, self.server.connections_opened, (young, middle, old))


def measured(server: Server, block: Callable[[], T]) -> tuple[T, Sample]:
    """``block()`` and its sample."""
    meter = _Meter(server)
    result = block()
    return result, meter.stop()


async def ameasured(server: Server, block: Callable[[], Awaitable[T]]) -> tuple[T, Sample]:
    """Async twin of :func:`measured`."""
    meter = _Meter(server)
    result = await block()
    return result, meter.stop()


def total(samples: list[Sample]) -> Sample:
    """The samples of several blocks as one."""
    return Sample(
        sum(s.wall for s in samples),
        sum(s.cpu for s in samples),
        sum(s.connections for s in samples),
        (
            sum(s.collections[0] for s in samples),
            sum(s.collections[1] for s in samples),
            sum(s.collections[2] for s in samples),
        ),
    )


def spread(values: list[float]) -> tuple[float, float, float, float]:
    """(min, p10, p90, max) of ``values`` (p10 and p90 interpolated between samples)."""
    if len(values) < 2:
        return values[0], values[0], values[0], values[0]
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return min(values), deciles[0], deciles[-1], max(values)


def resident_heap(megabytes: int) -> list[dict[str, Any]]:
    """About ``megabytes`` MB of live Python objects, shaped like an application's state
    (records of strings, numbers, lists and nested dicts: about 2,000 containers per MB that
    a full collection walks), to keep alive for the whole run."""
    return [
        {
            "id": index,
            "name": f"record-{index}",
            "email": f"user{index}@example.com",
            "score": index * 0.5,
            "tags": [f"tag-{index % 97}", f"group-{index % 13}", "active"],
            "address": {"street": f"{index} Main St", "city": "Springfield", "zip": index % 99991},
            "history": [{"at": index + day, "event": "login"} for day in range(3)],
        }
        for index in range(megabytes * 1024 * 1024 // 1650)
    ]
