"""`smpm procedures`, `smpm run`, `smpm explain`, `smpm audit`: the procedure engine by hand."""

from __future__ import annotations

from datetime import datetime

import click

from procedures.catalog import PROCEDURES
from smpm.audit_log import audit_rows
from smpm.commands import CliState, UtcMoment, reports_errors
from smpm.render import findings_table, report_json, report_table, rows_json, rule_of, table
from smpm.runner import explain_record, run_procedure
from smpm.store import open_engine

NAMES = click.Choice(sorted(PROCEDURES))


@click.command("procedures")
def list_procedures() -> None:
    """List every procedure with its SMPM reference and what triggers it."""
    rows = [(p.name, p.reference, "; ".join(p.triggers)) for p in PROCEDURES.values()]
    click.echo(table(("name", "SMPM reference", "triggers"), rows, 70))


@click.command()
@click.argument("name", type=NAMES)
@click.option("--dry-run", is_flag=True, help="Show what would be done and why; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON for scripts.")
@click.pass_obj
@reports_errors
def run(state: CliState, name: str, dry_run: bool, as_json: bool) -> None:
    """Run one procedure now against the configured ITSM.

    Every action is applied once (idempotency keys) and recorded in the audit log; with
    --dry-run the plan is printed and nothing is written anywhere.
    """
    report = run_procedure(state.settings(), name, dry_run=dry_run)
    click.echo(report_json(report) if as_json else report_table(report))
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} action(s) failed; see above")


@click.command()
@click.argument("name", type=NAMES)
@click.option("--record", "record_id", required=True, help="Record id, e.g. INC000000000123.")
@click.pass_obj
@reports_errors
def explain(state: CliState, name: str, record_id: str) -> None:
    """Show, for one record, which rule of a procedure matches and why (the rule tester).

    Reads the record and the organisation from the ITSM, writes nothing.
    """
    plan = explain_record(state.settings(), name, record_id)
    click.echo(findings_table(plan))
    for action in plan.actions:
        click.echo(f"  would {action.kind.value}: {action.summary()}")


@click.command()
@click.option("--procedure", help="Only this procedure (e.g. incident.tracking).")
@click.option("--record", help="Only actions on this record id.")
@click.option("--outcome", type=click.Choice(["applied", "failed", "recovered", "blocked"]))
@click.option(
    "--since",
    type=UtcMoment(),
    help=f"Only actions at or after this moment. {UtcMoment.HELP}",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON.")
@click.pass_obj
@reports_errors
def audit(
    state: CliState,
    procedure: str | None,
    record: str | None,
    outcome: str | None,
    since: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the audit log: every action smpm took, when, on what, why, and how it ended."""
    engine = open_engine(state.settings().database.url)
    rows = list(
        audit_rows(
            engine, procedure=procedure, record=record, outcome=outcome, since=since, limit=limit
        )
    )
    if as_json:
        click.echo(rows_json(rows))
        return
    click.echo(
        table(
            ("at (UTC)", "procedure", "action", "target", "outcome", "reason"),
            (
                (
                    f"{r['at']:%Y-%m-%d %H:%M:%S}",
                    r["procedure"],
                    r["action"],
                    f"{r['target_kind']} {r['target_id'] or ''}",
                    r["outcome"],
                    r["detail"] or rule_of(r["reason"]),
                )
                for r in rows
            ),
            70,
        )
    )
