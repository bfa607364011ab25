"""The browser softphone (``/phone``): dial the hotline from a web page, offline, no Twilio.

Imported only when ``IVR_SOFTPHONE`` is on (``ivr.app``); the local phone's audio stack (numpy,
soundfile) only on the first dial. ``routes`` is the blueprint; see its docstring.
"""
