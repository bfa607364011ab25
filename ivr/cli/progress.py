"""Progress of long commands: click's bar on a terminal, plain lines elsewhere (CI logs, pipes).

click's bar draws nothing but its label when the output is not a terminal; there a line is
written at every tenth of the work (and at least every ``every`` seconds), and one at the end.
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterable

import click


class PlainProgress:
    def __init__(self, total: int, label: str, file, describe: Callable | None = None, every: float = 10.0):
        self.total, self.label, self.file, self.describe, self.every = total, label, file, describe, every
        self.done = 0
        self._tenth = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._ended = False

    def update(self, n: int = 1, item=None) -> None:
        with self._lock:
            self.done += n
            tenth = self.done * 10 // self.total if self.total else 10
            now = time.monotonic()
            if tenth > self._tenth or now - self._last >= self.every:
                self._tenth, self._last = tenth, now
                self._line(item)

    def _line(self, item=None) -> None:
        percent = self.done * 100 // self.total if self.total else 100
        what = self.describe(item) if self.describe and item is not None else ""
        click.echo(f"{self.label}: {self.done}/{self.total} ({percent}%)" + (f" {what}" if what else ""),
                   file=self.file)
        if self.done >= self.total:
            self._ended = True

    def finish(self) -> None:
        with self._lock:
            if not self._ended:
                self._line()
                self._ended = True


@contextmanager
def progress(items: Iterable | None = None, *, length: int | None = None, label: str,
             describe: Callable | None = None, file=None):
    """Yields what ``click.progressbar`` does: iterate it (``items``) or call ``update(n)``."""
    file = file or sys.stderr
    if file.isatty():
        with click.progressbar(items, length=length, label=label, file=file,
                               item_show_func=describe and (lambda i: i and describe(i))) as bar:
            yield bar
        return
    items = list(items) if items is not None else None
    plain = PlainProgress(len(items) if items is not None else int(length or 0), label, file, describe)
    if items is None:
        yield plain
    else:
        def walk():
            for item in items:
                yield item
                plain.update(1, item)

        yield walk()
    plain.finish()
