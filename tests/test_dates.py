"""The time-sensitive tests pass at every fixed date of `tests/dates.py`, not only today.

Each date runs the procedure, runtime and integration tests in a pytest of their own under
libfaketime, so the tests, the sandbox ITSM and every process they start see that date. The
demo is left out here: it runs on a clock of its own, and `tests/integration/test_demo.py`
tells its story at each of these dates directly.

Without libfaketime the check is skipped, unless SMPM_REQUIRE_FAKETIME=1 (set by `.ci/run`,
which installs Debian's `faketime` package when it is missing), so CI never passes unchecked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.dates import FIXED_DATES, faketime_env, faketime_library

ROOT = Path(__file__).resolve().parent.parent
TIME_SENSITIVE = ["tests/procedures", "tests/smpm", "tests/integration"]
NOT_HERE = ["--deselect", "tests/integration/test_demo.py"]
AT_ONCE = 2  # runs side by side: each spends much of its time waiting on sockets and leases

pytestmark = pytest.mark.dates


def _library() -> Path:
    library = faketime_library()
    if library is None:
        message = "libfaketime not found (Debian: apt-get install faketime)"
        if os.environ.get("SMPM_REQUIRE_FAKETIME") == "1":
            pytest.fail(f"{message}; SMPM_REQUIRE_FAKETIME=1 needs it")
        pytest.skip(message)
    return library


def _run_at(library: Path, moment: datetime, basetemp: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", *TIME_SENSITIVE, *NOT_HERE, "-q"]
    command += ["-p", "no:cacheprovider", "-m", "not dates", "--basetemp", str(basetemp)]
    return subprocess.run(
        command,
        cwd=ROOT,
        env=faketime_env(library, moment),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Any]]]:
    """The run of every fixed date selected (`-k`), AT_ONCE at a time, started when the first
    test asks."""
    library = _library()
    test = test_the_time_sensitive_tests_pass_at_a_fixed_date.__name__
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", None) == test
    ]
    with ThreadPoolExecutor(max_workers=AT_ONCE, thread_name_prefix="fixed-date") as pool:
        yield {
            name: pool.submit(_run_at, library, FIXED_DATES[name], tmp_path_factory.mktemp(name))
            for name in selected
        }


@pytest.mark.parametrize("name", FIXED_DATES.keys())
def test_the_time_sensitive_tests_pass_at_a_fixed_date(
    name: str, runs: dict[str, Future[subprocess.CompletedProcess[str]]]
) -> None:
    """A test whose outcome depends on the date it runs on fails here on the day it is
    written, at a month end, a year end, a DST change or on 29 February."""
    done = runs[name].result()
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
    assert done.returncode == 0, f"at {FIXED_DATES[name]:%Y-%m-%d %H:%M} UTC:\n{tail}"
    assert " passed" in tail
