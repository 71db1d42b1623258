"""The catalogue of procedures: each with its SMPM reference, its triggers and its entry points.

A procedure module declares one `Procedure`; `procedures.catalog` collects them. The runtime
looks procedures up here by name (`smpm run incident.assignment`), and `smpm procedures` prints
this table, so the names people type match the process model's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from connector.base import Connector
from procedures.directory import Directory
from procedures.plan import Plan

if TYPE_CHECKING:
    from procedures.config import ProceduresConfig


@dataclass
class Context:
    """What a procedure run gets: a connector to read through, its settings, and the time.

    `settled(triggers)` answers which of these decision triggers were already carried out in
    full by earlier runs (the executor's record), so a procedure can skip reading data for
    decisions that would only be skipped anyway. It is an optimisation, never a correctness
    need: the executor skips settled actions by their idempotency keys regardless.
    """

    connector: Connector
    config: ProceduresConfig
    now: datetime
    trigger: str = "manual"
    settled: Callable[[Iterable[str]], set[str]] = field(default=lambda triggers: set(), repr=False)
    _directory: Directory | None = field(default=None, repr=False)

    def directory(self) -> Directory:
        """Services and groups with their people, read once per run however often asked."""
        if self._directory is None:
            self._directory = Directory.load(self.connector, self.config.contacts)
        return self._directory


@dataclass(frozen=True)
class Procedure:
    name: str
    process: str
    number: int
    title: str
    triggers: tuple[str, ...]
    run: Callable[[Context], Plan] | None
    explain: Callable[[Context, str], Plan] | None = field(default=None)

    @property
    def reference(self) -> str:
        """How the process model names it: 'Incident Management, Procedure 2, ...'."""
        return f"{self.process}, Procedure {self.number}, {self.title}"

    @property
    def short(self) -> str:
        """How reasons cite it: 'P2 Incident Request Assignment'."""
        return f"P{self.number} {self.title}"


class UnknownProcedure(KeyError):
    def __str__(self) -> str:
        return f"no procedure named {self.args[0]!r}; `smpm procedures` lists them"
