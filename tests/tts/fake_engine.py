"""A misbehaving TTS worker for tests: speaks the worker protocol of ivr/tts/_worker.py but
reproduces a known pyttsx3/espeak failure instead of speaking.

Usage: python fake_engine.py MODE, MODE one of: empty (44-byte header-only WAV, pyttsx3 #142),
no-file (pyttsx3 #151), short (0.2 s of sound for any text: the "only the last file is written"
mix-up), silence, hang (pyttsx3 #194), crash, no-ready (dies at start-up).
"""
import json
import math
import struct
import sys
import time
import wave

RATE = 22050


def write(path, frames: bytes) -> None:
    with wave.open(path, "wb") as f:  # what pyttsx3's espeak driver does
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(frames)


def main(mode: str) -> int:
    if mode == "no-ready":
        print(json.dumps({"ready": False, "error": "could not initialize espeak"}), flush=True)
        return 1
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if mode == "empty":
            write(req["path"], b"")
        elif mode == "short":
            n = int(0.2 * RATE)
            write(req["path"], b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(n)))
        elif mode == "silence":
            write(req["path"], b"\0\0" * (2 * RATE))
        elif mode == "hang":
            time.sleep(3600)
        elif mode == "crash":
            return 1
        print(json.dumps({"ok": True, "voice": "fake"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
