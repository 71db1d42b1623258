"""The fixed dates a date bomb shows itself on, and how to run tests at them.

A test or a demo that depends on the day it runs on passes the day it is written and fails weeks
later. The suite therefore runs the time-sensitive tests again at moments where calendars are
awkward (`tests/test_dates.py`) and the demo at each of them (`tests/integration/test_demo.py`).
Each moment sits late in its day on the calendar of Europe/Amsterdam, the zone of the demo's
SLAs, so one run never straddles the boundary it is meant to test; together they hold a month
end, a year end, the end of a leap February and a DST change.

A fixed-date run is a pytest process whose wall clock, and that of every Python process it
starts, is shifted by one offset (`tests/travel/sitecustomize.py`, with time-machine), so the
processes agree with each other and the monotonic clock keeps real time. libfaketime does the
same for every program, but Debian's 0.9.10 breaks `time.sleep` or hangs timed waits (whether or
not it fakes the monotonic clock) and slowed the tests about threefold.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

FIXED_DATES: dict[str, datetime] = {
    # 31 December, 23:30 in Amsterdam: the last hour of a month and of a year.
    "year-end": datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
    # 29 February 2028, 23:30 in Amsterdam: the last hour of a leap February.
    "leap-day": datetime(2028, 2, 29, 22, 30, tzinfo=UTC),
    # 28 March 2027, 01:30 CET: half an hour before Amsterdam moves to summer time, in a month
    # one hour shorter than its days say.
    "dst-change": datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
}

TRAVEL = Path(__file__).with_name("travel")


def shifted_env(moment: datetime) -> dict[str, str]:
    """The environment that runs Python processes with the wall clock at `moment` now,
    running on from there."""
    path = os.pathsep.join(p for p in (str(TRAVEL), os.environ.get("PYTHONPATH")) if p)
    shift = moment.timestamp() - time.time()
    return {**os.environ, "PYTHONPATH": path, "SMPM_TEST_CLOCK_SHIFT": f"{shift:.3f}"}
