"""Service targets on ServiceNow: SMPM's measurement status derived from task_sla [2.6]."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from connector.codec import KindCodec
from connector.entities import MeasurementStatus, RecordKind, ServiceTarget, TargetKind
from connector.errors import InvalidResponse
from connector.filters import And, Comparison, Field, Filter, In, IsNull, Not, Op, Or
from connector.servicenow import ServiceNowConnector
from connector.servicenow.layouts import translate_leaf
from connector.servicenow.sla import SlaLayout
from connector.servicenow.values import format_sn_date
from mappings.loader import PlatformMapping
from tests.connector.test_servicenow_records import listing, query

S = MeasurementStatus


def layout(mapping: PlatformMapping, warning: float = 50.0) -> SlaLayout:
    codec = KindCodec(mapping, RecordKind.SERVICE_TARGET, format_sn_date)
    return SlaLayout(codec, lambda leaf: translate_leaf(codec, leaf), warning)


ROWS = [
    ("cancelled", "", "", S.DETACHED),
    ("completed", "true", "120", S.MISSED),
    ("completed", "false", "40", S.MET),
    ("completed", "", "40", S.MET),
    ("paused", "true", "99", S.PENDING),
    ("breached", "false", "", S.MISSED),
    ("in_progress", "true", "100", S.MISSED),
    ("in_progress", "false", "50", S.WARNING),
    ("in_progress", "false", "49.99", S.IN_PROCESS),
    ("in_progress", "false", "", S.IN_PROCESS),
]


@pytest.mark.parametrize(
    ("stage", "breached", "percent", "status"), ROWS, ids=[f"{r[0]} {r[1]} {r[2]}" for r in ROWS]
)
def test_status_is_derived_from_stage_breach_and_percentage(
    servicenow_mapping: PlatformMapping, stage: str, breached: str, percent: str, status: S
) -> None:
    """The derivation table of connector.servicenow.sla, with the default 50 % warning."""
    row = {"stage": stage, "has_breached": breached, "business_percentage": percent}
    assert layout(servicenow_mapping).status(row, "task_sla") is status


def test_the_warning_percentage_is_configurable(servicenow_mapping: PlatformMapping) -> None:
    """A site warning at 75 % sees 60 % as in process."""
    row = {"stage": "in_progress", "has_breached": "false", "business_percentage": "60"}
    assert layout(servicenow_mapping, 75).status(row, "task_sla") is S.IN_PROCESS
    assert layout(servicenow_mapping).status(row, "task_sla") is S.WARNING


def test_an_unknown_stage_is_reported(servicenow_mapping: PlatformMapping) -> None:
    """A stage smpm does not know is never guessed."""
    with pytest.raises(InvalidResponse, match="stage 'frozen'"):
        layout(servicenow_mapping).status({"stage": "frozen"}, "task_sla 1")


# -- filters agree with the derivation -------------------------------------------------------------
def holds(expr: Filter, row: dict[str, str]) -> bool:
    """Evaluate a platform filter as the instance would: "" is empty, != true matches empty."""
    if isinstance(expr, And):
        return all(holds(p, row) for p in expr.parts)
    if isinstance(expr, Or):
        return any(holds(p, row) for p in expr.parts)
    if isinstance(expr, Not):
        return not holds(expr.part, row)
    if isinstance(expr, IsNull):
        return (row.get(expr.field, "") == "") != expr.negated
    if isinstance(expr, In):
        return row.get(expr.field, "") in expr.values
    assert isinstance(expr, Comparison)
    value = row.get(expr.field, "")
    if expr.op in (Op.EQ, Op.NE):
        return (value == str(expr.value)) == (expr.op is Op.EQ)
    number = float(value) if value else math.nan  # NULL compares false
    limit = float(expr.value)
    return {Op.LT: number < limit, Op.GE: number >= limit, Op.LE: number <= limit}[expr.op]


@given(
    stage=st.sampled_from(["in_progress", "paused", "completed", "cancelled", "breached"]),
    breached=st.sampled_from(["true", "false", ""]),
    percent=st.one_of(st.just(""), st.floats(0, 300).map(lambda p: f"{p:.2f}")),
    warning=st.sampled_from([50.0, 75.0, 12.5]),
)
def test_a_filter_on_status_selects_exactly_the_rows_with_that_status(
    servicenow_mapping: PlatformMapping, stage: str, breached: str, percent: str, warning: float
) -> None:
    """For every row and status: the rewritten filter holds iff the row derives that status."""
    sla = layout(servicenow_mapping, warning)
    row = {"sys_id": "1" * 32, "stage": stage, "has_breached": breached}
    row["business_percentage"] = percent
    derived = sla.status(row, "task_sla")
    for status in S:
        assert holds(sla.condition(status), row) == (derived is status), status


def test_filters_on_status_become_encoded_queries(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Tracking's 'warning or missed' query, as the instance receives it."""
    listing(mocked, "task_sla", [])
    where = Field("status").one_of(S.WARNING, S.MISSED, S.MISSED_GOAL)
    list(sn.find(ServiceTarget, where))
    assert query(mocked.calls[0])["sysparm_query"] == (
        "stage=breached"
        "^NQstage=in_progress^has_breached!=true^ORhas_breachedISEMPTY^business_percentage>=50"
        "^NQstageINcompleted,in_progress^has_breached=true^ORDERBYsys_id"
    )


def test_not_equal_on_status_is_the_complement(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """status != met: De Morgan over the met condition (a stage that is empty is not met)."""
    listing(mocked, "task_sla", [])
    list(sn.find(ServiceTarget, (Field("status") != S.MET) & (Field("request_id") == "INC1")))
    assert query(mocked.calls[0])["sysparm_query"] == (
        "stage!=completed^ORstageISEMPTY^ORhas_breached=true^task.number=INC1^ORDERBYsys_id"
    )


def test_targets_decode_with_durations_in_seconds(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Durations are epoch-relative dates [1.3]; the SLA definition names the target."""
    row = {
        "sys_id": "5" * 32,
        "sla.name": "Priority 1 resolution (4 hour)",
        "sla.target": "resolution",
        "sla.duration": "1970-01-01 04:00:00",
        "task.number": "INC0010006",
        "task": "2" * 32,
        "stage": "in_progress",
        "has_breached": "false",
        "business_percentage": "62.5",
        "start_time": "2024-03-24 02:00:00",
        "planned_end_time": "2024-03-24 06:00:00",
        "end_time": "",
        "business_duration": "1970-01-01 02:30:00",
    }
    listing(mocked, "task_sla", [row])
    [target] = list(sn.find(ServiceTarget, Field("request_id") == "INC0010006"))
    assert target.status is S.WARNING
    assert target.target_kind is TargetKind.RESOLUTION
    assert (target.goal_seconds, target.elapsed_seconds) == (14400, 9000)
    assert target.due_at == datetime(2024, 3, 24, 6, 0, tzinfo=UTC)
    assert (target.request_id, target.title) == ("INC0010006", "Priority 1 resolution (4 hour)")
    fields = query(mocked.calls[0])["sysparm_fields"].split(",")
    assert {"stage", "has_breached", "business_percentage", "sla.name"} <= set(fields)
