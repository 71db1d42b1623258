"""`smpm demo`, the first command of the quick start, runs end to end on both sandbox faces,
and tells the same story on any day: it runs on a clock of its own, and at each fixed date of
`tests/dates.py` its output differs from the default's only in dates, numbers and ids."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from smpm.cli import main
from tests.dates import FIXED_DATES
from tests.integration.conftest import PLATFORMS

pytestmark = pytest.mark.integration


def run_demo(platform: str, reports: Path, *at: str) -> str:
    args = ["demo", "--platform", platform, "--reports", str(reports), *at]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


_IDS = re.compile(r"\b(?:run|id) [0-9a-f]{8}\b|^[0-9a-f]{8}(?= )", re.MULTILINE)
_VARYING = [
    (_IDS, "ID"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "SYS_ID"),
    (re.compile(r"\d+"), "N"),
    (re.compile(r"\b(?:CET|CEST)\b"), "ZONE"),
]


def story(output: str, reports: Path) -> list[str]:
    """The demo's output with what may differ between two days taken out: ids (event and run
    ids, ServiceNow sys_ids), numbers (dates, figures, ports) and the report folder."""
    text = output.replace(str(reports), "REPORTS")
    for pattern, mask in _VARYING:
        text = pattern.sub(mask, text)
    return text.splitlines()


@pytest.fixture(scope="module")
def default_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """Each platform's demo at its default start: the output and the reports folder."""
    found = {}
    for platform in PLATFORMS:
        reports = tmp_path_factory.mktemp(f"default-{platform}") / "reports"
        found[platform] = (run_demo(platform, reports), reports)
    return found


@pytest.mark.parametrize("moment", FIXED_DATES.values(), ids=FIXED_DATES.keys())
@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_demo_tells_the_same_story_at_every_fixed_date(
    platform: str, moment: datetime, default_runs: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    """At a year end, at the end of a leap February and at a DST change the demo decides what
    it decides at its default start: only dates, figures and ids differ."""
    output = run_demo(platform, tmp_path, "--at", moment.isoformat())
    assert f"clock starts at {moment:%Y-%m-%d %H:%M} UTC" in output
    assert story(output, tmp_path) == story(*default_runs[platform])


def test_the_demo_refuses_a_moment_without_a_zone(tmp_path: Path) -> None:
    """`--at` takes an RFC 3339 time with its zone or a date; a bare local time is refused."""
    result = CliRunner().invoke(
        main, ["demo", "--reports", str(tmp_path), "--at", "2027-01-31T10:00"]
    )
    assert result.exit_code == 2
    assert "has no zone" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_demo_shows_every_part_working(
    platform: str, default_runs: dict[str, tuple[str, Path]]
) -> None:
    out, reports = default_runs[platform]
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
    # Part 4: Availability Management P2 links the previous month's three outages of the violated
    # SLA to the problem of their root cause: the failover problem by its CI, Capacity P2's
    # problem by its CI, and a new problem for the outage that names no CI. Capacity
    # Management P3 finds the problem Capacity P2 registered.
    assert len(re.findall(r"applied\s+relate\s+incident \S+: link caused_by problem", out)) == 3
    assert re.search(r"linked to (PBI|PRB)\d+: same CI db-cluster-01 as (PBI|PRB)", out)
    assert re.search(r"linked to (PBI|PRB)\d+: same CI app-bank-02 as (PBI|PRB)", out)
    assert re.search(
        r"applied\s+create\s+problem \S+ \(new\): create summary=\[availability\] Online", out
    )
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
