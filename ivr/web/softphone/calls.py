"""``app.extensions["ivr_softphone"]``: places browser calls, carries them on, saves them.

Each call runs through the local phone (``ivr.phone``) on the server, calling this app's own
``/voice`` webhooks in-process exactly as ``ivr call`` does, on the wall clock
(``ivr.phone.clock.WallClock``), so the page, the transcript and the call log's duration (the
status callback's CallDuration) all show the real time. Between requests a call lives in the
database (``store``).

What is stored: keys of more than one digit (ID numbers, passwords) are masked before the call
is saved or sent to the page; one-key menu choices are kept. Ended calls are deleted after
``KEEP_SECONDS``; a call nobody touched for ``ABANDON_SECONDS`` is hung up (the hotline then
logs it as abandoned) when someone next dials.
"""
from __future__ import annotations

import logging
import re
import secrets
import threading
import time

from ivr.phone.clock import WallClock
from ivr.web.softphone.audio_cache import AudioCache
from ivr.web.softphone.store import CallBusy, CallNotFound, CallStore, TooManyCalls

log = logging.getLogger("ivr.softphone")
MASK = "•"


def mask_entries(events: list[dict]) -> None:
    """Replace keys of multi-digit answers (ID numbers, passwords) with dots, in place."""
    for event in events:
        if event.get("verb") not in ("Gather", "Record"):
            continue
        for name in ("digits", "pressed", "dropped"):
            value = event.get(name)
            if isinstance(value, str) and len(value) > 1 and not set(value) <= {MASK}:
                event[name] = MASK * len(value)
        for name in ("speech", "ignored"):
            value = event.get(name)
            if isinstance(value, str) and _spoken_number(value):
                event[name] = MASK * len(value)


def _spoken_number(text: str) -> bool:
    """A number read out (an ID number, a password): masked like keys of more than one digit."""
    from ivr.engine.speech import reads_a_number

    return reads_a_number(re.sub(r"^say(?:@[0-9.]*)?:", "", text))   # "ignored" holds the caller's token


class Softphone:
    def __init__(self, app):
        self.app = app
        self.store = CallStore(app.extensions["ivr_db"])   # its table: Database.create_all
        self._phone = None
        self._phone_lock = threading.Lock()

    @property
    def phone(self):
        # Built on first use: the local phone loads its audio stack (numpy, soundfile, soxr: some
        # 20 MB of RSS) that a worker answering only Twilio's webhooks never needs.
        if self._phone is None:
            with self._phone_lock:
                if self._phone is None:
                    from ivr.phone.targets import app_phone, in_process_url
                    from ivr.phone.transport import origin

                    phone = app_phone(self.app, status_callback=in_process_url(self.app, "/voice/status"))
                    phone.audio_cache = AudioCache()
                    self._phone_origin = origin(phone.settings.url)
                    self._phone = phone
        return self._phone

    @property
    def origin(self) -> str:
        """Where the phone's app is served (Play URLs there are the hotline's own prompts)."""
        self.phone   # built on first use, with its origin
        return self._phone_origin

    def get(self, call_id: str):
        return self.store.get(call_id)

    def dial(self, caller: str, client: str | None = None, max_calls: int | None = None) -> tuple[str, dict]:
        """Place a call; with ``max_calls``, refuse (TooManyCalls) while ``client`` has that many
        calls going. The call's row is reserved first, atomically, so concurrent dials cannot
        overshoot the cap; it stays claimed (busy) until the call reaches its first input point."""
        from ivr.phone.snapshot import settle

        self.reap()
        call_id = secrets.token_urlsafe(24)
        dialled_at = time.time()
        if not self.store.reserve(call_id, client, max_calls, dialled_at):
            raise TooManyCalls(client)
        try:
            call = self.phone.dial(caller=caller, clock=WallClock(dialled_at))
            settle(call)
            data = self._save(call)
        except BaseException:
            self.store.delete(call_id)
            raise
        self.store.dialled(call_id, data)
        return call_id, data

    def press(self, call_id: str, keys: str) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.press(keys))

    def say(self, call_id: str, text: str, confidence: float | None) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.say(text, confidence))

    def hangup(self, call_id: str) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.hangup())

    def _step(self, call_id: str, act) -> tuple[dict, int]:
        """Claim the call, restore it, act, let it run to its next input point, save it.
        Returns the saved data and how many events it had before."""
        from ivr.phone.snapshot import restore, settle

        token, row = self.store.claim(call_id)
        data = row.snapshot
        before = len(data["events"])
        if data["ended"]:
            self.store.release(call_id, token)
            return data, before
        try:
            # One clock, the wall's: the caller listened and thought for real (ivr.phone.clock).
            call = restore(self.phone, data, clock=WallClock(row.dialled_at))
            act(call)
            settle(call)
            data = self._save(call)
        except BaseException:
            self.store.release(call_id, token)
            raise
        self.store.release(call_id, token, data)
        return data, before

    def _save(self, call) -> dict:
        from ivr.phone.snapshot import snapshot

        mask_entries(call.ctx.events)
        return snapshot(call)

    def reap(self) -> None:
        """Hang up calls nobody has touched for a while; forget ended ones after a while."""
        for call_id in self.store.tidy():
            try:
                self.hangup(call_id)
            except (CallBusy, CallNotFound):
                continue
            except Exception:  # noqa: BLE001 - an unusable saved call: forget it
                log.warning("abandoned browser call %s could not be hung up; deleted", call_id, exc_info=True)
                self.store.delete(call_id)
