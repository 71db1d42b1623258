"""The time-sensitive tests pass at every fixed date of `tests/dates.py`, not only today.

Each date runs the procedure, runtime and integration tests in a pytest of its own with the
wall clock shifted to that date (for that process and every Python process it starts), so the
tests, the sandbox ITSM and `smpm` itself see it. Left out: the demo, which runs on a clock of
its own and tells its story at each of these dates in `tests/integration/test_demo.py`, and
the tests marked `timeless`, whose outcome cannot depend on the date (durability under crashes,
outages and load; input validation).

The runs start in the background as soon as collection is done (`tests/conftest.py`), one after
another, so they use the core the rest of the suite leaves idle; each test here waits for its
date's run and shows its failures.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

import pytest

from tests.dates import FIXED_DATES, shifted_env

ROOT = Path(__file__).resolve().parent.parent
TIME_SENSITIVE = ["tests/procedures", "tests/smpm", "tests/integration"]
LEFT_OUT = ["--deselect", "tests/integration/test_demo.py", "-m", "not dates and not timeless"]
TIMEOUT = 900

pytestmark = pytest.mark.dates

_runs: dict[str, Future[subprocess.CompletedProcess[str]]] = {}
_processes: list[subprocess.Popen[str]] = []


def _run_at(moment: datetime, basetemp: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", *TIME_SENSITIVE, *LEFT_OUT, "-q"]
    command += ["-p", "no:cacheprovider", "--basetemp", str(basetemp)]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=shifted_env(moment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        _processes.append(process)
        try:
            out, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
            out += f"\n(stopped after {TIMEOUT} s)"
        return subprocess.CompletedProcess(command, process.returncode, out, "")


def start(names: list[str], basetemp: Path) -> None:
    """Run the named dates one after another in a background thread."""
    futures = {name: Future() for name in names if name not in _runs}
    _runs.update(futures)

    def work() -> None:
        for name, future in futures.items():
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(_run_at(FIXED_DATES[name], basetemp / name))
                except BaseException as exc:  # the test that waits reports it
                    future.set_exception(exc)

    threading.Thread(target=work, name="fixed-date-runs", daemon=True).start()


def stop() -> None:
    """At the end of the session: cancel what has not started and kill what runs."""
    for future in _runs.values():
        future.cancel()
    for process in _processes:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("name", FIXED_DATES.keys())
def test_the_time_sensitive_tests_pass_at_a_fixed_date(name: str) -> None:
    """A test whose outcome depends on the date it runs on fails here on the day it is
    written: at a month and year end, at the end of a leap February or at a DST change."""
    done = _runs[name].result()
    tail = "\n".join(done.stdout.splitlines()[-60:])
    assert done.returncode == 0, f"at {FIXED_DATES[name]:%Y-%m-%d %H:%M} UTC:\n{tail}"
    assert " passed" in tail
