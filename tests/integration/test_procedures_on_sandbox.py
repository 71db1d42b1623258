"""Incident Management procedures end to end, on both faces of the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, WorkNote
from connector.enums import Impact, IncidentStatus, ProblemStatus, Urgency
from connector.filters import Field
from procedures.plan import Action, ActionKind, Plan, Reason
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.cli import main
from smpm.demo import DEMO_SETTINGS, demo_settings
from smpm.executor import Executor
from smpm.runner import run_procedure
from smpm.settings import Settings
from smpm.store import open_engine, utcnow
from tests.integration.conftest import open_for, seed_number

pytestmark = pytest.mark.integration

# Seeded incidents P2 routes, by their place in the demo seed.
ROUTED = {
    1: "Application Support",  # Online Banking login page
    2: "Application Support",  # Payroll export job
    3: "Capacity Management",  # CPU utilisation (infrastructure event)
    10: "Database Administration",  # Data Warehouse nightly load
    14: "Messaging",  # Email delivery delays
}


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own: these tests change the demo organisation's records."""
    with Sandbox.start(port=0, seed="demo") as running:
        yield running


@pytest.fixture
def settings(platform: str, fresh: Sandbox, tmp_path: Path) -> Settings:
    return demo_settings(platform, fresh.base_url, tmp_path, tmp_path / "reports", utcnow())


def writes(sandbox: Sandbox) -> int:
    routes = sandbox.stats()["by_route"]
    return sum(n for r, n in routes.items() if not r.startswith("GET ") and "/api/jwt/" not in r)


def incidents(platform: str, fresh: Sandbox) -> dict[str, IncidentRequest]:
    with open_for(platform, fresh) as connector:
        return {i.id: i for i in connector.find(IncidentRequest) if i.id}


def test_routing_outcomes_for_the_new_requests(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """The demo's new requests land where the rule table says, with the rule as the reason."""
    report = run_procedure(settings, "incident.assignment")
    routed = {o.action.target_id: o.action.changes["assigned_group"] for o in report.outcomes}
    expected = {seed_number(platform, n): group for n, group in ROUTED.items()}
    assert routed == expected
    assert {o.outcome for o in report.outcomes} == {"applied"}
    after = incidents(platform, fresh)
    for number, group in expected.items():
        assert after[number].assigned_group == group
        # ServiceNow has no "assigned" state: it is written as New, with the group.
        wanted = IncidentStatus.ASSIGNED if platform == "remedy" else IncidentStatus.NEW
        assert after[number].status is wanted


def test_dry_run_writes_nothing(platform: str, settings: Settings, fresh: Sandbox) -> None:
    """--dry-run reads and decides, and sends no write to the ITSM."""
    before = writes(fresh)
    report = run_procedure(settings, "incident.assignment", dry_run=True)
    assert len(report.outcomes) == 5
    assert {o.outcome for o in report.outcomes} == {"planned"}
    assert writes(fresh) == before
    after = incidents(platform, fresh)
    assert all(after[seed_number(platform, n)].assigned_group is None for n in ROUTED)


def test_exactly_one_escalation_after_several_runs(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """Three tracking runs: the escalations of the first, and nothing more."""
    first = run_procedure(settings, "incident.tracking")
    applied = first.count("applied")
    assert applied >= 6
    outage = seed_number(platform, 5)  # packet loss: outage past its resolution target
    assert outage in {o.action.target_id for o in first.outcomes}
    before = writes(fresh)
    for _ in range(2):
        again = run_procedure(settings, "incident.tracking")
        assert again.count("applied") == 0  # settled escalations are not even planned again
    assert writes(fresh) == before
    with open_for(platform, fresh) as connector:
        notes = list(
            connector.find(WorkNote, Field("parent_id") == outage, within=RecordKind.INCIDENT)
        )
    escalations = [n for n in notes if "SLA escalation" in f"{n.summary} {n.text}"]
    assert len(escalations) == 1
    assert "Olivia" in f"{escalations[0].summary} {escalations[0].text}"  # owner Nate is away


def test_a_crash_between_create_and_record_replays_cleanly(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """The ITSM created the problem, smpm died before recording it: the replay finds it."""
    plan = Plan(procedure="test.crash", trigger="t")
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register",
            trigger="incident:5",
            reason=Reason(process="Problem Management", procedure="P1 test", rule="crash test"),
            target_kind=RecordKind.PROBLEM,
            record=ProblemInvestigation(
                summary="Crash test problem",
                status=ProblemStatus.UNDER_REVIEW,
                impact=Impact.MODERATE,
                urgency=Urgency.MEDIUM,
            ),
        )
    )
    engine = open_engine(settings.database.url)

    class DiesAfterCreate:
        """The real connector, killed right after the ITSM accepted the create."""

        def __init__(self, inner: Connector) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def create(self, entity: Any) -> Any:
            self.inner.create(entity)
            raise SystemExit("killed")

    with open_for(platform, fresh) as connector, pytest.raises(SystemExit):
        Executor(DiesAfterCreate(connector), engine).apply(plan)  # type: ignore[arg-type]
    with open_for(platform, fresh) as connector:
        report = Executor(connector, engine).apply(plan)
        key = report.outcomes[0].key
        created = list(connector.find(ProblemInvestigation, Field("correlation_id") == key))
    assert report.outcomes[0].outcome == "recovered"
    assert len(created) == 1
    assert report.outcomes[0].result_id == created[0].id


def config_file(tmp_path: Path, fresh: Sandbox, extra: str = "", platform: str = "remedy") -> Path:
    text = DEMO_SETTINGS.read_text()
    path = tmp_path / "smpm.toml"
    path.write_text(
        f'platform = "{platform}"\n[{platform}]\nurl = "{fresh.base_url}"\n'
        f'username = "{DEMO_USER}"\n\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n\n{text}\n{extra}'
    )
    return path


def cli(path: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("SMPM_SERVICENOW__PASSWORD", DEMO_PASSWORD)
    return CliRunner().invoke(main, ["--config", str(path), *args])


def test_cli_run_explain_and_audit(
    platform: str, tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule tester, a dry run, a run and the audit, as an operator types them."""
    path = config_file(tmp_path, fresh, platform=platform)
    dwh, cpu = seed_number(platform, 10), seed_number(platform, 3)
    explained = cli(
        path, "explain", "incident.assignment", "--record", dwh, monkeypatch=monkeypatch
    )
    assert explained.exit_code == 0, explained.output
    assert "routing rule 'data-warehouse-loads' (priority 40) matched" in explained.output
    dry = cli(path, "run", "incident.assignment", "--dry-run", "--json", monkeypatch=monkeypatch)
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.output
    ran = cli(path, "run", "incident.assignment", monkeypatch=monkeypatch)
    assert ran.exit_code == 0, ran.output
    assert ran.output.count("applied") == 5
    audit = cli(path, "audit", "--procedure", "incident.assignment", monkeypatch=monkeypatch)
    assert audit.exit_code == 0, audit.output
    assert audit.output.count("applied") == 5
    one = cli(path, "audit", "--record", cpu, "--json", monkeypatch=monkeypatch)
    assert one.output.count(f'"target_id": "{cpu}"') == 1
    assert "routing rule 'monitoring-warnings'" in one.output


def test_check_passes_on_the_sandbox(
    platform: str, tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every mapped form (table) and field exists on the sandbox; check says so and exits 0."""
    path = config_file(tmp_path, fresh, platform=platform)
    result = cli(path, "check", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "mapped forms and their fields exist." in result.output
    assert "FAIL" not in result.output


def test_check_names_a_missing_field(
    tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = '[mapping.kinds.incident.fields]\ncorrelation_id = "Vendor Tikcet Number"\n'
    result = cli(config_file(tmp_path, fresh, extra), "check", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert (
        "HPD:IncidentInterface (incident records): missing fields 'Vendor Tikcet Number'"
        in result.output
    )


def test_check_reports_wrong_credentials(
    platform: str, tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file(tmp_path, fresh, platform=platform)
    monkeypatch.setenv(f"SMPM_{platform.upper()}__PASSWORD", "wrong")
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 1
    assert "login refused" in result.output
    words = "ERROR (623)" if platform == "remedy" else "User Not Authenticated"
    assert words in result.output


def test_unknown_group_in_a_rule_is_named_with_file_and_line(
    tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule that routes to a group the ITSM does not have stops the run before any write."""
    extra = (
        '[[incident.assignment.rules]]\nname = "typo"\npriority = 99\n'
        'group = "Netwrok Operations"\nmatch = { service = "Email" }\n'
    )
    path = config_file(tmp_path, fresh, extra)
    before = writes(fresh)
    result = cli(path, "run", "incident.assignment", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    line = path.read_text().splitlines().index('group = "Netwrok Operations"') + 1
    assert (
        f"{path}:{line}: incident.assignment.rules.4.group: unknown support group "
        "'Netwrok Operations'" in result.output
    )
    assert writes(fresh) == before


@pytest.mark.parametrize(
    ("extra", "needle", "problem"),
    [
        (
            '[[incident.assignment.rules]]\nname = "bad"\npriority = 98\ngroup = "Messaging"\n'
            'match = { summary_regex = "(unclosed" }\n',
            "match = { summary_regex",
            "not a valid regular expression",
        ),
        (
            '[[incident.assignment.rules]]\nname = "dup"\npriority = 20\ngroup = "Messaging"\n'
            'match = { service = "Email" }\n',
            "[[incident.assignment.rules]]",
            "share priority 20",
        ),
        (
            '[[roster.on_duty]]\nlogin = "Olivia"\nstart = 2026-11-25T08:00:00Z\n'
            'end = 2026-11-25T20:00:00Z\n[[roster.on_duty]]\nlogin = "Mary"\n'
            "start = 2026-11-25T19:00:00Z\nend = 2026-11-26T08:00:00Z\n",
            "[[roster.on_duty]]",
            "on-duty shifts overlap",
        ),
    ],
    ids=["bad regex", "overlapping priorities", "overlapping roster shifts"],
)
def test_bad_rules_and_rosters_are_rejected_at_load(
    tmp_path: Path,
    fresh: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    extra: str,
    needle: str,
    problem: str,
) -> None:
    """The error names the file, the line and the problem; nothing is run."""
    path = config_file(tmp_path, fresh, extra)
    result = cli(path, "run", "incident.assignment", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert problem in result.output
    assert f"{path}:" in result.output
    reported = int(result.output.split(f"{path}:")[1].split(":")[0])
    assert needle in path.read_text().splitlines()[reported - 1]


def test_on_servicenow_the_escalations_go_through_the_batch_api(
    fresh: Sandbox, tmp_path: Path
) -> None:
    """Incident Management P3's notes and the routing's updates are many small writes: on
    ServiceNow they share POST /api/now/v1/batch round trips instead of one PATCH each."""
    settings = demo_settings("servicenow", fresh.base_url, tmp_path, tmp_path / "reports", utcnow())
    fresh.reset_stats()
    report = run_procedure(settings, "incident.tracking")
    notes = [o for o in report.outcomes if o.action.kind is ActionKind.ADD_NOTE]
    assert len(notes) >= 3 and {o.outcome for o in notes} == {"applied"}
    routes = fresh.stats()["by_route"]
    assert routes.get("POST /api/now/v1/batch", 0) == 1
    assert not [r for r in routes if r.startswith("PATCH /api/now/table/incident")]


def test_check_compares_servicenow_choice_lists_with_the_mapping(
    tmp_path: Path, fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site's own incident state is a warning (smpm reads it as unknown); a stock state the
    site retired, which the mapping writes, is a failure."""
    with open_for("servicenow", fresh) as sn:
        sn.session.post(
            f"{fresh.base_url}/api/now/table/sys_choice",
            json={"name": "incident", "element": "state", "value": "9", "label": "Awaiting Vendor"},
        ).raise_for_status()
    path = config_file(tmp_path, fresh, platform="servicenow")
    warned = cli(path, "check", monkeypatch=monkeypatch)
    assert warned.exit_code == 0, warned.output
    assert "warn  incident.state (SMPM incident.status): the instance also has '9'" in warned.output
    with open_for("servicenow", fresh) as sn:
        rows = sn.list_records(
            "sys_choice",
            where=(Field("name") == "incident") & (Field("element") == "state")
            & (Field("value") == "3"),
            fields=["sys_id"],
        )  # fmt: skip
        [on_hold] = list(rows)
        sn.session.patch(
            f"{fresh.base_url}/api/now/table/sys_choice/{on_hold['sys_id']}",
            json={"inactive": "true"},
        ).raise_for_status()
    failed = cli(path, "check", monkeypatch=monkeypatch)
    assert failed.exit_code == 1
    assert "FAIL  incident.state (SMPM incident.status): the mapping writes '3'" in failed.output
    assert "1 of 20 choice lists lack values the mapping writes" in failed.output
