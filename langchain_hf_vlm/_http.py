"""The HTTP package that huggingface_hub itself is built on.

huggingface_hub 1.x uses ``httpx``; 2.x moved to the ``httpx2`` fork. Requests go through
the same package so that errors, timeouts and responses are the types huggingface_hub's own
exceptions expect.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import huggingface_hub

HUB_MAJOR = int(huggingface_hub.__version__.split(".", 1)[0])

if TYPE_CHECKING:
    import httpx
else:
    httpx = importlib.import_module("httpx2" if HUB_MAJOR >= 2 else "httpx")

__all__ = ["HUB_MAJOR", "httpx"]
