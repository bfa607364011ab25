"""The TTS worker: a child process that owns one pyttsx3 engine (espeak-ng driver).

Run by :mod:`ivr.tts.engine` as ``python _worker.py``; it imports nothing from ``ivr`` so it starts
fast. Protocol: one JSON object per line. The worker first writes ``{"ready": true, ...}``, then
answers each request ``{"text", "voice", "rate", "path", "timeout"}`` with ``{"ok": true, "voice":
...}`` or ``{"ok": false, "error": ...}``.

Why a separate process, and why the explicit wait: pyttsx3's espeak driver initialises espeak-ng in
AUDIO_OUTPUT_RETRIEVAL mode, which synthesises on espeak's own thread. ``runAndWait()`` therefore
returns *before* the file is written (after ~10 ms), and a second ``save_to_file`` issued meanwhile
replaces the first one's target: the "only the last file is written" and "empty file" reports.
We wait for the driver's ``finished-utterance`` notification (sent after the WAV is closed) and
treat any ``error`` notification (an unknown voice, say) as a failure. A hang (pyttsx3 #194,
voicebox #8) cannot block the server: the parent kills this process when its time limit passes.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

_PHONEMES = 0x100  # espeakPHONEMES (speak_lib.h): [[...]] is phoneme input


def main() -> int:
    # The protocol channel is the original stdout; pyttsx3 prints "Audio saved to ..." for every
    # file, so fd 1 then points at /dev/null (stderr stays the parent's, for real errors).
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    try:
        preload = os.environ.get("IVR_ESPEAK_PRELOAD")
        if preload:
            # pyttsx3's driver opens "libespeak-ng.so.1" by name; with the packaged 1.52 file of
            # that soname already loaded, the dynamic linker gives the driver this one (see
            # ivr/tts/espeak.py). ESPEAK_DATA_PATH (set by the parent) points at its data.
            import ctypes

            ctypes.CDLL(preload, mode=ctypes.RTLD_GLOBAL)
        import pyttsx3

        from pyttsx3.drivers import _espeak

        # Allow [[phonemes]] in the text (pronunciation overrides, prompts/pronunciations.toml):
        # the driver's Synth call passes fixed flags, so add espeakPHONEMES to them.
        synth = _espeak.Synth

        def synth_with_phonemes(text, *args, flags=0, **kwargs):
            return synth(text, *args, flags=flags | _PHONEMES, **kwargs)

        _espeak.Synth = synth_with_phonemes
        engine = pyttsx3.init("espeak")
        driver = engine.proxy._driver  # the EspeakDriver (see the Synchronize() note below)
    except Exception as exc:  # noqa: BLE001 - reported to the parent verbatim
        send({"ready": False, "error": f"cannot start pyttsx3/espeak-ng: {type(exc).__name__}: {exc}"})
        return 1

    errors: list[str] = []
    finished = threading.Event()

    def on_error(name=None, exception=None, **_):
        errors.append(f"{type(exception).__name__}: {exception}" if exception else "unknown error")

    def on_finished(name=None, completed=True, **_):
        if not completed:
            errors.append("utterance was cancelled")
        finished.set()

    engine.connect("error", on_error)
    engine.connect("finished-utterance", on_finished)
    send({"ready": True, "pid": os.getpid(), "pyttsx3": getattr(pyttsx3, "__version__", None),
          "espeak": _espeak.Info(None).decode(errors="replace") if hasattr(_espeak, "Info") else None})

    while True:
        line = sys.stdin.readline()
        if not line:
            return 0  # the parent closed the pipe (or exited)
        if not line.strip():
            continue
        req = json.loads(line)
        errors.clear()
        finished.clear()
        try:
            # Voice and rate go straight to the driver (not through pyttsx3's command queue): a
            # bad voice raises here instead of surfacing later as an "error" event while the text
            # is spoken with the previous voice.
            driver.setProperty("voice", req["voice"])
            driver.setProperty("rate", int(req["rate"]))
        except (ValueError, KeyError) as exc:
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        # In espeak-ng's asynchronous mode a parameter change is a command for espeak's own thread,
        # and "finished-utterance" fires before that thread is idle. Were espeak busy when
        # runAndWait() starts, pyttsx3 would see IsPlaying(), set its "stopping" flag and Cancel()
        # the new utterance ("utterance was cancelled": one render in three back to back, found
        # by tests). So wait until espeak is idle (polling: espeak_Synchronize() sleeps in 20 ms
        # steps, which cost a third of the render time), and clear any stale flag.
        idle_by = time.monotonic() + float(req.get("timeout", 30))
        while _espeak.IsPlaying():
            if time.monotonic() > idle_by:
                send({"ok": False, "error": "espeak-ng stayed busy", "fatal": True})
                return 1
            time.sleep(0.0005)
        driver._stopping = False
        try:
            engine.save_to_file(req["text"], req["path"])
            engine.runAndWait()
        except Exception as exc:  # noqa: BLE001 - e.g. "run loop already started"
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "fatal": True})
            return 1
        # runAndWait() returned before espeak spoke (see the module docstring): wait for the end.
        if not finished.wait(float(req.get("timeout", 30))):
            errors.append("espeak-ng never finished the utterance")
            send({"ok": False, "error": "; ".join(errors), "fatal": True})
            return 1  # engine state unknown: the parent starts a fresh worker
        if errors:
            send({"ok": False, "error": "; ".join(errors)})
            continue
        send({"ok": True, "voice": engine.getProperty("voice")})


if __name__ == "__main__":
    sys.exit(main())
