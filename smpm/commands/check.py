"""`smpm check`: can smpm reach the ITSM, log in, and find every mapped form and field?"""

from __future__ import annotations

import click

from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    TLSError,
    Unavailable,
)
from connector.remedy_check import FormCheck, check_forms
from connector.servicenow import ServiceNowConnector
from connector.servicenow_check import TableCheck, check_tables
from smpm.commands import CliState, reports_errors
from smpm.platforms import open_connector


@click.command()
@click.pass_obj
@reports_errors
def check(state: CliState) -> None:
    """Connect with the configured settings and verify the mapping against the server.

    Logs in, then asks the server for every form and field the mapping names, and says
    exactly what is wrong: the URL, the credentials, TLS, a missing form or a missing field.
    """
    settings = state.settings()
    with open_connector(settings) as connector:
        who = connector.options.username
        click.echo(f"Checking {settings.platform} at {connector.base_url} as {who}")
        try:
            connector.auth.login()
        except TLSError as exc:
            _fail(f"TLS: {exc}")
        except Unavailable as exc:
            _fail(
                f"cannot reach the server: {exc}. Check {settings.platform}.url and the network "
                "path."
            )
        except AuthenticationFailed as exc:
            _fail(f"login refused: {exc}")
        except ConnectorError as exc:
            _fail(f"login failed: {exc}")
        click.echo("  ok    reachable, logged in")
        if isinstance(connector, ServiceNowConnector):
            results: list[FormCheck | TableCheck] = list(check_tables(connector))
        else:
            results = list(check_forms(connector))
        for result in results:
            click.echo(_line(result))
    bad = [r for r in results if not r.ok]
    if bad:
        _fail(f"{len(bad)} of {len(results)} forms have problems; fix the mapping or the server")
    click.echo(f"All {len(results)} mapped forms and their fields exist.")


def _line(result: FormCheck | TableCheck) -> str:
    if result.error:
        return f"  FAIL  {result.form} ({result.purpose}): {result.error}"
    if result.missing:
        missing = ", ".join(repr(m) for m in result.missing)
        return f"  FAIL  {result.form} ({result.purpose}): missing fields {missing}"
    return f"  ok    {result.form} ({result.purpose}): {len(result.fields)} fields"


def _fail(message: str) -> None:
    raise click.ClickException(message)
