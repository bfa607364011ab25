"""``--play``: prompts through the computer's speaker with whichever player is installed."""
from __future__ import annotations

import shutil
import subprocess
import tempfile

from ivr.phone import audio
from ivr.phone.voice import Sound

PLAYERS = (["aplay", "-q"], ["paplay"], ["afplay"], ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"])


def find_player() -> list[str] | None:
    for command in PLAYERS:
        if shutil.which(command[0]):
            return command
    return None


class Speaker:
    def __init__(self, command: list[str]):
        self.command = command

    def __call__(self, sound: Sound) -> None:
        if sound.samples is None or not len(sound.samples):
            return
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            tmp.write(audio.wav_bytes(sound.samples))
            tmp.flush()
            subprocess.run(self.command + [tmp.name], check=False)
