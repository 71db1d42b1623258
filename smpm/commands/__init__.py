"""One module per CLI topic; each exposes click commands that `smpm.cli` registers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from connector.errors import SmpmError
from smpm.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliState:
    """What the top-level options decided, handed to every command."""

    config: Path | None
    verbose: int

    def settings(self, **overrides: Any) -> Settings:
        return load_settings(self.config, **overrides)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn smpm's own errors into a clean one-line message and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SmpmError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper
