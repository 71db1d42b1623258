"""The fixed dates a date bomb shows itself on, and libfaketime to run tests at them.

A test or a demo that depends on the day it runs on passes the day it is written and fails weeks
later. The suite therefore runs the time-sensitive tests again at moments where calendars are
awkward (`tests/test_dates.py`) and the demo at each of them (`tests/integration/test_demo.py`).
The moments sit late in their day on the calendar of Europe/Amsterdam, the zone of the demo's
SLAs, so one run never straddles the boundary it is meant to test.

libfaketime (Debian's package `faketime`) shifts the wall clock of a process and of everything it
starts by one offset, so processes still agree with each other (a fixed start time per process
would not) and the monotonic clock is left alone (`FAKETIME_DONT_FAKE_MONOTONIC`), without which
every timed wait on a lock hangs; `tests/faketime/sitecustomize.py` works around the one call
that setting breaks (`time.sleep`).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

FIXED_DATES: dict[str, datetime] = {
    # 31 January, 23:30 in Amsterdam: the last hour of a month.
    "month-end": datetime(2027, 1, 31, 22, 30, tzinfo=UTC),
    # 31 December, 23:30 in Amsterdam: the last hour of a year.
    "year-end": datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
    # 28 March 2027, 01:30 CET: half an hour before Amsterdam moves to summer time, in a month
    # one hour shorter than its days say.
    "dst-change": datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
    # 29 February 2028, midday.
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
}

SITE = Path(__file__).with_name("faketime")
_LIBRARY_GLOBS = ("/usr/lib/*/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1")


def faketime_library() -> Path | None:
    """libfaketime's multi-threaded build, where Debian's package puts it; None if absent."""
    for pattern in _LIBRARY_GLOBS:
        found = sorted(Path("/").glob(pattern.lstrip("/")))
        if found:
            return found[0]
    return None


def faketime_env(library: Path, moment: datetime) -> dict[str, str]:
    """The environment that runs a process (and its children) with the wall clock at `moment`
    now, running on from there."""
    offset = round(moment.timestamp() - time.time())
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "LD_PRELOAD": str(library),
        "FAKETIME": f"{offset:+d}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_NO_CACHE": "1",
    }
