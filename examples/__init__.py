"""Examples of TwiML apps tested with the local phone (docs/phone.md)."""
