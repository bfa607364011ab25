import io
from pathlib import Path

import numpy as np
import soundfile as sf

from ivr.tts.wav import duration_bounds


def assert_telephony_wav(audio: bytes | Path, text: str, rate: int) -> float:
    """A real spoken rendering of ``text``: 8 kHz mono 16-bit WAV, audible, plausible length."""
    data = audio if isinstance(audio, bytes) else Path(audio).read_bytes()
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.samplerate, info.channels, info.subtype) == ("WAV", 8000, 1, "PCM_16")
    samples, _ = sf.read(io.BytesIO(data), dtype="int16")
    assert np.abs(samples.astype(np.int32)).max() > 1000, "audio is (nearly) silent"
    low, high = duration_bounds(text, rate)
    assert low <= info.duration <= high, (info.duration, low, high, text)
    return info.duration


def write_tone(path: Path, seconds: float = 1.0, rate: int = 8000, channels: int = 1,
               subtype: str = "PCM_16", freq: float = 440.0) -> bytes:
    """A stand-in for a human recording (any real audio will do)."""
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    if channels > 1:
        x = np.stack([x] * channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, rate, subtype=subtype, format="WAV")
    return path.read_bytes()
