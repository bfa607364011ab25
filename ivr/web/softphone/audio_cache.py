"""The softphone's cache of ``<Play>`` files: bounded by bytes, least recently used dropped first
(the local phone's own cache keeps every file it ever fetched)."""
from __future__ import annotations

import threading
from collections import OrderedDict

AUDIO_CACHE_BYTES = 32 * 1024 * 1024


class AudioCache:
    """The phone's cache of ``<Play>`` files, bounded (the phone's own keeps every file)."""

    def __init__(self, max_bytes: int = AUDIO_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[bytes, str | None]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, url: str):
        with self._lock:
            item = self._items.get(url)
            if item is not None:
                self._items.move_to_end(url)
            return item

    def put(self, url: str, data: bytes, text: str | None) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(url, None)
            if old is not None:
                self._size -= len(old[0])
            self._items[url] = (data, text)
            self._size += len(data)
            while self._size > self.max_bytes:
                _, (dropped, _) = self._items.popitem(last=False)
                self._size -= len(dropped)
