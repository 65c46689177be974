"""The cache of prepared images: least recently used first out, bounded in bytes, thread-safe."""

from __future__ import annotations

import threading
from collections import OrderedDict


class PreparedCache:
    """Prepared data URIs by key (a downloaded URL, or the hash of a data URI).

    An entry costs the length of its key and its value; entries are evicted, least recently
    used first, to keep the total within ``budget`` (0: nothing is kept).
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            prepared = self._entries.get(key)
            if prepared is not None:
                self._entries.move_to_end(key)
            return prepared

    def put(self, key: str, prepared: str) -> None:
        size = len(key) + len(prepared)
        if size > self.budget:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = prepared
            self._size += size
            while self._size > self.budget:
                old_key, old = self._entries.popitem(last=False)
                self._size -= len(old_key) + len(old)
