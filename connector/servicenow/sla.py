"""Service targets on ServiceNow: task_sla rows, with SMPM's measurement status derived.

task_sla has no measurement status [reference 2.6]; SMPM's is derived from three columns, in
this order:

| stage        | has_breached | business_percentage  | SMPM status |
|--------------|--------------|----------------------|-------------|
| cancelled    |              |                      | detached    |
| completed    | true         |                      | missed      |
| completed    | not true     |                      | met         |
| paused       |              |                      | pending     |
| breached     |              |                      | missed      | (2010 engine [2.6])
| in_progress  | true         |                      | missed      |
| in_progress  | not true     | >= warning           | warning     |
| in_progress  | not true     | < warning, or empty  | in_process  |

The warning percentage is configurable (default 50, the default of BMC's and of ServiceNow's
SLA workflows). `attached` and `missed_goal` have no ServiceNow counterpart: a filter on them
matches nothing. A filter on `status` is rewritten into the same conditions on those columns, so
the instance selects exactly the rows that `decode` gives that status. Stage values other than
`cancelled` are UNCONFIRMED spellings [2.6, 5]; an unknown stage is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connector.codec import KindCodec
from connector.entities import MeasurementStatus, ServiceTarget
from connector.errors import InvalidResponse
from connector.filters import (
    Comparison,
    Filter,
    In,
    IsNull,
    Op,
    Or,
    all_of,
    any_of,
)
from connector.servicenow.encoded_query import EVERYTHING, NOTHING, UnsupportedQuery, map_leaves
from connector.servicenow.values import duration_seconds

STAGE, BREACHED, PERCENT = "stage", "has_breached", "business_percentage"
DURATIONS = ("goal_seconds", "elapsed_seconds")
Status = MeasurementStatus


def _stage(value: str) -> Filter:
    return Comparison(STAGE, Op.EQ, value)


NOT_BREACHED = Comparison(BREACHED, Op.NE, "true")  # "!=true" also matches empty [1.6]
BREACHED_TRUE = Comparison(BREACHED, Op.EQ, "true")


class SlaLayout:
    """task_sla rows <-> ServiceTarget, and filters on the derived status."""

    def __init__(
        self,
        codec: KindCodec,
        translate_leaf: Callable[[Filter], Filter],
        warning_percent: float = 50.0,
    ) -> None:
        self.codec = codec
        self.translate_leaf = translate_leaf
        self.warning: int | float = (
            int(warning_percent) if float(warning_percent).is_integer() else warning_percent
        )

    def read_fields(self) -> list[str]:
        return list(dict.fromkeys([*self.codec.read_fields(), STAGE, BREACHED, PERCENT]))

    # -- reading ----------------------------------------------------------------------------------
    def status(self, values: Mapping[str, str], where: str) -> MeasurementStatus:
        stage = values.get(STAGE, "")
        breached = values.get(BREACHED, "") == "true"
        if stage == "cancelled":
            return Status.DETACHED
        if stage == "completed":
            return Status.MISSED if breached else Status.MET
        if stage == "paused":
            return Status.PENDING
        if stage == "breached" or (stage == "in_progress" and breached):
            return Status.MISSED
        if stage == "in_progress":
            percent = self._percent(values.get(PERCENT, ""), where)
            return Status.WARNING if percent >= self.warning else Status.IN_PROCESS
        raise InvalidResponse(
            f"{where}: stage {stage!r} is not one smpm knows (in_progress, paused, completed, "
            "cancelled, breached)"
        )

    @staticmethod
    def _percent(raw: str, where: str) -> float:
        try:
            return float(raw) if raw.strip() else 0.0
        except ValueError:
            raise InvalidResponse(f"{where}: {PERCENT} holds {raw!r}, not a number") from None

    def decode(self, values: Mapping[str, str], where: str) -> ServiceTarget:
        where = f"{where} {values.get('sys_id', '')}".strip()
        row: dict[str, Any] = dict(values)
        for name in DURATIONS:
            column = self.codec.spec.fields.get(name)
            if column and row.get(column):
                try:
                    row[column] = str(duration_seconds(row[column]))
                except InvalidResponse as exc:
                    raise InvalidResponse(f"{where}: {column}: {exc}") from None
        status = self.status(values, where)
        return self.codec.decode(row, where, status=status)  # type: ignore[return-value]

    # -- filters ----------------------------------------------------------------------------------
    def condition(self, status: MeasurementStatus) -> Filter:
        """The conditions on task_sla columns that hold exactly when `status` would be derived."""
        in_progress = _stage("in_progress")
        at_warning = Comparison(PERCENT, Op.GE, self.warning)
        below = Or((Comparison(PERCENT, Op.LT, self.warning), IsNull(PERCENT)))
        table: dict[MeasurementStatus, Filter] = {
            Status.DETACHED: _stage("cancelled"),
            Status.MET: all_of(_stage("completed"), NOT_BREACHED),
            Status.PENDING: _stage("paused"),
            Status.MISSED: any_of(
                all_of(In(STAGE, ("completed", "in_progress")), BREACHED_TRUE), _stage("breached")
            ),
            Status.WARNING: all_of(in_progress, NOT_BREACHED, at_warning),
            Status.IN_PROCESS: all_of(in_progress, NOT_BREACHED, below),
        }
        return table.get(status, NOTHING)

    def translate(self, where: Filter) -> Filter:
        return map_leaves(where, self._leaf)

    def _leaf(self, leaf: Filter) -> Filter:
        if getattr(leaf, "field", None) != "status":
            return self.translate_leaf(leaf)
        if isinstance(leaf, Comparison) and leaf.op in (Op.EQ, Op.NE):
            found = self.condition(_status(leaf.value))
            return found if leaf.op is Op.EQ else _negate(found)
        if isinstance(leaf, In):
            parts = [self.condition(_status(v)) for v in leaf.values]
            useful = [p for p in parts if p != NOTHING]
            return any_of(*useful) if useful else NOTHING
        if isinstance(leaf, IsNull):  # every row has a derived status
            return EVERYTHING if leaf.negated else NOTHING
        raise UnsupportedQuery("a service target's status can only be compared with = and !=")


def _status(value: object) -> MeasurementStatus:
    try:
        return MeasurementStatus(str(getattr(value, "value", value)))
    except ValueError:
        raise UnsupportedQuery(f"{value!r} is not a measurement status") from None


def _negate(expr: Filter) -> Filter:
    if expr == NOTHING:
        return EVERYTHING
    return ~expr
