"""Twilio ``<Say>`` voices and their documented languages: the table now lives with the local
phone, which warns on an undocumented pair and imports nothing of the hotline
(``ivr/phone/say_voices.py``). The hotline checks ``IVR_SAY_VOICES`` with the same table."""
from ivr.phone.say_voices import DOCUMENTED, documented, problem, say_language  # noqa: F401
