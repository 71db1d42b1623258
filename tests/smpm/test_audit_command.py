"""`smpm audit --since`: the audit log from a moment on, given as a date or an RFC 3339 time."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from connector.testing import at
from smpm.cli import main
from smpm.store import audit, open_engine

# (audit row id, when it was recorded, on what record)
ROWS = (
    (1, "2026-11-24 23:30", "INC1"),
    (2, "2026-11-25 08:30", "INC2"),
    (3, "2026-11-25 09:30", "INC3"),
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A settings file whose state store holds three audit rows around 2026-11-25."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = open_engine(url)
    with engine.begin() as conn:
        for n, when, record in ROWS:
            conn.execute(
                insert(audit).values(
                    id=n,
                    at=at(when),
                    run_id="r",
                    procedure="incident.tracking",
                    trigger="manual",
                    step=f"s{n}",
                    action="update",
                    target_kind="incident",
                    target_id=record,
                    fields={},
                    reason="Incident Management P3: rule",
                    outcome="applied",
                )
            )
    engine.dispose()
    path = tmp_path / "smpm.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("since", "records"),
    [
        pytest.param("2026-11-25", {"INC2", "INC3"}, id="a date means 00:00 UTC"),
        pytest.param("2026-11-25T09:00:00Z", {"INC3"}, id="an RFC 3339 time in UTC"),
        pytest.param("2026-11-25T09:00:00+01:00", {"INC2", "INC3"}, id="a time with an offset"),
        pytest.param("2026-11-25 09:00Z", {"INC3"}, id="a space for the T, minutes only"),
    ],
)
def test_since_lists_the_actions_from_that_moment_on(
    config: Path, since: str, records: set[str]
) -> None:
    """The audit log from a moment on, however the moment is written, never a crash."""
    result = CliRunner().invoke(main, ["--config", str(config), "audit", "--since", since])
    assert result.exit_code == 0, result.output
    listed = {r for r in ("INC1", "INC2", "INC3") if f"incident {r}" in result.output}
    assert listed == records


@pytest.mark.parametrize(
    ("since", "message"),
    [
        pytest.param("2026-11-25T09:00", "has no zone: add Z for UTC", id="a time without zone"),
        pytest.param("yesterday", "is neither a date (2026-11-25) nor", id="not a time at all"),
    ],
)
def test_since_refuses_a_moment_it_cannot_place(config: Path, since: str, message: str) -> None:
    """A time without a zone could be UTC or local: refused with a clear line, not guessed."""
    result = CliRunner().invoke(main, ["--config", str(config), "audit", "--since", since])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_the_help_says_how_a_moment_is_read() -> None:
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert "A date means 00:00 UTC; a time needs its zone" in " ".join(result.output.split())
