"""Workflow hooks: what an ITSM server does around the plain AR entry operations.

A form without hooks behaves as a plain AR form: entries are stored as sent, with core fields.
ITSM forms (incidents, problems, changes, work logs, associations, CIs) plug in `Hooks`
subclasses that validate, fill in, compute and create related entries, all within the request's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from sandbox.forms import Form
from sandbox.tx import Tx

Record = dict[str, Any]


class Hooks:
    """Plain AR behaviour; subclasses name the forms they handle in `forms`."""

    forms: ClassVar[tuple[str, ...]] = ()

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        return tx.insert(form, record)

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        tx.update(form, old, changes)

    def delete(self, tx: Tx, form: Form, old: Record) -> None:
        tx.delete(form, old)

    def before_read(self, tx: Tx, form: Form) -> None:
        """Bring time-driven state up to date (AR escalations) before a read."""


class Workflow:
    def __init__(self, hooks: Iterable[Hooks]) -> None:
        self._plain = Hooks()
        self._by_form = {name: h for h in hooks for name in h.forms}

    def hooks(self, form: Form) -> Hooks:
        return self._by_form.get(form.name, self._plain)

    def before_read(self, tx: Tx, form: Form) -> None:
        self.hooks(form).before_read(tx, form)
