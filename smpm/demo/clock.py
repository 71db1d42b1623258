"""The demo's own clock: its story happens at a moment of its choosing, not at today's date.

Every part of the demo (the sandbox ITSM, the procedures' `now`, the webhook service, the
signatures of the events it posts, the executor's audit times, the reports) reads this one
clock. It starts at `start` and runs on at the pace of the machine's monotonic clock, so the
demo shows the same story whichever day it is run; `smpm demo --at` starts it elsewhere (the
tests run the story at a year end, at the end of a leap February and across a DST change). The
history part moves it back to register past outages at their own times and then returns it to
the story's present.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

# The moment the demo's story is set at unless `--at` says otherwise: a Thursday morning late
# in a month, with the previous month's history complete.
DEFAULT_START = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


class DemoClock:
    """A clock that starts at `start` and runs in real time from there; `set` moves it."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("the demo's start needs a time zone")
        self.start = start.astimezone(UTC)
        self._origin = time.monotonic()
        self._away: timedelta | None = None  # set: where the clock was moved to, minus elapsed

    def _elapsed(self) -> timedelta:
        return timedelta(seconds=time.monotonic() - self._origin)

    def now(self) -> datetime:
        """The demo's current moment (an aware UTC datetime)."""
        base = self.start if self._away is None else self.start + self._away
        return base + self._elapsed()

    def __call__(self) -> float:
        """Seconds since the epoch, as the sandbox ITSM reads its clock."""
        return self.now().timestamp()

    def set(self, moment: datetime | None) -> None:
        """Move the clock to `moment` (it runs on from there); None: back to the present."""
        self._away = None if moment is None else moment - self.start - self._elapsed()
