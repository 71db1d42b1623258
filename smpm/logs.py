"""Logging set-up: plain or JSON lines on stderr; secrets are kept out by construction.

Connectors never pass headers, bodies or credentials to the logger (see connector.http); the
JSON formatter adds the fields a log shipper needs and nothing from the environment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("event_id", "procedure", "record"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str = "INFO", json_format: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 logs full request lines at DEBUG; keep it at WARNING unless asked for explicitly.
    logging.getLogger("urllib3").setLevel(logging.WARNING)


@dataclass
class _Seen:
    since: float  # start of the current interval (monotonic)
    until: float  # its end
    count: int = 0  # occurrences since the last line
    last: tuple[str, tuple[object, ...]] = ("", ())
    timer: asyncio.TimerHandle | None = None


class Throttle:
    """Says a recurring condition once, then at most once per interval with how often it recurred.

    For conditions a flood can raise thousands of times a second (accept() out of file
    descriptors, the connection limit reached, slow clients cut off, malformed requests): the
    first occurrence is logged at once; later ones within the interval are only counted, and the
    count is logged when the interval ends (the newest occurrence's text, "N more in the last
    60 s"). A flood costs one line per interval instead of a line, or a traceback, per
    occurrence. Called from the event loop's thread: the end-of-interval line is scheduled on
    the running loop; without one it is written at the next occurrence after the interval.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float,
        *,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.interval, self.level, self._clock = logger, interval, level, clock
        self._seen: dict[str, _Seen] = {}

    def note(self, key: str, message: str, *args: object) -> None:
        now = self._clock()
        seen = self._seen.get(key)
        if seen is None or (seen.count == 0 and now >= seen.until):
            self.logger.log(self.level, message, *args)
            self._seen[key] = _Seen(now, now + self.interval)
            return
        seen.count += 1
        seen.last = (message, args)
        if now >= seen.until:
            self._summarise(key)
        elif seen.timer is None:
            seen.timer = _later(seen.until - now, self._summarise, key)

    def _summarise(self, key: str) -> None:
        seen = self._seen[key]
        seen.timer = None
        now = self._clock()
        if seen.count:
            message, args = seen.last
            self.logger.log(
                self.level,
                "%s (%d more in the last %.3g s)",
                message % args if args else message,
                seen.count,
                now - seen.since,
            )
        seen.count, seen.since, seen.until = 0, now, now + self.interval

    def close(self) -> None:
        """Write what is still counted (at shutdown) and cancel the scheduled lines."""
        for key, seen in list(self._seen.items()):
            if seen.timer is not None:
                seen.timer.cancel()
            self._summarise(key)


def _later(delay: float, callback: Callable[[str], None], key: str) -> asyncio.TimerHandle | None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop.call_later(delay, callback, key)


class ThrottleFilter(logging.Filter):
    """Routes a logger's records whose message is one of `messages` through a Throttle.

    uvicorn logs "Invalid HTTP request received." for every malformed request; a client that
    sends nothing else would otherwise write a line per request.
    """

    def __init__(self, throttle: Throttle, messages: Collection[str]) -> None:
        super().__init__()
        self.throttle, self.messages = throttle, frozenset(messages)

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or record.msg not in self.messages:
            return True
        self.throttle.note(record.msg, "%s", record.getMessage())
        return False
