"""The demo's fourth part: the scheduled tracking procedures and the reports managers read.

The sandbox's clock is moved back to register and restore a few months of outages through the
connector (as the service desk would have), then, as of now, the tracking procedures run the way
their schedule runs them (`smpm schedule`): Availability Tracking (Availability Management P2)
and Capacity Tracking (Capacity Management P3) for real, linking and registering problem
investigations; the SLA Review (Service Level Management P5) and Event Management's Event and
Outage Reviews write their reports. Every report is CSV plus a self-contained HTML page, written
to the folder the demo was given; their paths are printed at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connector.base import Connector
from connector.entities import IncidentRequest
from connector.enums import Impact, IncidentStatus, ReportedSource, ServiceType, Urgency
from procedures.availability.tracking import NAME as AVAILABILITY_TRACKING
from procedures.capacity.tracking import NAME as CAPACITY_TRACKING
from procedures.slm.sla_review import NAME as SLA_REVIEW
from smpm.demo.clock import DemoClock
from smpm.platforms import open_connector
from smpm.render import findings_table, report_table
from smpm.reports.files import list_reports
from smpm.reports.reviews import REVIEWS, report_now, review
from smpm.runner import run_procedure
from smpm.settings import Settings

Echo = Callable[[str], None]

# (service, CI, day of the month, start hour, hours down), in the month `months_back` before now
# on the service desk's calendar (DESK_ZONE, the zone of the demo's SLAs).
OUTAGE_HISTORY: dict[int, list[tuple[str, str | None, int, int, float]]] = {
    2: [("Online Banking", "app-bank-01", 9, 10, 1.0)],
    1: [
        ("Online Banking", "db-cluster-01", 5, 9, 3.5),
        ("Online Banking", "app-bank-02", 12, 14, 1.0),
        ("Online Banking", None, 21, 10, 1.5),  # reported by users; no CI named
        ("Email", None, 14, 8, 2.0),
    ],
}
DESK_ZONE = ZoneInfo("Europe/Amsterdam")
# CPU readings of app-bank-02, one a week, oldest first: climbing through both thresholds.
CPU_READINGS = (71.0, 76.5, 82.0, 88.5, 93.0, 97.0)


def reports_tour(settings: Settings, state: Path, clock: DemoClock, echo: Echo) -> list[Path]:
    echo(f"\n== 4. Tracking and the managers' reports {'=' * 60}"[:101])
    now = clock.now()
    # Report files carry the machine's modification time, not the demo's: the folder may hold
    # the reports of earlier demos, and only this run's are listed at the end.
    started = datetime.fromtimestamp(time.time() - 1, UTC)
    settings = with_readings(settings, state / "capacity-readings.csv", now)
    echo("-- The service desk's last months, registered and restored at their own times")
    with open_connector(settings) as itsm:
        for line in register_history(itsm, clock, now):
            echo(f"   {line}")
    clock.set(None)
    step = "P2 Availability Tracking (`smpm run availability.tracking`, scheduled daily)"
    echo(f"\n-- Availability Management {step}")
    echo(report_table(run_procedure(settings, AVAILABILITY_TRACKING, clock=clock.now)))
    step = "P3 Capacity Tracking (`smpm run capacity.tracking`, scheduled weekly)"
    echo(f"\n-- Capacity Management {step}")
    echo(report_table(run_procedure(settings, CAPACITY_TRACKING, clock=clock.now)))
    echo("\n-- Service Level Management P5 SLA Review (`smpm review sla`)")
    echo(findings_table(report_now(settings, SLA_REVIEW, now=clock.now())[0]))
    for name in REVIEWS.values():  # Event Management P2 Event Review and P3 Outage Review
        review(settings, name, now=clock.now())
    echo("\n-- The reports (`smpm reports` lists them; open the .html pages in a browser)")
    written = [r for r in list_reports(settings.reports.folder) if r.modified >= started]
    paths = [path for report in written for path in report.files]
    for path in paths:
        echo(f"   {path}")
    return paths


def with_readings(settings: Settings, path: Path, now: datetime) -> Settings:
    """The capacity manager's readings file: one CPU reading of app-bank-02 in each capacity
    tracking period, halfway through it, the last one in the period under way (so the period
    just ended holds the same reading whatever the day of the week)."""
    tracking = settings.capacity.tracking
    ends = tracking.period_ends(now)[-(len(CPU_READINGS) - 1) :]
    moments = [end - tracking.period / 2 for end in ends] + [ends[-1] + (now - ends[-1]) / 2]
    lines = ["infrastructure,capacity_level,measured_at,value"]
    for moment, value in zip(moments, CPU_READINGS, strict=True):
        lines.append(f"app-bank-02,cpu,{moment.astimezone(UTC):%Y-%m-%dT%H:%MZ},{value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capacity = settings.capacity.model_copy(
        update={"tracking": tracking.model_copy(update={"readings_csv": path})}
    )
    return settings.model_copy(update={"capacity": capacity})


def register_history(itsm: Connector, clock: DemoClock, now: datetime) -> list[str]:
    """Outage requests of OUTAGE_HISTORY, each reported and restored at its own time."""
    lines = []
    for months_back, outages in OUTAGE_HISTORY.items():
        first = month_start(now, months_back)
        for service, ci, day, hour, hours in outages:
            down = first.replace(day=day, hour=hour)
            up = down + timedelta(hours=hours)
            clock.set(down)
            number = report_outage(itsm, service, ci)
            clock.set(up)
            restore(itsm, number)
            lines.append(f"{number}  {service:<15} down {down:%Y-%m-%d %H:%M %Z} for {hours:g} h")
    return lines


def month_start(now: datetime, months_back: int, zone: ZoneInfo = DESK_ZONE) -> datetime:
    """The first moment of the month `months_back` before the one `now` is in, on `zone`'s
    calendar (the moment is aware, in `zone`)."""
    local = now.astimezone(zone)
    year, month = divmod(local.year * 12 + local.month - 1 - months_back, 12)
    return datetime(year, month + 1, 1, tzinfo=zone)


def report_outage(itsm: Connector, service: str, ci: str | None = None, **fields: Any) -> str:
    """A user service restoration request for an outage of `service`, taken on at once by the
    service desk (`fields` change that)."""
    values: dict[str, Any] = {
        "summary": f"{service} unavailable",
        "service": service,
        "ci": ci,
        "customer": "Maya",
        "company": "Calbro Services",
        "impact": Impact.SIGNIFICANT,
        "urgency": Urgency.HIGH,
        "status": IncidentStatus.IN_PROGRESS,
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "reported_source": ReportedSource.PHONE,
        "assigned_group": "Service Desk",
        "assignee": "Allen",
    }
    created = itsm.create(IncidentRequest(**{**values, **fields}))
    assert created.id is not None
    return created.id


def restore(itsm: Connector, number: str) -> None:
    """Resolve the request: service restored (each platform's own status reason)."""
    reason = "No Further Action Required" if itsm.platform == "remedy" else "Solution provided"
    changes = {"status_reason": reason, "resolution": "Service restored"}
    itsm.update(IncidentRequest, number, {"status": IncidentStatus.RESOLVED, **changes})
