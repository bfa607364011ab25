"""Parent side of the TTS worker process (see ``_worker.py`` for why a process).

One worker per server process, started on first use and reused; a render that exceeds its time
limit, or a worker that dies, is killed and replaced on the next render. Thread-safe (one render at
a time per worker) and fork-safe (a child process never touches its parent's worker).
"""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from ivr.tts.errors import TTSError
from ivr.tts.espeak import worker_env

WORKER_FILE = Path(__file__).with_name("_worker.py")


class TTSWorker:
    def __init__(self, argv: list[str] | None = None):
        self.argv = argv or [sys.executable, "-u", str(WORKER_FILE)]
        self._proc: subprocess.Popen | None = None
        self._owner_pid = 0
        self._buf = b""
        self._lock = threading.Lock()
        self.espeak_version: str | None = None

    # -- public ---------------------------------------------------------------------------------
    def render(self, text: str, voice: str, rate: int, path: str | os.PathLike, timeout: float) -> str:
        """Have pyttsx3 write ``text`` to ``path`` (22.05 kHz WAV); return the espeak voice used.

        Raises TTSError on an engine error, a crash, or when ``timeout`` seconds (worker start-up
        included) pass first. The caller validates the file.
        """
        with self._lock:
            deadline = time.monotonic() + timeout
            self._ensure_started(deadline, timeout)
            request = {"text": text, "voice": voice, "rate": int(rate), "path": os.fspath(path),
                       "timeout": max(0.1, deadline - time.monotonic())}
            try:
                self._proc.stdin.write((json.dumps(request) + "\n").encode("ascii"))
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                raise TTSError("the TTS worker process exited unexpectedly") from None
            reply = self._read_message(deadline, timeout)
            if reply.get("fatal"):
                self._kill()
            if not reply.get("ok"):
                raise TTSError(f"pyttsx3/espeak-ng error: {reply.get('error', 'unknown')}")
            return str(reply.get("voice") or voice)

    def close(self) -> None:
        with self._lock:
            self._kill(graceful=True)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._owner_pid == os.getpid() else None

    # -- internals ------------------------------------------------------------------------------
    def _ensure_started(self, deadline: float, timeout: float) -> None:
        if self._proc is not None and self._owner_pid != os.getpid():
            # Inherited across fork: the pipes belong to the parent's render loop. Forget it.
            self._proc, self._buf = None, b""
        if self._proc is not None and self._proc.poll() is None:
            return
        self._proc, self._buf = None, b""
        try:
            self._proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
                start_new_session=True,  # Ctrl-C goes to the CLI, which then closes the worker
                env=worker_env(),  # the packaged espeak-ng 1.52 and its data (ivr/tts/espeak.py)
            )
        except OSError as exc:
            raise TTSError(f"cannot start the TTS worker {self.argv[0]}: {exc}") from None
        self._owner_pid = os.getpid()
        hello = self._read_message(deadline, timeout)
        self.espeak_version = hello.get("espeak")
        if not hello.get("ready"):
            self._kill()
            raise TTSError(hello.get("error") or "the TTS worker failed to start")

    def _read_message(self, deadline: float, timeout: float) -> dict:
        proc = self._proc
        fd = proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            if not ready:
                self._kill()
                raise TTSError(f"pyttsx3/espeak-ng gave no result within the {timeout:g} s time "
                               "limit (the engine hung; its process was killed)")
            chunk = os.read(fd, 65536)
            if not chunk:
                self._kill()
                raise TTSError(f"the TTS worker process exited unexpectedly (status {proc.returncode})")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            self._kill()
            raise TTSError(f"the TTS worker sent garbage: {line[:200]!r}") from None

    def _kill(self, graceful: bool = False) -> None:
        proc, self._proc, self._buf = self._proc, None, b""
        if proc is None or self._owner_pid != os.getpid():
            return
        try:
            if graceful:
                proc.stdin.close()  # the worker exits at end of input
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


_shared: TTSWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> TTSWorker:
    """The process-wide worker (used by synthesize() and the prompt audio store)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TTSWorker()
            atexit.register(_shared.close)
        return _shared
