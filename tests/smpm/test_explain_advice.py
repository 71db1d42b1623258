"""`smpm explain NAME` for a procedure without a per-record explanation advises a command, and
the command it advises works, as typed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from smpm.cli import main


def advised(output: str) -> list[str]:
    """The `smpm ...` commands an answer quotes."""
    return re.findall(r"`(smpm [^`]+)`", output)


def test_explain_event_handling_advises_a_command_that_works(tmp_path: Path) -> None:
    """Event Handling decides events as they arrive; the advice shows what became of them."""
    config = tmp_path / "smpm.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n')
    base = ["--config", str(config)]
    answer = CliRunner().invoke(main, [*base, "explain", "event.handling", "--record", "E1"])
    assert answer.exit_code == 1 and "Traceback" not in answer.output
    [command] = advised(answer.output)
    ran = CliRunner().invoke(main, [*base, *shlex.split(command)[1:]])
    assert ran.exit_code == 0, f"`{command}` refused: {ran.output}"
    assert "pending: 0" in ran.output  # the stored events' counts, then their list
