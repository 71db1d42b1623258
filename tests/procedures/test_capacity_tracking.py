"""Capacity Management, Procedure 3, Capacity Tracking: every branch, the trend, reruns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connector.entities import ConfigurationItem, ProblemInvestigation, RecordKind
from connector.enums import ProblemStatus
from connector.errors import ConfigurationError
from connector.testing import FakeConnector, at
from procedures.capacity import tracking as p3
from procedures.capacity.config import CapacityConfig, TrackingConfig
from procedures.capacity.overview import OverviewRow
from procedures.capacity.sources import Readings
from procedures.capacity.trend import LevelTrend, TrendReport
from procedures.config import ProceduresConfig
from procedures.event.report import ReviewPlan
from procedures.plan import ActionKind
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine
from tests.procedures.conftest import NOW, directory

SAN = OverviewRow(
    infrastructure="san-array-01",
    capacity_level="storage",
    metric="storage.used_percent",
    warning_threshold=80,
    critical_threshold=90,
    specialist_group="Storage Management",
)
BANKING_CPU = OverviewRow(
    infrastructure="Online Banking", capacity_level="cpu", metric="cpu.utilisation",
    warning_threshold=70, critical_threshold=95,
)  # fmt: skip
CONFIG = CapacityConfig(
    overview=[SAN, BANKING_CPU],
    specialist_group="Problem Management",
    tracking=TrackingConfig(history_periods=4),
)
OPEN_PROBLEM = ProblemInvestigation(
    id="PBI5",
    summary="[capacity] san-array-01 / storage: storage.used_percent above critical 90%",
    status=ProblemStatus.UNDER_INVESTIGATION,
)


@dataclass
class StaticSource:
    """A source that answers what the test says, and records what it was asked."""

    values: dict[str, tuple[float | None, ...]]
    name: str = "test source"
    asked: tuple[datetime, ...] = ()

    def read(
        self, rows: Sequence[OverviewRow], ends: Sequence[datetime], period: timedelta
    ) -> Readings:
        self.asked = tuple(ends)
        values = {r.label: self.values[r.label] for r in rows if r.label in self.values}
        missing = {
            label: "the test source has no value" for label, v in values.items() if v[-1] is None
        }
        ignored = tuple(sorted(set(self.values) - {r.label for r in rows}))
        return Readings(values, missing, ignored)


def context(fake: FakeConnector, config: CapacityConfig = CONFIG) -> Context:
    return Context(fake, ProceduresConfig(capacity=config), NOW, "test", _directory=directory())


def run(
    values: dict[str, tuple[float | None, ...]], *records: object, config: CapacityConfig = CONFIG
) -> ReviewPlan:
    fake = FakeConnector().add(*records)  # type: ignore[arg-type]
    return p3.run(context(fake, config), StaticSource(values))


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    san: tuple[float | None, ...]
    problems: tuple[ProblemInvestigation, ...]
    kinds: tuple[ActionKind, ...]
    outcome: str
    because: str


CASES = [
    Case(
        "below-warning",
        "determines the capacity utilization value for each capacity level that is to be "
        "tracked (within the thresholds: nothing to register)",
        (70, 72, 75, 79),
        (),
        (),
        "within thresholds",
        "storage.used_percent 79% at the end of the period 2026-11-23 00:00 UTC: within "
        "critical 90%, warning 80%",
    ),
    Case(
        "above-warning-registers-a-problem",
        "The capacity manager registers a new problem investigation for every threshold "
        "violation for which a problem investigation has not yet been registered",
        (70, 75, 80, 85),
        (),
        (ActionKind.CREATE,),
        "register a problem investigation",
        "storage.used_percent 85% at the end of the period 2026-11-23 00:00 UTC exceeds the "
        "warning threshold 80% for 'san-array-01 / storage'; no problem investigation is "
        "registered for it: a new one is, assigned to Storage Management",
    ),
    Case(
        "above-critical-registers-a-problem",
        "If one or more capacity utilization thresholds have been exceeded ... registers a new "
        "problem investigation",
        (80, 85, 90, 96),
        (),
        (ActionKind.CREATE,),
        "register a problem investigation",
        "exceeds the critical threshold 90% for 'san-array-01 / storage'",
    ),
    Case(
        "existing-problem",
        "the capacity manager checks for each threshold violation whether or not a problem "
        "investigation has already been registered for it",
        (80, 85, 90, 96),
        (OPEN_PROBLEM,),
        (),
        "problem already registered",
        "exceeds the critical threshold 90% for 'san-array-01 / storage'; problem "
        "investigation PBI5 is registered for it",
    ),
    Case(
        "closed-problem-does-not-count",
        "a problem investigation has already been registered (a closed one is not: the "
        "shortage is back)",
        (80, 85, 90, 96),
        (OPEN_PROBLEM.model_copy(update={"status": ProblemStatus.CLOSED}),),
        (ActionKind.CREATE,),
        "register a problem investigation",
        "exceeds the critical threshold 90%",
    ),
    Case(
        "source-row-missing",
        "determines the capacity utilization value (none at the period end: the capacity "
        "manager looks it up; nothing is registered on an old value)",
        (95, 96, 97, None),
        (),
        (),
        "no value",
        "the test source has no value: the capacity manager determines the capacity "
        "utilization value",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_capacity_tracking_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = run({SAN.label: case.san, BANKING_CPU.label: (50, 50, 50, 50)}, *case.problems)
    assert tuple(a.kind for a in plan.actions) == case.kinds
    finding = next(f for f in plan.findings if f.record == SAN.label)
    assert finding.outcome == case.outcome
    assert case.because in finding.because
    for action in plan.actions:
        assert str(action.reason).startswith("Capacity Management P3 Capacity Tracking: ")
        assert action.trigger == "capacity:san-array-01 / storage:period:2026-11-23T00:00:00+00:00"


def test_a_row_the_source_does_not_have_is_named_and_registers_nothing() -> None:
    """Source row missing entirely: the finding says the source has no value for it."""
    plan = run({SAN.label: (70, 71, 72, 73)})
    finding = next(f for f in plan.findings if f.record == BANKING_CPU.label)
    assert finding.outcome == "no value"
    assert finding.because.startswith("test source has no value for it")
    assert plan.actions == []


def test_values_for_levels_the_overview_does_not_track_are_named() -> None:
    plan = run({SAN.label: (1, 2, 3, 4), "mail-01 / queue": (1, 2, 3, 4)})
    [ignored] = [f for f in plan.findings if f.outcome == "not tracked"]
    assert ignored.record == "mail-01 / queue"


def test_the_new_problem_is_assigned_and_located_in_the_itsm() -> None:
    """'Each new problem investigation is then assigned to the most appropriate specialist';
    a row on a service names the service and its problem coordinator, a row on a CI the CI."""
    values = {SAN.label: (80, 85, 90, 96), BANKING_CPU.label: (60, 70, 80, 97)}
    ci = ConfigurationItem(id="CI1", name="san-array-01", company="Calbro Services")
    plan = run(values, ci)
    on_ci, on_service = (a.record for a in plan.actions)
    assert isinstance(on_ci, ProblemInvestigation) and isinstance(on_service, ProblemInvestigation)
    assert on_ci.summary == (
        "[capacity] san-array-01 / storage: storage.used_percent above critical 90%, warning 80%"
    )
    assert (on_ci.ci, on_ci.service, on_ci.company) == ("san-array-01", None, "Calbro Services")
    assert (on_ci.assigned_group, on_ci.status) == ("Storage Management", ProblemStatus.ASSIGNED)
    assert on_ci.investigation_driver == "Other"
    assert "Capacity Management P3 Capacity Tracking" in (on_ci.details or "")
    assert (on_service.service, on_service.ci, on_service.problem_coordinator) == (
        "Online Banking",
        None,
        "paula",
    )
    assert on_service.assigned_group == "Problem Management"  # [capacity] specialist_group


def test_an_infrastructure_the_itsm_does_not_know_is_left_unplaced() -> None:
    plan = run({SAN.label: (80, 85, 90, 96)})
    problem = plan.actions[0].record
    assert isinstance(problem, ProblemInvestigation)
    assert (problem.ci, problem.service, problem.company) == (None, None, None)


# -- periods and trend ----------------------------------------------------------------------------
def test_periods_end_on_the_anchor_s_grid_whenever_the_run_happens() -> None:
    """Every run within one period judges the same period end: reruns are the same decision."""
    config = TrackingConfig(history_periods=3)
    expected = [at("2026-11-09 00:00"), at("2026-11-16 00:00"), at("2026-11-23 00:00")]
    assert config.period_ends(NOW) == expected
    assert config.period_ends(at("2026-11-29 23:59")) == expected
    assert config.period_ends(at("2026-11-30 00:00"))[-1] == at("2026-11-30 00:00")
    daily = TrackingConfig(period_days=1, history_periods=1)
    assert daily.period_ends(NOW) == [at("2026-11-25 00:00")]


def test_the_source_is_asked_for_the_configured_period_ends() -> None:
    source = StaticSource({})
    p3.run(context(FakeConnector()), source)
    assert source.asked == tuple(CONFIG.tracking.period_ends(NOW))


TREND = [
    ("rising", (70, 74, 78, 82), 4.0, 2.0),
    ("above-critical", (88, 90, 92, 94), 2.0, 0.0),
    ("flat", (80, 80, 80, 80), 0.0, None),
    ("falling", (86, 84, 82, 80), -2.0, None),
    ("one-value", (None, None, None, 70), None, None),
    ("gap", (70, None, 78, 82), 4.0, 2.0),
]


@pytest.mark.parametrize(("name", "values", "slope", "ahead"), TREND, ids=[t[0] for t in TREND])
def test_trend_slope_and_periods_until_critical(
    name: str, values: tuple[float | None, ...], slope: float | None, ahead: float | None
) -> None:
    """The trend a person reads off the overview's graph: change per period, and at that pace
    how many periods remain until the critical threshold (0 above it; none when not rising)."""
    ends = tuple(CONFIG.tracking.period_ends(NOW))
    trend = LevelTrend(SAN, ends, values)
    assert trend.slope == (pytest.approx(slope, abs=1e-3) if slope is not None else None)
    got = trend.periods_to_critical()
    assert got == (pytest.approx(ahead, abs=1e-3) if ahead is not None else None)


def test_the_overview_is_published_as_a_report_with_trends() -> None:
    """'The capacity manager then updates the capacity tracking overview(s)': one row per level
    with the values of the periods, the state, the trend and the problem; flagged rows exceed a
    threshold or reach the critical one within the horizon."""
    values = {SAN.label: (70, 74, 78, 82), BANKING_CPU.label: (60, 62, 64, 66)}
    plan = run(values, OPEN_PROBLEM)
    report = plan.report
    assert isinstance(report, TrendReport)
    assert report.name == "capacity-tracking"
    assert str(report.period) == "2026-10-26 00:00 to 2026-11-23 00:00 UTC"
    assert report.columns[6:10] == ("2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23")
    san, cpu = (dict(zip(report.columns, row, strict=True)) for row in report.rows)
    assert (san["state"], san["slope_per_period"], san["periods_to_critical"]) == (
        "above warning",
        4.0,
        2.0,
    )
    assert (san["problem"], san["note"]) == ("PBI5", "")  # a note only says why a value is missing
    assert (cpu["state"], cpu["periods_to_critical"], cpu["problem"]) == (
        "within thresholds",
        14.5,
        "",
    )
    assert report.flagged == (True, False)
    assert [t.label for t in report.trends] == [SAN.label, BANKING_CPU.label]
    assert report.trends[0].thresholds == (("warning", 80.0), ("critical", 90.0))
    assert dict(report.figures)["above warning"] == 1


def test_a_level_rising_toward_critical_within_the_horizon_is_flagged() -> None:
    plan = run({SAN.label: (60, 65, 70, 75), BANKING_CPU.label: (50, 50, 50, 50)})
    assert plan.report is not None and plan.report.flagged == (True, False)  # 3 periods ahead


# -- gathering, sources and reruns ----------------------------------------------------------------
def test_the_open_problem_is_asked_for_violated_levels_only() -> None:
    fake = FakeConnector().add(OPEN_PROBLEM)
    reads = fake.reads
    source = StaticSource({SAN.label: (95, 95, 95, 95), BANKING_CPU.label: (1, 1, 1, 1)})
    tracking = p3.gather(context(fake), source)
    assert {k: p.id for k, p in tracking.problems.items()} == {SAN.label: "PBI5"}
    assert fake.reads - reads == 1  # one problem query; no CI query: the level has a problem


def test_without_a_source_the_run_says_what_to_configure() -> None:
    with pytest.raises(ConfigurationError, match=r"set readings_csv, or url and queries"):
        p3.run(context(FakeConnector()))


def test_one_source_at_a_time() -> None:
    with pytest.raises(ValueError, match="not both"):
        TrackingConfig(readings_csv=Path("x.csv"), prometheus={"url": "https://prom.example.com"})


def test_a_rerun_in_the_same_period_registers_nothing_new(tmp_path: Path) -> None:
    """Idempotent: the rerun finds the problem by its prefix (and the executor would skip the
    same trigger anyway); P2's warnings on the level then link to this problem."""
    fake = FakeConnector()
    source = StaticSource({SAN.label: (80, 85, 90, 96), BANKING_CPU.label: (1, 1, 1, 1)})
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    first = Executor(fake, engine).apply(p3.run(context(fake), source))
    assert [o.outcome for o in first.outcomes] == ["applied"]
    again = p3.run(context(fake), source)
    assert again.actions == []
    [problem] = fake.find(ProblemInvestigation)
    finding = next(f for f in again.findings if f.record == SAN.label)
    assert finding.because.endswith(f"problem investigation {problem.id} is registered for it")
    assert [w.kind for w in fake.writes] == [RecordKind.PROBLEM]
    engine.dispose()
