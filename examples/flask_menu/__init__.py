"""A tiny Flask TwiML app of its own, tested with the local phone (README.md here)."""
