"""The audio cache manifest: ``<AUDIO_DIR>/manifest.json``, shared by every process.

Layout::

    {"version": 1, "format": "WAV, 8000 Hz, mono, 16-bit PCM",
     "static":  {"zh-CN/welcome": {entry}, ...},
     "dynamic": {"zh-CN/<key>": {entry}, ...}}

An entry holds: id, lang, text, text_hash, key, voice, voice_id, rate, file (relative to the audio
folder), duration, bytes, sha256 and rendered_at. Readers take the file as it is (it is only ever
replaced by rename, so never half-written); writers hold an exclusive ``flock`` on
``.manifest.lock`` while they re-read, change and replace it, so concurrent workers and a running
``ivr prompts render`` never lose each other's entries.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from ivr.tts.wav import FORMAT_TEXT, write_atomic

log = logging.getLogger(__name__)
VERSION = 1


def _empty() -> dict:
    return {"version": VERSION, "format": FORMAT_TEXT, "static": {}, "dynamic": {}}


class Manifest:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / "manifest.json"
        self._path_str = os.fspath(self.path)
        self._lock_path = self.directory / ".manifest.lock"
        self._data = _empty()
        self._signature: tuple | None = None
        self._checked = float("-inf")   # monotonic time of the last look at the file
        self._thread_lock = threading.Lock()

    def data(self, max_age: float = 0.0) -> dict:
        """The current manifest (re-read when the file changed; do not mutate it). ``max_age``:
        seconds within which the last look at the file is good enough (no ``stat``): for lookups
        on every webhook, which may see another process's render that much later."""
        if max_age > 0 and time.monotonic() - self._checked < max_age:
            return self._data
        with self._thread_lock:
            self._refresh()
            return self._data

    def update(self, change: Callable[[dict], bool | None]) -> dict:
        """Apply ``change`` to a fresh copy under the cross-process lock and save it (unless
        ``change`` returns False: nothing changed)."""
        with self._thread_lock, self._locked():
            self._signature = None
            self._refresh()
            data = json.loads(json.dumps(self._data))  # deep copy: readers keep the old one
            if change(data) is False:
                return self._data
            write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode())
            self._data, self._signature = data, self._stat()
            return data

    # -- internals ------------------------------------------------------------------------------
    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self._path_str)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _refresh(self) -> None:
        self._checked = time.monotonic()
        signature = self._stat()
        if signature is not None and signature == self._signature:
            return
        data = _empty()
        if signature is not None:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if loaded.get("version") == VERSION:
                    data["static"] = dict(loaded.get("static") or {})
                    data["dynamic"] = dict(loaded.get("dynamic") or {})
                else:
                    log.warning("%s: manifest version %r, not %r: starting afresh",
                                self.path, loaded.get("version"), VERSION)
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("%s: unreadable manifest (%s): starting afresh", self.path, exc)
        self._data, self._signature = data, signature

    @contextmanager
    def _locked(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
