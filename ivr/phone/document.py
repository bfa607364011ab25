"""A fetched answer turned into the verbs the phone will run, as Twilio reads it."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ivr.phone import errors, schema
from ivr.phone.fetcher import Fetched


@dataclass
class Document:
    url: str  # relative URLs resolve against it; a Gather without action posts back to it
    verbs: list[ET.Element]
    warnings: list[str] = field(default_factory=list)
    sensitive: bool = False  # the app marked its <Gather> input secret (SENSITIVE_HEADER)


# An app's way to say "what the caller types here is secret" (an ID number, a password), for
# transcripts to mask; Twilio ignores response headers, so the TwiML stays as Twilio reads it.
SENSITIVE_HEADER = "X-IVR-Sensitive-Input"


def _charset(fetched: Fetched) -> str:
    for part in (fetched.headers.get("Content-Type") or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def parse(fetched: Fetched) -> Document:
    """TwiML as written; ``text/plain`` is read aloud and audio played, then Twilio hangs up."""
    if fetched.kind == "text":
        text = fetched.body.decode(_charset(fetched), errors="replace")
        say = ET.Element("Say", {"language": "en-US"})
        say.text = text
        return Document(fetched.url, [say, ET.Element("Hangup")])
    if fetched.kind == "audio":
        play = ET.Element("Play")
        play.text = fetched.url
        return Document(fetched.url, [play, ET.Element("Hangup")])
    verbs, warnings = _read(fetched.body, fetched.url)
    sensitive = bool((fetched.headers.get(SENSITIVE_HEADER) or "").strip()) if fetched.headers else False
    return Document(fetched.url, list(verbs), list(warnings), sensitive)


# Documents already read, by their bytes. An app answers the same TwiML again and again (the
# hotline memoizes its own), and parsing and checking it again was a sixth of the phone's work per
# webhook (issue 17). Nothing changes an element after it is read (verbs only look at them), so
# documents with the same bytes share their elements. Failures are not remembered.
_READ: dict[bytes, tuple[tuple[ET.Element, ...], tuple[str, ...]]] = {}
_READ_MAX = 256


def _read(body: bytes, url: str) -> tuple[tuple[ET.Element, ...], tuple[str, ...]]:
    made = _READ.get(body)
    if made is not None:
        return made
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise errors.FetchError(errors.DOCUMENT_PARSE_FAILURE, f"document parse failure: {exc}", url) from None
    if root.tag != "Response":
        raise errors.FetchError(errors.DOCUMENT_PARSE_FAILURE, f"root element is <{root.tag}>, not <Response>", url)
    warnings = [problem for verb in root for problem in schema.problems(verb)]
    warnings += [f"<Response> has no attribute {schema.attribute_name(a)!r}" for a in root.attrib]
    if len(_READ) >= _READ_MAX:
        _READ.clear()
    made = _READ[body] = (tuple(root), tuple(warnings))
    return made
