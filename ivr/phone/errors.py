"""Twilio's error codes as the phone reports them, and the phone's own exceptions."""
from __future__ import annotations

# Codes Twilio's debugger shows for the failures the phone reproduces (reference §2.12).
HTTP_RETRIEVAL_FAILURE = 11200  # non-2xx answer, or any other failed fetch
HTTP_CONNECTION_FAILURE = 11205  # no answer within the timeout, connection refused
HTTP_BAD_HOST = 11210  # host name does not resolve / not served in-process
HTTP_TOO_MANY_REDIRECTS = 11215
HTTP_BAD_REDIRECT = 11216  # a 3xx other than 301/302/303/307, or no Location
INVALID_URL = 11100
RESPONSE_TOO_BIG = 11750  # TwiML body over 64 KB
DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_WARNING = 12200  # unknown verb/attribute, bad nesting: a warning, execution carries on
INVALID_CONTENT_TYPE = 12300
GATHER_BAD_FINISH_ON_KEY = 13310
GATHER_BAD_ACTION_ON_EMPTY = 13338
# The phone's own warning (no Twilio debugger code: Twilio just does not listen): the caller spoke
# to a <Gather> whose input does not include speech.
SPEECH_NOT_ACCEPTED = 0

# What Twilio's voice says when the app fails and no fallback URL rescues the call.
APPLICATION_ERROR_TEXT = "An application error has occurred. Goodbye."


class FetchError(Exception):
    """A webhook fetch failed the way Twilio would report it."""

    def __init__(self, code: int, message: str, url: str):
        super().__init__(f"{code}: {message} ({url})")
        self.code = code
        self.message = message
        self.url = url


class TransportError(Exception):
    """The transport could not get any HTTP answer (connection, timeout, host)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PhoneError(Exception):
    """Misuse of the phone (bad keys, unknown option)."""


class ResumeError(PhoneError):
    """A call cannot be exported for resuming (``Call.resume_point``), or resumed from what was given."""


class CallEnded(AssertionError):
    """The call ended while the caller still wanted to do something."""


class ExpectationFailed(AssertionError):
    """What the caller heard did not match the expectation; the message carries the transcript."""
