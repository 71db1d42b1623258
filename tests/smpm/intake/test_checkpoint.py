"""WAL checkpoints of the webhook service's SQLite store run beside the commits, not in them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from smpm.intake.checkpoint import Checkpointer
from smpm.intake.service import running
from smpm.settings import load_settings
from smpm.store import open_engine


def test_the_service_leaves_checkpoints_to_its_own_thread(tmp_path: Path) -> None:
    """'The service turns the automatic checkpoint off on its own connections'."""
    settings = load_settings(None, database={"url": f"sqlite:///{tmp_path / 'state.db'}"})
    with running(settings, workers=0) as service, service.engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    with open_engine(settings.database.url).connect() as conn:  # other commands keep SQLite's
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000


def test_a_checkpoint_copies_the_log_back_and_the_log_starts_over(tmp_path: Path) -> None:
    """'copies what no reader still needs ... the first commit after a complete checkpoint
    starts the log over, so it stays small'."""
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}", autocheckpoint=False)
    checkpointer = Checkpointer(engine, interval=3600)  # rounds by hand below
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE filler (v TEXT)"))
        for _ in range(20):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO filler VALUES (:v)"), [{"v": "x" * 2000}] * 50)
        busy, logged, copied = checkpointer.checkpoint()
        assert busy == 0 and logged > 100 and copied == logged
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler VALUES ('one more')"))
        assert checkpointer.checkpoint()[1] < 10  # the log started over
    finally:
        checkpointer.close()
        engine.dispose()
