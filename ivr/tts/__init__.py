"""Local text-to-speech (pyttsx3 on espeak-ng) and the prompt audio cache.

- ``synthesize(text, lang) -> bytes``: a telephony WAV (8 kHz mono 16-bit PCM) of any text.
- ``ivr.tts.store.PromptAudio``: rendered prompts on disk with a manifest, recordings, checks.
- ``ivr.cli.prompts``: ``ivr prompts render`` and ``ivr prompts check``.
"""
from ivr.tts.errors import TTSError
from ivr.tts.render import synthesize

__all__ = ["TTSError", "synthesize"]
