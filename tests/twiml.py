"""Test helpers: post Twilio-shaped webhooks with Flask's test client and read the TwiML back."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass
class Doc:
    """A parsed TwiML response."""
    root: ET.Element
    xml: str

    @property
    def verbs(self) -> list[str]:
        return [el.tag for el in self.root]

    def find(self, path: str) -> ET.Element | None:
        return self.root.find(path)

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def speech(self) -> list[tuple[str, str]]:
        """(language, text) of every <Say>, nested ones included, in order."""
        return [(el.get("language", ""), el.text or "") for el in self.root.iter("Say")]

    @property
    def heard(self) -> str:
        return " ".join(text for _, text in self.speech)

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None


def parse(response) -> Doc:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/xml", response.mimetype
    text = response.get_data(as_text=True)
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return Doc(root, text)


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


@dataclass
class Caller:
    """A scripted caller that follows the hotline's TwiML the way Twilio would."""
    client: object
    sid: str = field(default_factory=new_sid)
    number: str = "+8613800138000"
    doc: Doc | None = None
    history: list[Doc] = field(default_factory=list)

    def post(self, path: str, **extra) -> Doc:
        data = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number,
                "To": "+8612333", "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01", **extra}
        self.doc = parse(self.client.post(path, data=data))
        self.history.append(self.doc)
        return self.doc

    def dial(self) -> Doc:
        return self.post("/voice", CallStatus="ringing")

    def press(self, digits: str) -> Doc:
        gather = self.doc.gather
        assert gather is not None, f"no <Gather> to answer in {self.doc.xml}"
        return self.post(gather.get("action"), Digits=digits, msg="Gather End")

    def say(self, words: str, confidence: float | str = 0.92) -> Doc:
        """Speak to the Gather as Twilio posts it: SpeechResult and Confidence, Digits empty."""
        gather = self.doc.gather
        assert gather is not None, f"no <Gather> to answer in {self.doc.xml}"
        return self.post(gather.get("action"), SpeechResult=words, Confidence=str(confidence), msg="Gather End")

    def silence(self) -> Doc:
        redirect = self.doc.find("Redirect")
        assert redirect is not None, f"nothing follows the Gather in {self.doc.xml}"
        return self.post(redirect.text)

    def keys(self, *presses: str) -> Doc:
        """Answer Gathers in turn ("_" is silence); dials first when the call has not started."""
        if self.doc is None:
            self.dial()
        for p in presses:
            self.silence() if p == "_" else self.press(p)
        return self.doc
