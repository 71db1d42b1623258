"""`smpm demo`, the first command of the quick start, runs end to end on both sandbox faces."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from smpm.cli import main
from tests.integration.conftest import PLATFORMS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_demo_shows_every_part_working(platform: str) -> None:
    result = CliRunner().invoke(main, ["demo", "--platform", platform])
    out = result.output
    assert result.exit_code == 0, out
    assert "ITSM writes during the dry run: 0" in out
    assert re.search(r"P2 routing again.*\n\d+ action\(s\) skipped, 0 applied; ITSM writes: 0", out)
    # Event Management P1 through the webhook service: one decision per stored event.
    decisions = re.findall(r"^\w{8}\s+\S+\s+\[(\w+)\]", out, re.MULTILINE)
    assert decisions == [
        "new_incident",
        "repeat",
        "repeat",
        "repeat",
        "attributed",
        "new_incident",
        "planned",
        "clear",
    ]
    assert "(duplicate)" in out
    assert re.search(r"a forged signature\s+-\s+401", out)
    # Capacity Management P2 closed the warning and linked it to a capacity problem.
    warning = r"infrastructure_event\s+app-bank-02\s+closed\s+Capacity Management / Carl"
    assert re.search(warning, out)
    assert "[capacity] app-bank-02 / cpu:" in out
