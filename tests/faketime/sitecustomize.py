"""Loaded by every Python process of a fixed-date run: `tests/test_dates.py` puts this folder
first on PYTHONPATH next to libfaketime.

libfaketime 0.9.10 (Debian 12's package) answers EINVAL to the absolute CLOCK_MONOTONIC
clock_nanosleep that `time.sleep` uses once FAKETIME_DONT_FAKE_MONOTONIC is set (and without
that setting, every timed wait on a lock or condition hangs). A timed wait on an Event sleeps
just as long through pthread_cond_timedwait, which it handles, so `time.sleep` becomes one.
"""

from __future__ import annotations

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
