"""Loaded by every Python process of a fixed-date run (`tests/dates.py` puts this folder first on
PYTHONPATH and the shift in SMPM_TEST_CLOCK_SHIFT): the pytest session and every `python -m smpm`
it starts see the wall clock moved by the same number of seconds, running on from there.

time-machine patches the standard library's wall-clock functions (time.time, datetime.now,
date.today, ...) and leaves the monotonic clock alone, so timeouts, sleeps and event loops keep
real time. Every process computes its destination from the same shift, so they agree.
"""

from __future__ import annotations

import os

_shift = os.environ.get("SMPM_TEST_CLOCK_SHIFT")
if _shift:
    import time

    import time_machine

    _traveller = time_machine.travel(time.time() + float(_shift), tick=True)
    _traveller.start()
