"""Every procedure without a per-record explanation advises a command in `smpm explain`, and
that command, typed exactly as advised, works against the sandbox ITSM."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from procedures.catalog import PROCEDURES
from sandbox.server import DEMO_PASSWORD, Sandbox
from smpm.cli import main
from tests.integration.test_procedures_on_sandbox import config_file
from tests.smpm.test_explain_advice import advised

pytestmark = pytest.mark.integration
UNEXPLAINED = sorted(name for name, spec in PROCEDURES.items() if spec.explain is None)


@pytest.mark.parametrize("name", UNEXPLAINED)
def test_the_advised_command_works(
    name: str, live: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The advice is a command that runs (a dry run, a review, the stored events), never one
    that refuses in its turn."""
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("SMPM_REPORTS__FOLDER", str(tmp_path / "reports"))
    readings = tmp_path / "readings.csv"  # Capacity Tracking reads utilisation from a source
    readings.write_text("infrastructure,capacity_level,measured_at,value\n", encoding="utf-8")
    extra = f'[capacity.tracking]\nreadings_csv = "{readings}"\n'
    base = ["--config", str(config_file(tmp_path, live, extra))]
    answer = CliRunner().invoke(main, [*base, "explain", name, "--record", "INC000000000001"])
    assert answer.exit_code == 1 and "no per-record explanation" in answer.output
    [command] = advised(answer.output)
    ran = CliRunner().invoke(main, [*base, *shlex.split(command)[1:]])
    assert ran.exit_code == 0, f"`{command}` refused: {ran.output}"
    assert live.stats()["by_status"].keys() <= {"200", "201", "204"}  # nothing refused...
    writes = [r for r in live.stats()["recent"] if r["method"] not in ("GET",)]
    assert all("/api/jwt/" in r["path"] for r in writes)  # ...and nothing written
