"""Telephone audio: 8 kHz mono. DTMF tones (ITU-T Q.23), decoding Play files, the call recording."""
from __future__ import annotations

import functools
import io

import numpy as np
import soundfile
import soxr

RATE = 8000
LEVEL = 0.25  # each DTMF component; two together stay well below full scale

# ITU-T Q.23: one low (row) and one high (column) frequency per key.
_ROWS = (697, 770, 852, 941)
_COLS = (1209, 1336, 1477, 1633)
_LAYOUT = ("123A", "456B", "789C", "*0#D")
DTMF_FREQUENCIES: dict[str, tuple[int, int]] = {
    key: (_ROWS[r], _COLS[c]) for r, row in enumerate(_LAYOUT) for c, key in enumerate(row)
}


def silence(seconds: float) -> np.ndarray:
    return np.zeros(max(0, int(round(seconds * RATE))), dtype=np.float32)


def tone(frequencies: tuple[float, ...], seconds: float, level: float = LEVEL) -> np.ndarray:
    t = np.arange(int(round(seconds * RATE)), dtype=np.float64) / RATE
    wave = sum(np.sin(2 * np.pi * f * t) for f in frequencies) * level
    ramp = min(len(t) // 2, int(0.005 * RATE))  # 5 ms fades: no clicks at the edges
    if ramp:
        envelope = np.ones(len(t))
        envelope[:ramp] = np.linspace(0, 1, ramp)
        envelope[-ramp:] = np.linspace(1, 0, ramp)
        wave = wave * envelope
    return np.asarray(wave, dtype=np.float32)


def dtmf(key: str, seconds: float) -> np.ndarray:
    return tone(DTMF_FREQUENCIES[key.upper()], seconds)


def decode(data: bytes) -> np.ndarray:
    """Any file libsndfile reads (WAV, AIFF, FLAC, OGG, MP3...) as 8 kHz mono float32."""
    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != RATE:
        mono = soxr.resample(mono, rate, RATE)
    return np.asarray(mono, dtype=np.float32)


@functools.lru_cache(maxsize=256)
def duration_of(data: bytes) -> float | None:
    # Remembered: a call plays the same cached prompt files again and again (the key is the bytes
    # object itself, whose hash Python keeps once computed).
    try:
        info = soundfile.info(io.BytesIO(data))
    except Exception:  # libsndfile cannot read it: the duration is unknown
        return None
    return info.frames / info.samplerate if info.samplerate else None


def wav_bytes(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, np.clip(samples, -1.0, 1.0), RATE, subtype="PCM_16", format="WAV")
    return out.getvalue()


class Recording:
    """The whole call as one track: sounds are placed at their simulated start times."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, np.ndarray]] = []

    def add(self, at: float, samples: np.ndarray) -> None:
        if len(samples):
            self._parts.append((int(round(at * RATE)), samples))

    def render(self, until: float) -> np.ndarray:
        end = max([int(round(until * RATE))] + [start + len(s) for start, s in self._parts])
        track = np.zeros(end, dtype=np.float32)
        for start, samples in self._parts:
            track[start:start + len(samples)] += samples
        return track

    def wav(self, until: float) -> bytes:
        return wav_bytes(self.render(until))
