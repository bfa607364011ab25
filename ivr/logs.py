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
        return self._time_text(record.created, record.msecs)

    def _time_text(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(created))
            self._second = second
        return self.default_msec_format % (self._text, msecs)


class JsonFormatter(_SecondCache, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = self._data(self.formatTime(record), record.levelname, record.getMessage(),
                          getattr(record, "fields", {}))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(data, ensure_ascii=False)

    @staticmethod
    def _data(when: str, level: str, message: str, fields: dict) -> dict:
        data = {"time": when, "level": level, "msg": message}
        data.update(fields)
        return data

    def line(self, created: float, msecs: float, level: str, message: str, fields: dict) -> str:
        """``format`` of a record without exc_info that carries these values."""
        return json.dumps(self._data(self._time_text(created, msecs), level, message, fields), ensure_ascii=False)


class TextFormatter(_SecondCache, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = self._text_line(self.formatTime(record), record.levelname, record.getMessage(),
                               getattr(record, "fields", {}))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

    @staticmethod
    def _text_line(when: str, level: str, message: str, fields: dict) -> str:
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{when} {level} {message} {extra}".rstrip()

    def line(self, created: float, msecs: float, level: str, message: str, fields: dict) -> str:
        """``format`` of a record without exc_info that carries these values."""
        return self._text_line(self._time_text(created, msecs), level, message, fields)


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


def _only_handler(level: int):
    """The hotline's own handler when a record of ``level`` would reach it and nothing else: the
    ``ivr`` logger enabled for it, that handler its only one, no filter anywhere, no handler on
    the root logger (pytest's caplog, an application's logging.basicConfig) and the line one of
    ``ivr.logs``' formatters. Otherwise None: logging's own way."""
    handlers = _logger.handlers
    if len(handlers) != 1 or _logger.filters or not _logger.isEnabledFor(level):
        return None
    handler = handlers[0]
    if not getattr(handler, "_ivr", False) or handler.filters or level < handler.level \
            or (_logger.propagate and logging.root.handlers) or type(handler) is not logging.StreamHandler \
            or type(handler.formatter) not in (TextFormatter, JsonFormatter):
        return None
    return handler


def log_webhook(level: int, message: str, **fields) -> None:
    """One line: ``message`` and ``fields`` (key=value, or JSON members).

    When the hotline's own handler is the only place the line goes (as ``ivr serve`` runs), the
    line is formatted and written by it directly, without a LogRecord: the same text logging
    would write, at about a tenth of a webhook's cost less (docs/hotpath.md, round 5). Any other
    configuration (another handler, a filter, a level) goes through logging as before."""
    handler = _only_handler(level)
    if handler is not None:
        created = time.time()
        line = handler.formatter.line(created, int((created - int(created)) * 1000) + 0.0,
                                      logging.getLevelName(level), message, fields)
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
            return
        except Exception:   # a broken stream: logging's own handling (handleError) below
            pass
        finally:
            handler.release()
    _logger.log(level, message, extra={"fields": fields})
