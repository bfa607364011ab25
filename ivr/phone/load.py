"""``ivr load``: many simultaneous calls, bounded in count and time, with latency percentiles."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import numpy as np

from ivr.phone import scenario as scenarios
from ivr.phone.phone import Phone


def webhook_name(request: dict) -> str:
    if request["purpose"] == "audio":
        return "GET (audio files)"
    return f"{request['method']} {urlsplit(request['url']).path}"


@dataclass
class LoadReport:
    calls: int = 0
    failed: int = 0  # scenario failures or phone crashes
    wall_seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)  # Twilio code (or exception name) -> count
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)  # first few failure messages

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentiles(self, name: str) -> tuple[float, float, float]:
        p50, p90, p99 = np.percentile(self.latencies[name], [50, 90, 99])
        return float(p50), float(p90), float(p99)

    def table(self) -> str:
        lines = [f"Calls: {self.calls} ({self.calls - self.failed} ok, {self.failed} failed) in "
                 f"{self.wall_seconds:.2f} s: {self.calls_per_second:.1f} calls/s, {self.requests} requests "
                 f"({self.requests / self.wall_seconds if self.wall_seconds else 0:.0f} req/s)",
                 f"{'Webhook':<36} {'count':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9}"]
        for name in sorted(self.latencies):
            p50, p90, p99 = self.percentiles(name)
            lines.append(f"{name:<36} {len(self.latencies[name]):>7} {p50:>9.1f} {p90:>9.1f} {p99:>9.1f}")
        shown = ", ".join(f"{code} x{count}" for code, count in sorted(self.errors.items(), key=str)) or "none"
        lines.append(f"Errors: {shown}")
        lines += [f"  {message}" for message in self.failures]
        return "\n".join(lines)


def run_load(phone: Phone, calls: int, concurrency: int, *, keys=(), plan: list | None = None,
             max_seconds: float | None = None, progress: Callable[[int], None] | None = None,
             phone_for: Callable | None = None) -> LoadReport:
    """Place ``calls`` calls, ``concurrency`` at a time, stopping early after ``max_seconds``.
    Each call follows the next scenario of ``plan`` in turn (on ``phone_for(scenario)``, e.g. an
    ``HttpTarget`` that sends a pinned NOW to a test-clock server; default ``phone``), or
    answers with ``keys``."""
    if calls < 1 or concurrency < 1:
        raise ValueError("calls and concurrency must be at least 1")
    report = LoadReport()
    lock = threading.Lock()
    issued = [0]
    started = time.perf_counter()
    deadline = started + max_seconds if max_seconds else None

    def next_index() -> int | None:
        with lock:
            if issued[0] >= calls or (deadline and time.perf_counter() >= deadline):
                return None
            issued[0] += 1
            return issued[0] - 1

    def one_call(index: int) -> None:
        call, failure = None, None
        try:
            if plan:
                result = scenarios.run(plan[index % len(plan)], phone_for or (lambda s: phone))
                call = result.call
                if result.status == "failed":
                    failure = f"{result.scenario.name}: {result.message.splitlines()[0]}"
            else:
                call = phone.run(keys)
        except Exception as exc:  # a crash in one call must not stop the run
            failure = f"{type(exc).__name__}: {exc}"
            with lock:
                report.errors[type(exc).__name__] += 1
        with lock:
            report.calls += 1
            if call is not None:
                for request in call.requests:
                    report.latencies[webhook_name(request)].append(request["ms"])
                for error in call.errors:
                    report.errors[error["code"]] += 1
            if failure:
                report.failed += 1
                if len(report.failures) < 5:
                    report.failures.append(failure)
        if progress:
            progress(1)

    def worker() -> None:
        while (index := next_index()) is not None:
            one_call(index)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.wall_seconds = time.perf_counter() - started
    return report
