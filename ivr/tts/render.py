"""Render one text with pyttsx3 to telephony WAV bytes, and ``synthesize()`` for callers."""
from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.tts.readout import speakable
from ivr.tts import lexicon as lexicon_mod
from ivr.tts.engine import TTSWorker, shared_worker
from ivr.tts.errors import TTSError
from ivr.tts.lexicon import Lexicon
from ivr.tts import pacing
from ivr.tts.wav import Audio, engine_output_to_telephony, speech_seconds

# Fallbacks when the config lacks a key or a language (ivr.config.DEFAULTS holds the same values).
DEFAULT_VOICES = {"zh-CN": "cmn", "en-US": "en-us"}
DEFAULT_RATES = {"zh-CN": 220, "en-US": 160}
DEFAULT_TIMEOUT = 20.0
# Bump when the output format or the rendering pipeline changes: every cached file re-renders.
# 2: espeak-ng 1.52, spoken-form text (readout.speakable, pronunciations.toml), levels and silences.
# 3: even pacing (ivr.tts.pacing).
PIPELINE_VERSION = "3"


@dataclass(frozen=True)
class Voice:
    lang: str
    voice: str  # espeak-ng voice name given to pyttsx3 (cmn, en-us, ...)
    rate: int  # words per minute
    lexicon: Lexicon = field(default=lexicon_mod.EMPTY, compare=False)  # zh pronunciation overrides

    def key(self, text: str) -> str:
        """Cache key: changes when the text, voice, rate, overrides or pipeline changes."""
        raw = "\0".join((PIPELINE_VERSION, self.lang, self.voice, str(self.rate), self.lexicon.fingerprint,
                         text))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]

    def engine_text(self, text: str) -> str:
        """The exact text the engine is given: numbers in spoken form, then (Mandarin) the
        pronunciation overrides as phoneme input."""
        spoken = speakable(text, self.lang) if self.lang[:2].lower() in ("zh", "en") else text
        return self.lexicon.apply(spoken) if self.lang.lower().startswith("zh") else spoken


def voice_for(config: Mapping, lang: str) -> Voice:
    voices = {**DEFAULT_VOICES, **(config.get("TTS_VOICES") or {})}
    rates = {**DEFAULT_RATES, **(config.get("TTS_RATES") or {})}
    if lang not in voices:
        raise TTSError(f"no TTS voice configured for language {lang!r} (TTS_VOICES)", lang=lang)
    try:
        rate = int(rates.get(lang, 160))
    except (TypeError, ValueError):
        raise TTSError(f"TTS_RATES[{lang!r}] must be a number, not {rates.get(lang)!r}") from None
    lex = lexicon_mod.EMPTY
    if lang.lower().startswith("zh"):
        try:
            lex = lexicon_mod.load(config.get("PROMPTS_DIR") or _default_prompts_dir())
        except lexicon_mod.LexiconError as exc:
            raise TTSError(str(exc), lang=lang) from None
    return Voice(lang=lang, voice=str(voices[lang]), rate=rate, lexicon=lex)


def _default_prompts_dir() -> str:
    from ivr.config import DEFAULTS

    return DEFAULTS["PROMPTS_DIR"]


def timeout_for(config: Mapping) -> float:
    return float(config.get("TTS_TIMEOUT") or DEFAULT_TIMEOUT)


_scratch: dict[int, str] = {}
_scratch_lock = threading.Lock()
_counter = itertools.count()


def _scratch_file() -> str:
    """A fresh name in this process's private temporary folder (removed at exit)."""
    with _scratch_lock:
        folder = _scratch.get(os.getpid())
        if folder is None:
            folder = _scratch[os.getpid()] = tempfile.mkdtemp(prefix="ivr-tts-")
            atexit.register(shutil.rmtree, folder, True)
    return os.path.join(folder, f"{next(_counter)}.wav")


def engine_render(text: str, voice: Voice, *, timeout: float, label: str,
                  worker: TTSWorker | None = None) -> tuple[str, str]:
    """Have pyttsx3 speak ``text`` into a scratch file; return (file, espeak voice id). A text
    spoken outside its language's pace band is spoken again at a corrected rate (ivr.tts.pacing).
    The caller checks and converts the file (``finish_render``)."""
    if not text.strip():
        raise TTSError(f"{label}: nothing to say (empty text)")
    worker = worker or shared_worker()
    raw, voice_id = _speak(text, voice, voice.rate, timeout, label, worker)
    n_units = pacing.units(voice.engine_text(text), voice.lang) if pacing.band(voice.lang) else 0
    rate, scale = voice.rate, voice.rate / DEFAULT_RATES.get(voice.lang, voice.rate)
    for _ in range(pacing.TRIES if n_units else 0):
        new = pacing.corrected_rate(rate, n_units, speech_seconds(raw), voice.lang, scale)
        if new is None:
            break
        _remove(raw)
        rate = new
        raw, voice_id = _speak(text, voice, rate, timeout, label, worker)
    return raw, voice_id


def _speak(text: str, voice: Voice, rate: int, timeout: float, label: str, worker: TTSWorker) -> tuple[str, str]:
    raw = _scratch_file()  # does not exist: the engine must create it
    try:
        voice_id = worker.render(voice.engine_text(text), voice.voice, rate, raw, timeout)
    except TTSError as exc:
        _remove(raw)
        if "SetVoiceByName" in str(exc):
            raise TTSError(f"{label}: espeak-ng has no voice {voice.voice!r} that pyttsx3 can select "
                           f"(TTS_VOICES; see `espeak-ng --voices`, e.g. cmn, en-us): {exc}") from None
        raise TTSError(f"{label}: {exc} (voice {voice.voice!r}, rate {rate})") from None
    return raw, voice_id


def finish_render(raw: str, text: str, voice: Voice, *, label: str) -> Audio:
    """Check the engine's file and convert it to telephony WAV; the file is removed."""
    try:
        return engine_output_to_telephony(raw, text, voice.rate, label)
    finally:
        _remove(raw)


def render_text(text: str, voice: Voice, *, timeout: float, label: str,
                worker: TTSWorker | None = None) -> tuple[Audio, str]:
    """Speak ``text`` to telephony WAV; return it and the espeak voice id used.

    ``label`` names the prompt in errors, e.g. ``prompt 'welcome' (zh-CN)``.
    """
    raw, voice_id = engine_render(text, voice, timeout=timeout, label=label, worker=worker)
    return finish_render(raw, text, voice, label=label), voice_id


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_MAX = 256


def synthesize(text: str, lang: str) -> bytes:
    """The bytes of a WAV file (8 kHz, mono, 16-bit PCM) of ``text`` spoken in ``lang``.

    Uses the app's TTS_VOICES / TTS_RATES / TTS_TIMEOUT inside an app context, else the defaults.
    Results are cached in memory by text, voice and rate. Raises TTSError on failure.
    """
    try:
        from flask import current_app

        config: Mapping = current_app.config if current_app else {}
    except RuntimeError:  # no app context
        config = {}
    voice = voice_for(config, lang)
    key = voice.key(text)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    audio, _ = render_text(text, voice, timeout=timeout_for(config), label=f"text {text[:40]!r} ({lang})")
    with _cache_lock:
        _cache[key] = audio.wav
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return audio.wav
