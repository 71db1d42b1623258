"""Plans, run reports and audit rows as text tables (for people) or JSON (for scripts)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from procedures.plan import Plan
from smpm.executor import RunReport


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], max_width: int = 60) -> str:
    """A plain fixed-width table; long cells are cut with an ellipsis."""
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in cells]
    return "\n".join(s.rstrip() for s in out)


def _cell(value: Any, width: int) -> str:
    return _clip(" ".join(("" if value is None else str(value)).split()), width)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report_table(report: RunReport, width: int = 100) -> str:
    """One block per action: outcome, what changes on which record, and the rule behind it."""
    plan = report.plan
    mode = "DRY RUN, nothing was written" if report.dry_run else f"run {report.run_id[:8]}"
    lines = [f"{plan.procedure} ({mode}): {len(report.outcomes)} action(s)"]
    if not report.outcomes:
        return lines[0] + "\n" + findings_table(plan)
    for o in report.outcomes:
        action = o.action
        target = action.target_label()
        if action.kind.value == "create" and o.result_id:
            target = f"{action.target_kind.value} {o.result_id} (new)"
        head = f"{o.outcome:<9} {action.kind.value:<9} {target}: {action.summary()}"
        lines.append("  " + _clip(head, width - 2))
        lines.append(" " * 12 + _clip(f"because {action.reason.rule}", 2 * width))
        if o.detail:
            lines.append(" " * 12 + _clip(o.detail, 2 * width))
    return "\n".join(lines)


def findings_table(plan: Plan) -> str:
    if not plan.findings:
        return "(no records to decide on)"
    return table(
        ("record", "decision", "because"),
        ((f.record, f.outcome, f.because) for f in plan.findings),
        90,
    )


def report_json(report: RunReport) -> str:
    return json.dumps(
        {
            "procedure": report.plan.procedure,
            "run_id": report.run_id,
            "dry_run": report.dry_run,
            "actions": [
                {
                    "outcome": o.outcome,
                    "action": o.action.kind.value,
                    "step": o.action.step,
                    "trigger": o.action.trigger,
                    "target_kind": o.action.target_kind.value,
                    "target_id": o.result_id
                    if o.action.kind.value == "create"
                    else str(o.action.target_id),
                    "change": o.action.summary(),
                    "reason": str(o.action.reason),
                    "detail": o.detail or None,
                    "idempotency_key": o.key,
                }
                for o in report.outcomes
            ],
            "findings": [f.model_dump() for f in report.plan.findings],
        },
        indent=2,
    )


def rule_of(reason: str) -> str:
    """The rule part of a stored reason ('Process Pn Title: rule'), for tables that already
    name the procedure in a column of their own."""
    return reason.split(": ", 1)[-1]


def rows_json(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps([dict(r) for r in rows], indent=2, default=str)
