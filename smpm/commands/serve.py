"""`smpm serve` and `smpm events`: the webhook service and its stored events."""

from __future__ import annotations

from datetime import datetime

import click

from smpm.commands import CliState, UtcMoment, listen_errors, reports_errors
from smpm.render import table


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port to listen on (default: [serve] port, 8080; 0 picks a free one).",
)
@click.pass_obj
@reports_errors
def serve(state: CliState, port: int | None) -> None:
    """Run the webhook service: POST /hooks/{events,alertmanager,remedy,servicenow}.

    Every accepted event is committed to the intake store before the 202 answer; workers then
    run Event Management P1 (monitoring events) or the incident procedures (record changes),
    retrying failures and keeping dead events with their reason. Also GET /healthz, /metrics.
    With [schedule] enabled = true it also runs the scheduled jobs, as `smpm schedule` does.
    """
    from smpm import logs
    from smpm.intake.service import serve as run

    settings = state.settings()
    settings.check_hooks()  # only the command that verifies webhooks needs their secrets
    if port is not None:
        settings = settings.model_copy(
            update={"serve": settings.serve.model_copy(update={"port": port})}
        )
    logs.configure(settings.logging.level, settings.logging.json_format)
    where = {"port_option": "--port (or [serve] port)", "host_option": "[serve] host"}
    with listen_errors(settings.serve.host, settings.serve.port, **where):
        run(settings, ready=lambda url: click.echo(f"smpm webhooks listening on {url}", err=False))


@click.group(invoke_without_command=True)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "processing", "done", "dead"]),
    help="Only these states (repeatable); default: all.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_context
@reports_errors
def events(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """List the stored webhook events: pending, processing, done and dead, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from smpm.intake.store import STATUSES, counts, listing
    from smpm.store import open_engine

    engine = open_engine(ctx.obj.settings().database.url)
    click.echo("  ".join(f"{k}: {v}" for k, v in counts(engine).items()))
    rows = listing(engine, statuses or STATUSES, limit)
    click.echo(
        table(
            ("id", "endpoint", "status", "tries", "received", "subject", "outcome / last error"),
            (
                (
                    r["id"],
                    r["endpoint"],
                    r["status"],
                    r["attempts"],
                    f"{r['received_at']:%Y-%m-%d %H:%M:%S}",
                    r["subject"],
                    r["last_error"] or r["outcome"] or "",
                )
                for r in rows
            ),
            60,
        )
    )


@events.command("retry")
@click.argument("event_id", required=False)
@click.option("--all", "every", is_flag=True, help="Every event in --status, not one by id.")
@click.option(
    "--status",
    type=click.Choice(["dead", "pending"]),
    help="With --all: the events to requeue (dead: after an outage; pending: due at once).",
)
@click.option(
    "--since",
    type=UtcMoment(),
    help=f"With --all: only events received at or after this moment. {UtcMoment.HELP}",
)
@click.pass_obj
@reports_errors
def retry(
    state: CliState,
    event_id: str | None,
    every: bool,
    status: str | None,
    since: datetime | None,
) -> None:
    """Requeue one dead (or waiting) event, or with --all --status dead [--since DATE] every
    dead one (say, after an outage), so the workers take them again with fresh attempts."""
    from smpm.intake.store import requeue, requeue_all
    from smpm.store import open_engine, utcnow

    if every == (event_id is not None):
        raise click.UsageError("name one EVENT_ID, or use --all --status dead")
    if not every and (status or since):
        raise click.UsageError("--status and --since go with --all")
    if every and status is None:
        raise click.UsageError("--all needs --status dead (or pending)")
    engine = open_engine(state.settings().database.url)
    if event_id is not None:
        if not requeue(engine, event_id, utcnow()):
            raise click.ClickException(f"no dead or pending event {event_id!r}; see `smpm events`")
        click.echo(f"event {event_id} is pending again")
        return
    assert status is not None
    ids = requeue_all(engine, status, utcnow(), since)
    after = f" received since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    click.echo(f"{len(ids)} {status} event(s){after} pending again, with fresh attempts")
