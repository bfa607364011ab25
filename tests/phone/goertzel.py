"""A DTMF decoder for tests: Goertzel power at the eight Q.23 frequencies, frame by frame."""
from __future__ import annotations

import numpy as np

ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
LAYOUT = ("123A", "456B", "789C", "*0#D")
FRAME = 205  # the classic Goertzel block at 8 kHz: bins land close to all eight tones


def goertzel_power(frame: np.ndarray, freq: float, rate: int) -> float:
    coeff = 2 * np.cos(2 * np.pi * freq / rate)
    s1 = s2 = 0.0
    for x in frame:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def frame_key(frame: np.ndarray, rate: int) -> str | None:
    energy = float(np.dot(frame, frame))
    if energy < 1e-3:
        return None
    rows = [goertzel_power(frame, f, rate) for f in ROWS]
    cols = [goertzel_power(frame, f, rate) for f in COLS]
    r, c = int(np.argmax(rows)), int(np.argmax(cols))
    # Both tones must dominate their group, and together carry most of the frame's energy
    # (speech has energy everywhere; a DTMF pair has it at two frequencies only).
    if sorted(rows)[-2] * 10 > rows[r] or sorted(cols)[-2] * 10 > cols[c]:
        return None
    if 2 * (rows[r] + cols[c]) / len(frame) < 0.6 * energy:
        return None
    return LAYOUT[r][c]


def decode(samples: np.ndarray, rate: int = 8000) -> str:
    """Keys in order; a key needs two consecutive frames, and a gap separates repeats."""
    keys, previous, run = [], None, 0
    for start in range(0, len(samples) - FRAME + 1, FRAME):
        key = frame_key(samples[start:start + FRAME].astype(np.float64), rate)
        if key is not None and key == previous:
            run += 1
            if run == 2:
                keys.append(key)
        else:
            run = 1 if key is not None else 0
        previous = key
    return "".join(keys)
