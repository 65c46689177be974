"""The cache of prepared images: least recently used first out, bounded in bytes, thread-safe."""

from __future__ import annotations

import threading
from collections import OrderedDict

from langchain_hf_vlm._media.refs import PreparedImage

Entry = str | PreparedImage
"""A prepared image (with its sizes), or the JSON of a document's or video's parts."""


class PreparedCache:
    """Prepared images and expansions by key (a downloaded URL, or the hash of a data URI,
    with the budget an image was sized for).

    An entry costs the length of its key and of its text (an image's URL); entries are
    evicted, least recently used first, to keep the total within ``budget`` (0: nothing is
    kept).
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> str | None:
        """The text kept under ``key`` (None: none, or an image)."""
        entry = self._get(key)
        return entry if isinstance(entry, str) else None

    def get_image(self, key: str) -> PreparedImage | None:
        """The prepared image kept under ``key`` (None: none)."""
        entry = self._get(key)
        return entry if isinstance(entry, PreparedImage) else None

    def put(self, key: str, entry: Entry) -> None:
        size = _size(key, entry)
        if size > self.budget:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = entry
            self._size += size
            while self._size > self.budget:
                old_key, old = self._entries.popitem(last=False)
                self._size -= _size(old_key, old)

    def _get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry


def _size(key: str, entry: Entry) -> int:
    return len(key) + len(entry if isinstance(entry, str) else entry.url)
