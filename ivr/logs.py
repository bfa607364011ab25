"""Logging: one line per webhook, as text or JSON lines (IVR_LOG_FORMAT=json).

Nothing logged here may carry an ID number or a PIN: callers' numbers are masked and the keys of
sensitive entries never reach the log.
"""
from __future__ import annotations

import json
import logging
import sys
import time

LOGGER = "ivr"
_logger = logging.getLogger(LOGGER)


class _SecondCache:
    """``formatTime`` with the default format, its strftime done once per second (one line per
    webhook made it a visible share of a webhook's cost)."""

    _second = None
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return self.default_msec_format % (self._text, record.msecs)


class JsonFormatter(_SecondCache, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname, "msg": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(_SecondCache, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {extra}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(app) -> None:
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    fmt = JsonFormatter() if app.config.get("LOG_FORMAT") == "json" else TextFormatter()
    if not any(getattr(h, "_ivr", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._ivr = True
        logger.addHandler(handler)
        logger.propagate = True
    for h in logger.handlers:
        if getattr(h, "_ivr", False):
            h.setFormatter(fmt)


def log_webhook(level: int, message: str, **fields) -> None:
    _logger.log(level, message, extra={"fields": fields})
