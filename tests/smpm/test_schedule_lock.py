"""One active scheduler per SQLite *file*, however the settings spell its path.

The lock's promise (smpm/schedule/lock.py): "an exclusive flock on <database file>.scheduler.lock
... a second scheduler refuses to start". Two spellings of one file (a symlink, a relative path,
a `..` through a linked folder) must meet on one lock, or both schedulers run every period. Each
test holds the lock in a real second process: a flock is per open file, so a second holder in
the same process would prove less than two processes do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smpm.schedule.lock import FileLock, scheduler_lock
from smpm.schedule.runner import RunResult, ScheduledJob
from smpm.schedule.service import Scheduler
from smpm.settings import Settings, load_settings
from smpm.store import open_engine

NEVER = "0 0 1 1 *"  # New Year's midnight: never fires while a test runs

# A second process that takes the lock through its own URL, says so, and holds it until its
# standard input closes (the kernel releases a flock when its holder ends).
HOLDER = """
import sys
from smpm.schedule.lock import scheduler_lock
from smpm.store import open_engine
lock = scheduler_lock(open_engine(sys.argv[1]), "holder-process")
print("held" if lock.acquire() else "busy", flush=True)
sys.stdin.read()
"""


def environment() -> dict[str, str]:
    """This environment without SMPM_* variables, which would change the child's settings."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("SMPM_")}


@contextmanager
def held_in_another_process(url: str, cwd: Path) -> Iterator[None]:
    """The scheduler lock of `url`, held by a child process for the length of the block."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        yield
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


@dataclass(frozen=True)
class Spelling:
    """Two URLs for one database file, and the folder both are read from."""

    holder: str
    second: str
    cwd: Path


def symlinked_file(tmp: Path) -> Spelling:
    (tmp / "data").mkdir()
    (tmp / "link.db").symlink_to(tmp / "data" / "state.db")
    return Spelling(f"sqlite:///{tmp / 'data' / 'state.db'}", f"sqlite:///{tmp / 'link.db'}", tmp)


def relative_path(tmp: Path) -> Spelling:
    return Spelling(f"sqlite:///{tmp / 'state.db'}", "sqlite:///state.db", tmp)


def dotdot_through_a_linked_folder(tmp: Path) -> Spelling:
    """`linked/..` is the parent of the folder `linked` points at, not `tmp`."""
    (tmp / "srv" / "smpm").mkdir(parents=True)
    (tmp / "linked").symlink_to(tmp / "srv" / "smpm", target_is_directory=True)
    real = f"sqlite:///{tmp / 'srv' / 'state.db'}"
    return Spelling(real, f"sqlite:///{tmp / 'linked' / '..' / 'state.db'}", tmp)


def relative_dotdot(tmp: Path) -> Spelling:
    (tmp / "run").mkdir()
    return Spelling(f"sqlite:///{tmp / 'state.db'}", "sqlite:///../state.db", tmp / "run")


SPELLINGS: list[Callable[[Path], Spelling]] = [
    symlinked_file,
    relative_path,
    dotdot_through_a_linked_folder,
    relative_dotdot,
]


@pytest.mark.parametrize("spell", SPELLINGS, ids=lambda f: f.__name__.replace("_", " "))
def test_a_lock_held_by_another_process_is_seen_through_another_spelling(
    tmp_path: Path, spell: Callable[[Path], Spelling], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "A second scheduler refuses to start and names the holder", whichever path it was given;
    once the holder ends, the lock is free on every spelling."""
    spelling = spell(tmp_path)
    monkeypatch.chdir(spelling.cwd)
    with held_in_another_process(spelling.holder, spelling.cwd):
        lock = scheduler_lock(open_engine(spelling.second), "second")
        assert lock.acquire() is False
        assert lock.holder().startswith("holder-process since ")
    assert lock.acquire() is True
    lock.release()


def test_the_lock_file_lies_beside_the_resolved_database_file(tmp_path: Path) -> None:
    """The lock is named for the file SQLite opens, not for the link that points at it."""
    spelling = symlinked_file(tmp_path)
    lock = scheduler_lock(open_engine(spelling.second), "owner")
    assert isinstance(lock, FileLock)
    assert lock.path == tmp_path / "data" / "state.db.scheduler.lock"


class NothingRuns:
    def __call__(
        self, settings: Settings, job: ScheduledJob, fire_time: Any, now: Any
    ) -> RunResult:
        raise AssertionError("no period fires in this test")


def test_a_second_smpm_schedule_through_a_symlink_refuses_to_start(tmp_path: Path) -> None:
    """A real second `python -m smpm schedule`, given the database through a symlink, ends at
    once with the one-line refusal instead of becoming a second active scheduler."""
    spelling = symlinked_file(tmp_path)
    job = {"procedure": "incident.tracking", "cron": NEVER}
    active = Scheduler(
        load_settings(None, database={"url": spelling.holder}, schedule={"jobs": [job]}),
        execute=NothingRuns(),
    )
    assert active.start()
    config = tmp_path / "smpm.toml"
    config.write_text(
        f'[database]\nurl = "{spelling.second}"\n'
        f'[[schedule.jobs]]\nprocedure = "incident.tracking"\ncron = "{NEVER}"\n',
        encoding="utf-8",
    )
    try:
        second = subprocess.run(
            [sys.executable, "-m", "smpm", "--config", str(config), "schedule"],
            check=False,
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,  # a second active scheduler would run until killed
        )
    finally:
        active.stop()
    assert second.returncode == 1, second.stdout
    [line] = second.stderr.strip().splitlines()
    assert line.startswith(
        f"Error: another smpm scheduler is active on this database ({active.owner} since "
    )
    assert line.endswith("stop it first (with PostgreSQL, a second scheduler stands by instead)")
    assert "Traceback" not in second.stderr
