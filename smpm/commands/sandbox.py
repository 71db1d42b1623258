"""`smpm sandbox`: serve the embedded sandbox ITSM for other tools to talk to."""

from __future__ import annotations

from pathlib import Path

import click

from smpm.commands import listen_errors, reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8008,
    show_default=True,
    help="Port to listen on (8008 is AR System's usual REST port).",
)
@click.option(
    "--seed",
    default="demo",
    show_default=True,
    help="'demo' for the demo organisation, 'empty', or the path of a seed file.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to keep the data in (default: a temporary file).",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0, 60_000),
    default=0,
    show_default=True,
    help="Latency added to every answer.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this certificate (PEM), for clients that speak only HTTPS.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate's private key (PEM); goes with --tls-cert.",
)
@reports_errors
def sandbox(
    host: str,
    port: int,
    seed: str,
    db_path: Path | None,
    latency_ms: int,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the embedded sandbox ITSM: the AR System REST API and ServiceNow Table API subsets
    smpm uses, on SQLite; over HTTPS with --tls-cert and --tls-key.

    Log in as Allen / password (or Demo / demo). Faults and latency can be changed at runtime
    under /__sandbox/ (see sandbox/README.md). Stop with Ctrl-C.
    """
    from sandbox.server import Sandbox, serve

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    tls = (tls_cert, tls_key) if tls_cert and tls_key else None

    def ready(running: Sandbox) -> None:
        click.echo(f"Sandbox ITSM listening on {running.base_url} (seed: {seed}); Ctrl-C to stop")

    with listen_errors(host, port):
        serve(
            host=host,
            port=port,
            seed=seed,
            db_path=db_path,
            latency_ms=latency_ms,
            ready=ready,
            tls=tls,
        )
