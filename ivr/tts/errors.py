"""Errors of the local text-to-speech layer."""
from __future__ import annotations


class TTSError(RuntimeError):
    """Rendering failed: the message says which prompt (when known) and why.

    The TwiML layer catches it and falls back to ``<Say>``; the CLI prints it and exits non-zero.
    """

    def __init__(self, message: str, *, prompt_id: str | None = None, lang: str | None = None):
        super().__init__(message)
        self.prompt_id = prompt_id
        self.lang = lang
