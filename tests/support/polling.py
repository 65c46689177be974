"""Waiting for something another thread or process does: a bound for a hang, not a speed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PATIENCE = 30.0
"""Seconds before a condition that should hold in milliseconds is given up on (a busy machine
may be slow; a condition that never holds fails the test only then)."""


def eventually(condition: Callable[[], bool], patience: float = PATIENCE) -> bool:
    """Whether ``condition`` holds within ``patience`` seconds, checked every 10 ms."""
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def aeventually(condition: Callable[[], bool], patience: float = PATIENCE) -> bool:
    """:func:`eventually` without blocking the event loop."""
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
