"""Peak resident memory of one run of a method, measured in a fresh process (Linux).

A benchmark calls :func:`resident_growth` with its own script and the arguments that name the
method; the script, started again with ``--child`` and those arguments, loads what it needs,
then calls :func:`print_peak_growth` with the method. Memory freed by an earlier run would stay
resident and be reused unseen, so each measurement gets a fresh process; and what PDFium,
FFmpeg or Pillow allocate lies outside Python's heap, where tracemalloc does not look.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_CLEAR_REFS = Path("/proc/self/clear_refs")


def resident_growth(script: str, *child_args: str) -> int | None:
    """Bytes the resident set grew by, at its peak, while ``script --child *child_args`` ran
    its method once; None where that cannot be measured."""
    if not _CLEAR_REFS.exists():
        return None
    child = subprocess.run(
        [sys.executable, script, "--child", *child_args],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(child.stdout) if child.returncode == 0 and child.stdout.strip() else None


def print_peak_growth(method: Callable[[], Any]) -> None:
    """Run ``method`` once and print how far the resident set grew at its peak."""
    before = _status_bytes("VmRSS")
    _CLEAR_REFS.write_text("5")  # resets the peak (VmHWM) to the current RSS
    method()
    print(max(0, _status_bytes("VmHWM") - before))


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)
