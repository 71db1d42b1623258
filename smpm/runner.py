"""Run one procedure now: check the settings against the ITSM, decide, apply (or just show).

Used by `smpm run`, `smpm explain`, the scheduler and the webhook workers, so every trigger goes
through the same checks and the same executor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from connector.base import Connector
from connector.entities import Person
from connector.errors import ConfigurationError
from connector.filters import Field
from procedures.catalog import procedure
from procedures.directory import Directory
from procedures.plan import Plan
from procedures.registry import Context
from smpm.executor import Executor, RunReport
from smpm.notify import build_notifier
from smpm.platforms import session
from smpm.reports.files import write_report
from smpm.settings import Settings
from smpm.store import open_engine, settled_triggers, utcnow

log = logging.getLogger("smpm.runner")


def check_against_itsm(
    settings: Settings, connector: Connector, directory: Directory, procedure: str = ""
) -> None:
    """Names in the settings that the ITSM does not know stop the run, naming file and line:
    the Incident Management groups and the roster always, and the groups `procedure` assigns
    work to."""
    problems = list(_unknown_groups(settings, directory, procedure))
    problems += list(_unknown_people(settings, connector))
    if problems:
        raise ConfigurationError(
            "settings name things the ITSM does not have:\n  " + "\n  ".join(problems)
        )


Named = list[tuple[tuple[str | int, ...], str | None]]


def _groups_of(settings: Settings, procedure: str) -> Named:
    """The support groups `procedure` assigns work to, with where each is set."""
    capacity, review = settings.capacity, settings.problem.review
    rows: Named = [
        (("capacity", "overview", i, "specialist_group"), row.specialist_group)
        for i, row in enumerate(capacity.overview)
    ]
    rows.append((("capacity", "specialist_group"), capacity.specialist_group))
    availability: Named = [
        (("availability", "slas", i, "specialist_group"), sla.specialist_group)
        for i, sla in enumerate(settings.availability.slas)
    ]
    availability.append(
        (("availability", "specialist_group"), settings.availability.specialist_group)
    )
    by_procedure: dict[str, Named] = {
        "availability.tracking": availability,
        "capacity.tracking": rows,
        "capacity.warning_handling": [
            *rows,
            (("capacity", "capacity_group"), capacity.capacity_group),
            (("capacity", "monitoring_group"), capacity.monitoring_group),
        ],
        "problem.incident_review": [
            (("problem", "review", "specialist_group"), review.specialist_group),
            *[
                (("problem", "review", "rules", i, "group"), r.group)
                for i, r in enumerate(review.rules)
            ],
        ],
    }
    return by_procedure.get(procedure, [])


def _unknown_groups(settings: Settings, directory: Directory, procedure: str) -> Iterable[str]:
    assignment = settings.incident.assignment
    named: Named = [
        (("incident", "assignment", "rules", i, "group"), rule.group)
        for i, rule in enumerate(assignment.rules)
    ]
    named += _groups_of(settings, procedure)
    if assignment.default_group:
        named.append((("incident", "assignment", "default_group"), assignment.default_group))
    if settings.incident.tracking.unassigned_group:
        loc = ("incident", "tracking", "unassigned_group")
        named.append((loc, settings.incident.tracking.unassigned_group))
    known = sorted(directory.groups)
    for loc, group in named:
        if group is not None and group not in directory.groups:
            yield (
                f"{settings.where(*loc)}: {'.'.join(map(str, loc))}: unknown support group "
                f"{group!r}; the ITSM has {', '.join(known) or 'none'}"
            )


def _unknown_people(settings: Settings, connector: Connector) -> Iterable[str]:
    logins = sorted(settings.roster.logins())
    if not logins:
        return
    found = {p.login for p in connector.find(Person, Field("login").one_of(*logins))}
    for login in logins:
        if login not in found:
            yield f"{settings.where('roster')}: roster: {login!r} is not a person in the ITSM"


def run_procedure(
    settings: Settings,
    name: str,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    trigger: str | None = None,
    connector: Connector | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> RunReport:
    """Decide with the named procedure and apply the plan (or only plan it, for a dry run).

    The procedure decides as of `now` (default: `clock()`); the executor stamps its audit
    records with `clock`, which the demo replaces with its own."""
    spec = procedure(name)
    if spec.run is None:
        raise ConfigurationError(
            f"{name} runs on events, not on demand: {'; '.join(spec.triggers)}"
        )
    moment = now or clock()
    with _connector(settings, connector) as c:
        # Opened once the connector's settings (a password) are known good: a run refused for
        # them leaves no state database behind.
        engine = open_engine(settings.database.url)
        try:
            ctx = Context(
                c,
                settings.procedures(),
                moment,
                trigger or f"manual:{moment.isoformat()}",
                settled=lambda triggers: settled_triggers(engine, name, triggers),
            )
            check_against_itsm(settings, c, ctx.directory(), name)
            plan = spec.run(ctx)
            notifier = build_notifier(settings.notify, c)
            report = Executor(c, engine, notifier=notifier, clock=clock).apply(
                plan, dry_run=dry_run
            )
            if not dry_run:
                publish(plan, settings, moment)
            return report
        finally:
            engine.dispose()


def publish(plan: Plan, settings: Settings, moment: datetime) -> list[Path]:
    """A plan that carries a report (Capacity Tracking's overview) has it written to
    `[reports] folder` once its actions are applied."""
    table = getattr(plan, "report", None)
    if table is None:
        return []
    paths = write_report(table, settings.reports.folder, moment)
    for path in paths:
        log.info("wrote %s", path)
    return paths


def explain_record(
    settings: Settings,
    name: str,
    record_id: str,
    *,
    now: datetime | None = None,
    connector: Connector | None = None,
) -> Plan:
    """Which rule matches one record and why; writes nothing."""
    spec = procedure(name)
    if spec.explain is None:
        raise ConfigurationError(
            f"{name} has no per-record explanation; {instead_of_explain(name)}"
        )
    with _connector(settings, connector) as c:
        return spec.explain(
            Context(c, settings.procedures(), now or utcnow(), f"explain:{record_id}"), record_id
        )


def instead_of_explain(name: str) -> str:
    """A command that shows why `name` decides as it does, for a procedure that cannot explain
    one record; it must work as typed, so a procedure that runs only on events (Event
    Handling) or only as a review is not sent to `smpm run`."""
    spec = procedure(name)
    if spec.run is None:
        return (
            f"it decides each event as it arrives ({'; '.join(spec.triggers)}): `smpm events` "
            "lists the stored events and how each was decided"
        )
    review = next((t for t in spec.triggers if t.startswith("smpm review ")), None)
    if review is not None:
        return f"`{review}` writes its report with its findings and changes nothing in the ITSM"
    return f"`smpm run {name} --dry-run` shows what it would do and why, and writes nothing"


@contextmanager
def _connector(settings: Settings, given: Connector | None) -> Iterator[Connector]:
    if given is not None:
        yield given
        return
    with session(settings) as c:
        yield c
