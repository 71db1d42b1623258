"""The capacity tracking overview: rows from the settings or a CSV file, checked row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigurationError
from procedures.capacity.config import CapacityConfig
from procedures.capacity.overview import (
    CapacityOverview,
    OverviewError,
    OverviewRow,
    parse_csv,
    problem_prefix,
)
from procedures.capacity.reading import read_reading
from smpm.settings import load_settings

HEADER = (
    "infrastructure,capacity_level,metric,warning_threshold,critical_threshold,unit,"
    "specialist_group,monitoring_job\n"
)
GOOD = (
    HEADER
    + "# the SAN, tracked since the array was extended\n"
    + "san-array-01,storage,storage.used_percent,80,90,%,Storage Management,zabbix san-usage\n"
    + "\n"
    + "Online Banking,sessions,sessions.active,,5000,sessions,,\n"
)


def row(**fields: object) -> OverviewRow:
    base: dict[str, object] = {
        "infrastructure": "san-array-01",
        "capacity_level": "storage",
        "metric": "storage.used_percent",
        "warning_threshold": 80,
        "critical_threshold": 90,
    }
    return OverviewRow.model_validate({**base, **fields})


def test_a_csv_overview_is_read_row_by_row() -> None:
    """Comment and blank lines are skipped; empty cells are empty values."""
    rows = parse_csv(GOOD, "overview.csv")
    assert [r.label for r in rows] == ["san-array-01 / storage", "Online Banking / sessions"]
    assert rows[0].specialist_group == "Storage Management"
    assert rows[1].warning_threshold is None and rows[1].unit == "sessions"
    assert rows[1].show(5200) == "5200 sessions"


BAD_ROWS = [
    ("not-a-number", "san,storage,used,eighty,90\n", "line 2: warning_threshold: Input should"),
    ("no-threshold", "san,storage,used,,\n", "line 2: a row needs a warning_threshold"),
    ("warning-above-critical", "san,storage,used,95,90\n", "line 2: warning_threshold 95 is above"),
    ("missing-metric", "san,storage,,80,90\n", "line 2: metric: Field required"),
    ("extra-cells", "san,storage,used,80,90,%,g,j,surplus\n", "line 2: more cells than"),
    (
        "same-level-twice",
        "san,storage,used,80,90\nsan,storage,other,80,90\n",
        "line 3: 'san / storage' is in the capacity tracking overview twice",
    ),
    (
        "same-metric-twice",
        "san,storage,used,80,90\nsan,disk,used,80,90\n",
        "line 3: metric 'used' of 'san' is tracked by both 'san / storage' and 'san / disk'",
    ),
    (
        "separator-in-name",
        "a / b,storage,used,80,90\n",
        "line 2: 'a / b': ' / ' and ':' separate names",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS]
)
def test_a_bad_row_names_the_file_the_line_and_the_problem(body: str, message: str) -> None:
    header = "infrastructure,capacity_level,metric,warning_threshold,critical_threshold\n"
    if "surplus" in body:
        header = HEADER
    with pytest.raises(OverviewError) as caught:
        parse_csv(header + body, "var/overview.csv")
    assert str(caught.value).startswith(f"var/overview.csv, {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: empty"),
        ("infrastructure,level,metric\n", "line 1: unknown column 'level'"),
        ("infrastructure,metric\n", "line 1: missing column(s) capacity_level"),
    ],
    ids=["empty", "unknown-column", "missing-column"],
)
def test_a_bad_header_is_refused(text: str, message: str) -> None:
    with pytest.raises(OverviewError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csv(text, "o.csv")


def test_the_settings_read_the_csv_once_and_merge_it(tmp_path: Path) -> None:
    """`[capacity] overview_csv` rows join the `[[capacity.overview]]` rows the procedures see."""
    csv_file = tmp_path / "overview.csv"
    csv_file.write_text("\ufeff" + GOOD, encoding="utf-8")  # as a spreadsheet saves it
    config = tmp_path / "smpm.toml"
    config.write_text(
        f'[capacity]\noverview_csv = "{csv_file}"\n\n[[capacity.overview]]\n'
        'infrastructure = "app-bank-02"\ncapacity_level = "cpu"\nmetric = "cpu.utilisation"\n'
        "critical_threshold = 90\n"
    )
    capacity = load_settings(config).procedures().capacity
    assert [r.label for r in capacity.overview] == [
        "app-bank-02 / cpu",
        "san-array-01 / storage",
        "Online Banking / sessions",
    ]


def test_a_bad_csv_stops_the_settings_naming_file_and_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "overview.csv"
    csv_file.write_text(GOOD + "san-array-01,iops,iops,95,90\n")
    config = tmp_path / "smpm.toml"
    config.write_text(f'[capacity]\noverview_csv = "{csv_file}"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(config)
    assert f"{csv_file}, line 6: warning_threshold 95 is above critical_threshold 90" in str(
        caught.value
    )
    assert str(caught.value).startswith(f"{config}:1: capacity: ")


def test_a_missing_csv_is_named(tmp_path: Path) -> None:
    config = tmp_path / "smpm.toml"
    config.write_text('[capacity]\noverview_csv = "nowhere.csv"\n')
    with pytest.raises(ConfigurationError, match=r"overview_csv: cannot read 'nowhere\.csv'"):
        load_settings(config)


def test_duplicate_rows_in_the_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="'san-array-01 / storage' is in the capacity"):
        CapacityConfig(overview=[row(), row(metric="other")])


def test_lookup_tries_the_ci_then_the_service() -> None:
    """'looks up the specific service infrastructure that would become affected': a CI, or the
    service it supports when only the service is tracked."""
    overview = CapacityOverview.of([row(), row(infrastructure="Online Banking", metric="cpu")])
    assert overview.lookup(["SAN-ARRAY-01", "Online Banking"], "Storage.Used_Percent") == row()
    found = overview.lookup(["app-bank-02", None, "Online Banking"], "cpu")
    assert found is not None and found.infrastructure == "Online Banking"
    assert overview.lookup(["app-bank-02"], "cpu") is None
    assert overview.lookup(["san-array-01"], None) is None
    assert overview.for_infrastructure("SAN-array-01") == [row()]


@pytest.mark.parametrize(
    ("value", "exceeded"),
    [(79.0, None), (80.0, None), (85.0, ("warning", 80.0)), (93.0, ("critical", 90.0))],
)
def test_exceeding_means_above_the_threshold(
    value: float, exceeded: tuple[str, float] | None
) -> None:
    """'determines if the utilization level exceeds one of its capacity utilization thresholds':
    the highest one exceeded is the one reported."""
    assert row().exceeded(value) == exceeded


def test_the_problem_prefix_is_the_problems_identity() -> None:
    assert problem_prefix(row()) == "[capacity] san-array-01 / storage:"
    with pytest.raises(ValueError, match="too long for a summary"):
        row(infrastructure="x" * 80, capacity_level="y" * 20)


@pytest.mark.parametrize(
    ("details", "value"),
    [
        ('CPU high\n\nsmpm-reading {"metric": "cpu", "value": 97.0, "threshold": 90}', 97.0),
        ('smpm-reading {"value": 1}\nsmpm-reading {"value": 2}', 2.0),
        ("smpm-reading {not json", None),
        ('smpm-reading {"metric": "cpu"}', None),
        ("typed by hand", None),
        (None, None),
    ],
    ids=["p1-line", "last-wins", "broken-json", "no-value", "no-line", "no-details"],
)
def test_the_reading_is_read_back_from_the_details(
    details: str | None, value: float | None
) -> None:
    reading = read_reading(details)
    assert (reading.value if reading else None) == value
