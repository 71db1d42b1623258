"""Bulk incidents for benchmarks: hundreds of thousands of rows in seconds.

Rows are written straight into `HPD:Help Desk` with one `executemany` per batch, bypassing
per-request workflow but computing what the workflow would (ids from the same counters,
priority from the same weights, Status-History, dates). Customers, groups and services are drawn
from the seeded foundation data when there is some. Generated incidents get no SLA measurements.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

from sandbox.fields import format_date
from sandbox.forms.incident import HELP_DESK
from sandbox.forms.selections import IMPACT, REPORTED_SOURCE, URGENCY
from sandbox.store import Store
from sandbox.tx import Tx
from sandbox.workflow.common import priority
from sandbox.workflow.incident import ENTRY_ID_START

OPEN = ("New", "Assigned", "In Progress", "Pending")
DONE = ("Resolved", "Closed")
SUMMARIES = (
    "Cannot log in to {s}",
    "{s} is slow",
    "Error page on {s}",
    "{s} unavailable",
    "Disk space warning on a {s} server",
    "Password reset for {s}",
    "Timeout calling {s}",
)
COLUMNS = (
    "Entry ID",
    "Incident Number",
    "Submitter",
    "Submit Date",
    "Last Modified By",
    "Last Modified Date",
    "Status",
    "Status-History",
    "InstanceId",
    "Description",
    "Impact",
    "Urgency",
    "Priority",
    "Priority Weight",
    "Service Type",
    "Reported Source",
    "Assigned Group",
    "Assigned Group ID",
    "Assigned Support Organization",
    "Assigned Support Company",
    "Customer Login ID",
    "First Name",
    "Last Name",
    "Company",
    "ServiceCI",
    "Reported Date",
    "Responded Date",
    "Last Resolved Date",
    "Closed Date",
    "Status_Reason",
    "Resolution",
    "Total Transfers",
)
_F = HELP_DESK.by_name


def _number(field: str, label: str) -> int:
    found = _F[field].selection.number(label)  # type: ignore[union-attr]
    assert found is not None, (field, label)
    return found


class _Draws:
    """Every choice pre-encoded as stored, so that a row costs a few random numbers."""

    def __init__(self, store: Store) -> None:
        tx = Tx(store, "generator", 0)
        groups = tx.find("CTM:Support Group", Status="Enabled")
        people = tx.find("CTM:People", **{"Profile Status": "Enabled"})
        services = [s["Name"] for s in tx.rows("BMC.CORE:BMC_BusinessService")] or ["Email"]
        self.groups = [
            (
                g["Support Group Name"],
                g["Support Group ID"],
                g["Support Organization"],
                g["Company"],
            )
            for g in groups
        ]
        self.people = [
            (p["Remedy Login ID"], p["First Name"], p["Last Name"], p["Company"]) for p in people
        ] or [(None, None, None, None)]
        self.service_type = _number(
            "Service Type", "User Service Restoration" if people else "Infrastructure Event"
        )
        self.topics = [(svc, [t.format(s=svc) for t in SUMMARIES]) for svc in services]
        self.matrix = []
        for impact in IMPACT.labels:
            for urgency in URGENCY.labels:
                label, weight = priority(impact, urgency)
                self.matrix.append(
                    (
                        IMPACT.number(impact),
                        URGENCY.number(urgency),
                        _number("Priority", str(label)),
                        weight,
                    )
                )
        self.sources = list(REPORTED_SOURCE.numbers)
        self.status = {label: _number("Status", label) for label in (*OPEN, *DONE)}
        self.pending = _number("Status_Reason", "Client Hold")
        self.resolved = _number("Status_Reason", "No Further Action Required")


def generate_incidents(
    store: Store,
    count: int,
    *,
    now: int,
    days: float = 30,
    open_ratio: float = 0.3,
    seed: int = 0,
    batch: int = 20_000,
) -> tuple[str, str]:
    """Add `count` incidents submitted over the last `days`, oldest first (as numbers grow);
    returns the first and last Incident Number."""
    if count < 1:
        raise ValueError("count must be at least 1")
    draws = _Draws(store)
    rng = random.Random(seed)
    first_entry = store.reserve("HPD:Help Desk", count, start=ENTRY_ID_START)
    first_number = store.reserve("Incident Number", count)
    columns = [_F[name].column or "" for name in COLUMNS]
    start, step = now - int(days * 86400), days * 86400 / count
    rows = (
        _row(rng, draws, first_entry + i, first_number + i, start + int(i * step), now, open_ratio)
        for i in range(count)
    )
    with store.bulk_load(HELP_DESK.table) if count >= 10_000 else store.transaction():
        for chunk in _chunks(rows, batch):
            store.insert_many(HELP_DESK.table, columns, chunk)
    return f"INC{first_number:012d}", f"INC{first_number + count - 1:012d}"


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stamp(epoch: int) -> str:
    """`format_date`, without strftime: the day part is cached."""
    hours, rest = divmod(epoch % 86400, 3600)
    return f"{_day(epoch // 86400)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000+0000"


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return format_date(day * 86400)[:10]


def _row(
    rng: random.Random,
    d: _Draws,
    entry: int,
    number: int,
    submitted: int,
    now: int,
    open_ratio: float,
) -> tuple[Any, ...]:
    r = rng.random
    status = OPEN[int(r() * 4)] if r() < open_ratio else DONE[int(r() * 2)]
    impact, urgency, prio, weight = d.matrix[int(r() * 16)]
    group = d.groups[int(r() * len(d.groups))] if d.groups and status != "New" else (None,) * 4
    person = d.people[int(r() * len(d.people))]
    service, summaries = d.topics[int(r() * len(d.topics))]
    responded = submitted + 60 + int(r() * 3540) if status not in ("New", "Assigned") else None
    resolved = min(now, submitted + 1800 + int(r() * 3 * 86400)) if status in DONE else None
    last = resolved or responded or submitted
    history = f'{{"New":{{"user":"generator","timestamp":"{_stamp(submitted)}"}}'
    if status != "New":
        history += f',"{status}":{{"user":"generator","timestamp":"{_stamp(last)}"}}'
    reason = d.pending if status == "Pending" else (d.resolved if resolved else None)
    return (
        f"INC{entry:012d}",
        f"INC{number:012d}",
        "generator",
        submitted,
        "generator",
        last,
        d.status[status],
        history + "}",
        f"IDG{entry:027d}",
        summaries[int(r() * len(summaries))],
        impact,
        urgency,
        prio,
        weight,
        d.service_type,
        d.sources[int(r() * len(d.sources))],
        *group,
        *person,
        service,
        submitted,
        responded,
        resolved,
        resolved if status == "Closed" else None,
        reason,
        "Resolved by the generator" if resolved else None,
        0,
    )
