"""12333-style social security hotline: Twilio voice webhooks, offline TTS and a local phone."""
from ivr.app import create_app

__all__ = ["create_app"]
