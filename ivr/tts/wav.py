"""Audio checks and conversion to telephony WAV (8 kHz, mono, 16-bit PCM) with soundfile + soxr."""
from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ivr.tts.errors import TTSError

RATE = 8000
WAV_HEADER_BYTES = 44
FORMAT_TEXT = "WAV, 8000 Hz, mono, 16-bit PCM"
# Peak below this (of 32767) means the engine wrote silence instead of speech.
SILENCE_PEAK = 64
# Telephone-ready levels: every render peaks at -3 dBFS (headroom for the codec and for filters
# along the line) and has a fixed silence before speech and after it, so prompts played back to
# back are separated by LEAD + TRAIL and none starts abruptly.
PEAK_DBFS = -3.0
PEAK = 10 ** (PEAK_DBFS / 20)  # 0.708
LEAD_SECONDS = 0.2
TRAIL_SECONDS = 0.35
# Pauses inside a prompt are cut to at most this: espeak pauses ~0.6 s at every full stop, so
# menus of short items ("Account, press 1. ...") crawled at ~105 wpm while prose ran at ~180.
MAX_PAUSE_SECONDS = 0.3
# Speech starts/ends where the level first/last exceeds this fraction of the peak (-40 dB).
SPEECH_THRESHOLD = 0.01

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"[0-9]")
_PAUSE = re.compile(r"[,.;:!?，。；：！？、…]")


def duration_bounds(text: str, rate: int) -> tuple[float, float]:
    """Plausible (min, max) seconds for espeak-ng to speak ``text`` at ``rate`` words a minute.

    Units are Latin words and Chinese characters (espeak's Mandarin rate is about one syllable per
    "word"); a digit counts as half a unit at least ("100" is two words) and two at most ("12333"
    in Mandarin is nine syllables); punctuation adds a pause. Calibrated on this project's 108
    prompts, whose real durations lie between 1.7x the minimum and 0.55x the maximum: the bounds
    catch empty, truncated or runaway audio and audio of some other text, not a slow voice.
    """
    cjk, words = len(_CJK.findall(text)), len(_WORD.findall(text))
    digits, pauses = len(_DIGIT.findall(text)), len(_PAUSE.findall(text))
    per_unit = 60.0 / max(int(rate), 1)
    low = 0.45 * (cjk + words + 0.5 * digits) * per_unit
    high = 2.0 * (cjk + words + 2 * digits + 1) * per_unit + 0.8 * pauses + 1.0
    return low, high


@dataclass(frozen=True)
class Audio:
    wav: bytes  # the telephony WAV file
    duration: float  # seconds


def engine_output_to_telephony(path: str | os.PathLike, text: str, rate: int, label: str) -> Audio:
    """Check the engine's file (size, content, duration) and convert it; ``label`` names the prompt."""
    import numpy as np
    import soundfile as sf

    try:
        size = os.path.getsize(path)
    except OSError:
        raise TTSError(f"{label}: the TTS engine wrote no file") from None
    if size <= WAV_HEADER_BYTES:
        raise TTSError(f"{label}: the TTS engine wrote an empty WAV file ({size} bytes: header only)")
    try:
        samples, source_rate = sf.read(path, dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise TTSError(f"{label}: the TTS engine wrote an unreadable WAV file: {exc}") from None
    mono = samples.mean(axis=1).astype(np.int16) if samples.shape[1] > 1 else samples[:, 0]
    if len(mono) == 0 or int(np.abs(mono.astype(np.int32)).max()) < SILENCE_PEAK:
        raise TTSError(f"{label}: the TTS engine wrote silence ({len(mono)} samples)")
    duration = len(mono) / source_rate
    low, high = duration_bounds(text, rate)
    if not low <= duration <= high:
        raise TTSError(f"{label}: implausible duration {duration:.2f} s for {len(text)} characters of "
                       f"text at rate {rate} (expected {low:.2f}-{high:.2f} s)")
    return to_telephony(mono, source_rate)


def speech_seconds(path: str | os.PathLike) -> float:
    """How long the speech in an engine file lasts once made telephony audio (leading and trailing
    silence trimmed, long pauses capped): what the caller hears as the text's pace."""
    import soundfile as sf

    try:
        samples, source_rate = sf.read(path, dtype="int16", always_2d=True)
        audio = to_telephony(samples[:, 0], source_rate)
    except Exception:  # noqa: BLE001 - a bad file is reported by engine_output_to_telephony
        return 0.0
    return max(0.0, audio.duration - LEAD_SECONDS - TRAIL_SECONDS)


def to_telephony(samples, source_rate: int) -> Audio:
    """Resample 16-bit mono samples to 8 kHz (soxr, high quality), trim the engine's own silence,
    pad with LEAD_SECONDS before and TRAIL_SECONDS after the speech, peak-normalise to PEAK_DBFS
    and encode as WAV."""
    import numpy as np
    import soxr

    x = samples.astype(np.float32) / 32768.0
    if source_rate != RATE:
        x = soxr.resample(x, source_rate, RATE, quality="HQ")
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak > 0:
        loud = np.flatnonzero(np.abs(x) > SPEECH_THRESHOLD * peak)
        x = _cap_pauses(x[loud[0]:loud[-1] + 1], SPEECH_THRESHOLD * peak) * (PEAK / peak)
    lead = np.zeros(int(LEAD_SECONDS * RATE), dtype=np.float32)
    trail = np.zeros(int(TRAIL_SECONDS * RATE), dtype=np.float32)
    out = np.round(np.concatenate([lead, x, trail]) * 32767.0).astype(np.int16)
    return Audio(wav=encode(out), duration=round(len(out) / RATE, 3))


def _cap_pauses(x, threshold: float):
    """Shorten every silence (10 ms frames below ``threshold``) longer than MAX_PAUSE_SECONDS."""
    import numpy as np

    frame = RATE // 100
    n = len(x) // frame
    if n < 2:
        return x
    quiet = np.abs(x[: n * frame]).reshape(n, frame).max(axis=1) <= threshold
    keep = int(MAX_PAUSE_SECONDS * 100)
    pieces, start, i = [], 0, 0
    while i < n:
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < n and quiet[j]:
            j += 1
        if j - i > keep:  # keep half the allowed pause on each side of the cut
            cut_from, cut_to = (i + keep // 2) * frame, (j - (keep - keep // 2)) * frame
            pieces.append(x[start:cut_from])
            start = cut_to
        i = j
    pieces.append(x[start:])
    return np.concatenate(pieces)


def levels(samples, rate: int = RATE) -> dict:
    """Peak (dBFS), leading and trailing silence (s) and speech duration (s) of 16-bit samples:
    what a listener gets, for tests and bench/audio.py."""
    import numpy as np

    x = np.abs(np.asarray(samples, dtype=np.float32) / 32768.0)
    peak = float(x.max()) if len(x) else 0.0
    if peak == 0:
        return {"peak_dbfs": float("-inf"), "lead": len(x) / rate, "trail": 0.0, "speech": 0.0}
    loud = np.flatnonzero(x > SPEECH_THRESHOLD * peak)
    return {"peak_dbfs": 20 * float(np.log10(peak)), "lead": loud[0] / rate,
            "trail": (len(x) - 1 - loud[-1]) / rate, "speech": (loud[-1] - loud[0] + 1) / rate}


def encode(samples) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def write_temp(path: Path, data: bytes) -> str:
    """Write ``data`` to a new temporary file next to ``path`` (same folder, so a rename to
    ``path`` is atomic); return its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file, then rename: readers never see a partial file."""
    tmp = write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def discard(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def format_problems(path: str | os.PathLike) -> list[str]:
    """Why ``path`` is not telephony WAV (empty list: it is)."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError) as exc:
        return [f"not a readable WAV file ({exc})"]
    problems = []
    if info.format != "WAV":
        problems.append(f"container {info.format}, not WAV")
    if info.samplerate != RATE:
        problems.append(f"{info.samplerate} Hz, not {RATE} Hz")
    if info.channels != 1:
        problems.append(f"{info.channels} channels, not mono")
    if info.subtype != "PCM_16":
        problems.append(f"sample format {info.subtype}, not 16-bit PCM")
    if info.frames == 0:
        problems.append("no audio (0 frames)")
    return problems
