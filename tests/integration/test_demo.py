"""`smpm demo`, the first command of the quick start, runs end to end on both sandbox faces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from smpm.cli import main
from tests.integration.conftest import PLATFORMS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_demo_shows_every_part_working(platform: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = CliRunner().invoke(main, ["demo", "--platform", platform, "--reports", str(reports)])
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
    # Part 4: Availability Management P2 registers one problem for October's violated SLA and
    # links its three outages; Capacity Management P3 finds the problem P2 registered.
    assert len(re.findall(r"applied\s+relate\s+incident \S+: link caused_by problem", out)) == 3
    assert "[availability] Online Banking:" in out
    assert re.search(r"app-bank-02 / cpu\s+problem already registered", out)
    assert re.search(r"SLA Online Banking Gold \d{4}-\d\d\s+SLT violated", out)
    # Every report is written as CSV and HTML, and its path printed.
    kinds = ("availability-tracking", "capacity-tracking", "sla-review", "event-review")
    for kind in (*kinds, "outage-review"):
        for suffix in (".csv", ".html"):
            (path,) = reports.glob(f"{kind}_*{suffix}")
            assert str(path) in out
    for kind in kinds:  # each of these draws its figures as inline SVG
        (page,) = reports.glob(f"{kind}_*.html")
        assert "<svg" in page.read_text(encoding="utf-8")
