"""Which espeak-ng the local voice runs, and what it will say (its phonemes).

The voice is espeak-ng **1.52** with its own data, from the ``espeakng-loader`` wheel (a pip
dependency, so every machine gets the same engine): Debian 12's 1.51 lacks most characters in its
Mandarin dictionary and speaks them in English with tone numbers (docs/audio.md has the figures).
``IVR_ESPEAK_LIBRARY=system`` uses the system's library and data instead (for comparisons).

pyttsx3's espeak driver opens ``libespeak-ng.so.1`` by name, so the TTS worker loads the packaged
file first (same soname: the dynamic linker then hands the driver the library already loaded) and
points ``ESPEAK_DATA_PATH`` at the packaged data. :func:`worker_env` is what the worker is given.

:func:`phonemes` asks the same library and data, in this process, for the phonemes it speaks for a
text (``espeak_TextToPhonemes``, the ``espeak-ng -x`` notation): a syllable in another language shows
as ``(en)...(cmn)``.
"""
from __future__ import annotations

import ctypes
import os
import re
import threading
from dataclasses import dataclass

SYSTEM = "system"
_SYSTEM_SONAME = "libespeak-ng.so.1"
# Phoneme input: espeak speaks ``[[...]]`` as the phonemes written (pronunciation overrides).
PHONEME_INPUT = re.compile(r"\[\[(.*?)\]\]")
_SWITCH = re.compile(r"\((?P<lang>[a-z][a-z-]*)\)(?P<body>.*?)(?=\([a-z][a-z-]*\)|_\||$)")


@dataclass(frozen=True)
class Library:
    path: str  # the shared library file (or the system soname)
    data: str | None  # the espeak-ng-data folder (None: the library's compiled-in default)

    @property
    def packaged(self) -> bool:
        return self.data is not None


def library(choice: str | None = None) -> Library:
    """The packaged 1.52 library, or the system's when ``choice`` (default ``IVR_ESPEAK_LIBRARY``)
    is ``system``; a path to a library file is used with ``ESPEAK_DATA_PATH`` as set."""
    choice = choice if choice is not None else os.environ.get("IVR_ESPEAK_LIBRARY", "")
    if choice == SYSTEM:
        return Library(_SYSTEM_SONAME, None)
    if choice:
        return Library(choice, os.environ.get("ESPEAK_DATA_PATH"))
    try:
        import espeakng_loader
    except ImportError:  # not installed: fall back to the system, say so where it matters
        return Library(_SYSTEM_SONAME, None)
    return Library(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())


def worker_env(lib: Library | None = None) -> dict[str, str]:
    """Environment for the TTS worker process: the library it preloads and the data it reads."""
    lib = lib or library()
    env = dict(os.environ)
    env["IVR_ESPEAK_PRELOAD"] = "" if lib.path == _SYSTEM_SONAME else lib.path
    if lib.data:
        env["ESPEAK_DATA_PATH"] = lib.data
    else:
        env.pop("ESPEAK_DATA_PATH", None)
    return env


class _Engine:
    """espeak-ng loaded in this process, synchronous mode, for phonemes only (no audio)."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.dll = ctypes.CDLL(lib.path)
        self.dll.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.dll.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.dll.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.dll.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        self.dll.espeak_Info.restype = ctypes.c_char_p
        self.dll.espeak_Info.argtypes = [ctypes.c_void_p]
        data = lib.data.encode() if lib.data else None
        if self.dll.espeak_Initialize(2, 0, data, 0) < 0:  # 2 = AUDIO_OUTPUT_SYNCHRONOUS
            raise RuntimeError(f"espeak-ng at {lib.path} failed to initialise (data {lib.data})")
        self.version = self.dll.espeak_Info(None).decode()
        self.voice = ""
        self.lock = threading.Lock()

    def phonemes(self, text: str, voice: str) -> list[str]:
        with self.lock:
            if voice != self.voice:
                if self.dll.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise ValueError(f"espeak-ng {self.version} has no voice {voice!r}")
                self.voice = voice
            buf = ctypes.create_string_buffer(text.encode("utf-8"))
            ptr = ctypes.c_void_p(ctypes.addressof(buf))
            out = []
            while ptr.value:
                clause = self.dll.espeak_TextToPhonemes(ctypes.byref(ptr), 1, 0)  # 1 = UTF-8
                if clause:
                    out.append(clause.decode("utf-8", "replace"))
            return out


_engines: dict[Library, _Engine] = {}
_engines_lock = threading.Lock()


def _engine(lib: Library | None = None) -> _Engine:
    lib = lib or library()
    with _engines_lock:
        if lib not in _engines:
            _engines[lib] = _Engine(lib)
        return _engines[lib]


def version(lib: Library | None = None) -> str:
    return _engine(lib).version


def phonemes(text: str, voice: str, lib: Library | None = None) -> str:
    """The phonemes espeak-ng speaks for ``text`` (``espeak-ng -x`` notation, words separated by
    ``_|``); ``[[...]]`` phoneme input is passed through as written, as the synthesiser speaks it."""
    engine = _engine(lib)
    parts, pos = [], 0
    for m in PHONEME_INPUT.finditer(text):
        if text[pos:m.start()].strip():
            parts.extend(engine.phonemes(text[pos:m.start()], voice))
        parts.append(m.group(1) + "_|")
        pos = m.end()
    if text[pos:].strip():
        parts.extend(engine.phonemes(text[pos:], voice))
    return " ".join(p.strip() for p in parts if p.strip())


@dataclass(frozen=True)
class Foreign:
    lang: str  # the language espeak switched to, e.g. "en"
    phonemes: str  # what it spoke in it


def foreign_spans(phoneme_text: str, own: str) -> list[Foreign]:
    """Stretches spoken in a language other than ``own`` (``(en)n'aI(cmn)`` -> en ``n'aI``)."""
    found = []
    for m in _SWITCH.finditer(phoneme_text):
        if m.group("lang").split("-")[0] != own.split("-")[0] and m.group("body").strip("_| "):
            found.append(Foreign(m.group("lang"), m.group("body").strip("_| ")))
    return found


_VOWELS = re.compile(r"[aeiouyAEIOUV@&03]+")


def syllable_count(phoneme_text: str) -> int:
    """Syllables in Mandarin phonemes: one tone number each (55, 35, 214, 51, 11, ...)."""
    return len(re.findall(r"(?<![0-9])[1-5]{2,3}(?![0-9])", phoneme_text))


def foreign_syllables(phoneme_text: str, own: str) -> int:
    """Syllables spoken in another language (vowel groups of the foreign stretches)."""
    return sum(max(1, len(_VOWELS.findall(span.phonemes))) for span in foreign_spans(phoneme_text, own))
