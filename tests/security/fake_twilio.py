"""A tiny stand-in for Twilio's REST API (IncomingPhoneNumbers only), served on a loopback port.

It speaks the same wire format as api.twilio.com: Basic auth with the account SID and auth token,
form-encoded updates with CamelCase names, snake_case JSON answers, Twilio-style error bodies.
Every request is recorded so tests can check exactly what the client sent.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "f" * 32

# CamelCase form names of the update call -> snake_case resource fields.
UPDATABLE = {
    "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid", "FriendlyName": "friendly_name",
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    form: dict
    auth: tuple[str, str] | None


@dataclass
class FakeTwilio:
    numbers: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    url: str = ""

    def add_number(self, phone_number: str, **fields) -> dict:
        sid = "PN" + f"{len(self.numbers) + 1:032x}"
        record = {
            "sid": sid, "account_sid": self.account_sid, "phone_number": phone_number,
            "friendly_name": fields.pop("friendly_name", phone_number), "voice_url": "",
            "voice_method": "POST", "voice_fallback_url": None, "voice_fallback_method": "POST",
            "status_callback": "", "status_callback_method": "POST", "voice_application_sid": None,
            "trunk_sid": None, "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
        }
        record.update(fields)
        self.numbers[sid] = record
        return record

    @property
    def updates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):   # quiet
            pass

        def _auth(self):
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user, password

        def _send(self, status: int, payload: dict):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: int, message: str):
            self._send(status, {"code": code, "message": message, "status": status,
                                "more_info": f"https://www.twilio.com/docs/errors/{code}"})

        def _handle(self, method: str):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            auth = self._auth()
            fake.requests.append(Recorded(method, parts.path, query, form, auth))
            if auth != (fake.account_sid, fake.auth_token):
                return self._error(401, 20003, "Authenticate")
            base = f"/2010-04-01/Accounts/{fake.account_sid}/IncomingPhoneNumbers"
            if method == "GET" and parts.path == base + ".json":
                wanted = query.get("PhoneNumber", "")
                found = [n for n in fake.numbers.values() if wanted in n["phone_number"]]
                size = int(query.get("PageSize", 50))
                return self._send(200, {
                    "incoming_phone_numbers": found[:size], "page": 0, "page_size": size, "start": 0,
                    "end": max(len(found[:size]) - 1, 0), "first_page_uri": parts.path,
                    "next_page_uri": None, "previous_page_uri": None, "uri": self.path})
            match = re.fullmatch(re.escape(base) + r"/(PN[0-9a-f]{32})\.json", parts.path)
            if match and match.group(1) in fake.numbers:
                number = fake.numbers[match.group(1)]
                if method == "POST":
                    for name, value in form.items():
                        if name not in UPDATABLE:
                            return self._error(400, 20001, f"Unknown parameter {name}")
                        number[UPDATABLE[name]] = value or None
                return self._send(200, number)
            return self._error(404, 20404, f"The requested resource {parts.path} was not found")

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

    return Handler


class FakeTwilioServer:
    def __init__(self):
        self.fake = FakeTwilio()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.fake.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
