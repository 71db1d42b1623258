"""One module per CLI topic; each exposes click commands that `smpm.cli` registers."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from connector.errors import SmpmError
from smpm.settings import Settings, load_settings
from smpm.store import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliState:
    """What the top-level options decided, handed to every command."""

    config: Path | None
    verbose: int
    loaded: Settings | None = None  # the last settings loaded: errors found later name origins

    def settings(self, **overrides: Any) -> Settings:
        self.loaded = load_settings(self.config, **overrides)
        return self.loaded


_CANNOT_LISTEN = {
    errno.EADDRINUSE: "the address is already in use; stop what listens there or choose "
    "another {port}",
    errno.EACCES: "permission denied (ports below 1024 need privileges); choose another {port}",
    errno.EADDRNOTAVAIL: "this machine has no such address; choose another {host}",
}


@contextmanager
def listen_errors(
    host: str, port: int, *, port_option: str = "--port", host_option: str = "--host"
) -> Iterator[None]:
    """A socket that cannot be bound ends the command with one line naming host and port and
    what to change (the options or settings named), not with a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _CANNOT_LISTEN:
            raise
        shown = f"[{host}]" if ":" in host else host
        what = _CANNOT_LISTEN[exc.errno].format(port=port_option, host=host_option)
        raise click.ClickException(f"cannot listen on {shown}:{port}: {what}") from None


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn smpm's own errors into a clean one-line message and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SmpmError as exc:
            raise click.ClickException(_told(exc)) from None

    return wrapper


def _told(exc: SmpmError) -> str:
    """The message, with where `database.url` was set when the store it names cannot be
    opened (the settings were valid, so only the loaded settings know the origin)."""
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(CliState) if ctx is not None else None
    if isinstance(exc, StoreUnavailable) and state is not None and state.loaded is not None:
        return f"{state.loaded.where('database', 'url')}: {exc}"
    return str(exc)


class UtcMoment(click.ParamType):
    """A moment on the command line: a date (00:00 UTC that day) or an RFC 3339 time with its
    zone (Z or an offset), converted to UTC.

    A time without a zone is refused rather than guessed: it could mean UTC or the operator's
    local time, hours apart, and the audit log or a report would silently answer another
    question.
    """

    name = "DATE|TIME"
    HELP = "A date means 00:00 UTC; a time needs its zone, e.g. 2026-11-25T09:00Z or +01:00."

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.fail(f"{value.isoformat()!r} has no zone", param, ctx)
            return value.astimezone(UTC)
        text = str(value).strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(), UTC)
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is neither a date (2026-11-25) nor an RFC 3339 time "
                "(2026-11-25T09:00:00Z)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            self.fail(
                f"{text!r} has no zone: add Z for UTC or an offset such as +01:00", param, ctx
            )
        return moment.astimezone(UTC)
