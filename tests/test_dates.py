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
from datetime import datetime
from pathlib import Path

import pytest

from tests.dates import FIXED_DATES, faketime_env, faketime_library

ROOT = Path(__file__).resolve().parent.parent
TIME_SENSITIVE = ["tests/procedures", "tests/smpm", "tests/integration"]
NOT_HERE = ["--deselect", "tests/integration/test_demo.py"]

pytestmark = pytest.mark.dates


def _library() -> Path:
    library = faketime_library()
    if library is None:
        message = "libfaketime not found (Debian: apt-get install faketime)"
        if os.environ.get("SMPM_REQUIRE_FAKETIME") == "1":
            pytest.fail(f"{message}; SMPM_REQUIRE_FAKETIME=1 needs it")
        pytest.skip(message)
    return library


@pytest.mark.parametrize("moment", FIXED_DATES.values(), ids=FIXED_DATES.keys())
def test_the_time_sensitive_tests_pass_at_a_fixed_date(moment: datetime, tmp_path: Path) -> None:
    """A test whose outcome depends on the date it runs on fails here on the day it is
    written, at a month end, a year end, a DST change or on 29 February."""
    command = [sys.executable, "-m", "pytest", *TIME_SENSITIVE, *NOT_HERE]
    command += ["-q", "-p", "no:cacheprovider", "-m", "not dates", "--basetemp", str(tmp_path)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=faketime_env(_library(), moment),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
    assert done.returncode == 0, f"at {moment:%Y-%m-%d %H:%M} UTC:\n{tail}"
    assert " passed" in tail
