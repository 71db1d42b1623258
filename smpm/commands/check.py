"""`smpm check`: can smpm reach the ITSM, log in, and find every mapped form and field?"""

from __future__ import annotations

import click

from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    TLSError,
    Unavailable,
)
from connector.http import safe_url
from connector.remedy.check import FormCheck, check_forms
from connector.servicenow import ServiceNowConnector
from connector.servicenow.check import ChoiceCheck, TableCheck, check_choices, check_tables
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
        where = safe_url(connector.base_url)  # never a user:password@ (settings refuse one)
        click.echo(f"Checking {settings.platform} at {where} as {who}")
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
        choices: list[ChoiceCheck] = []
        if isinstance(connector, ServiceNowConnector):
            results: list[FormCheck | TableCheck] = list(check_tables(connector))
            if all(r.ok for r in results):  # the choice lists of tables that exist
                choices = list(check_choices(connector))
        else:
            results = list(check_forms(connector))
        for result in results:
            click.echo(_line(result))
        for choice in choices:
            click.echo(_choice_line(choice))
    bad = [r for r in results if not r.ok]
    if bad:
        _fail(f"{len(bad)} of {len(results)} forms have problems; fix the mapping or the server")
    wrong = [c for c in choices if not c.ok]
    if wrong:
        _fail(f"{len(wrong)} of {len(choices)} choice lists lack values the mapping writes")
    click.echo(f"All {len(results)} mapped forms and their fields exist.")
    if choices:
        click.echo(f"All {len(choices)} mapped choice lists have the values smpm writes.")


def _line(result: FormCheck | TableCheck) -> str:
    if result.error:
        return f"  FAIL  {result.form} ({result.purpose}): {result.error}"
    if result.missing:
        missing = ", ".join(repr(m) for m in result.missing)
        return f"  FAIL  {result.form} ({result.purpose}): missing fields {missing}"
    return f"  ok    {result.form} ({result.purpose}): {len(result.fields)} fields"


def _choice_line(check: ChoiceCheck) -> str:
    where = f"{check.form}.{check.fields[0]} ({check.purpose})"
    if check.error:
        return f"  FAIL  {where}: {check.error}"
    lines = []
    if check.missing:
        values = ", ".join(repr(v) for v in check.missing)
        lines.append(f"  FAIL  {where}: the mapping writes {values}, not an active choice here")
    if check.unread:
        values = ", ".join(repr(v) for v in check.unread)
        lines.append(
            f"  warn  {where}: the instance also has {values}, which smpm reads as unknown; "
            "map them in [mapping.enums] (read_aliases)"
        )
    return "\n".join(lines) or f"  ok    {where}"


def _fail(message: str) -> None:
    raise click.ClickException(message)
