"""The AR server's entry operations, apart from HTTP: list, get, create, update, delete.

This is where a request's field names are checked against the form (AR error 314), values are
converted (306), join ids (`ID|ID`) are resolved to base entries, and the form's workflow hooks
run inside one transaction, so a refused request changes nothing [reference 2.1-2.6].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request, entry_not_found, unknown_field
from sandbox.fields import FieldDef, to_record
from sandbox.forms import FORMS, Form, find_form
from sandbox.query import order_by, selected_fields, where_clause
from sandbox.store import Store
from sandbox.tx import Tx
from sandbox.workflow.base import Workflow


@dataclass(frozen=True)
class Entry:
    """An entry's requested values, and the id that names it in links."""

    values: dict[str, Any]
    link_id: str


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool


@dataclass(frozen=True)
class Created:
    """A new entry; `record` is None on a join form, which generates no entry id [2.5]."""

    form: Form
    record: dict[str, Any] | None


class Engine:
    def __init__(self, store: Store, workflow: Workflow, clock: Callable[[], float]) -> None:
        self.store = store
        self.workflow = workflow
        self.clock = clock

    def tx(self, user: str) -> Tx:
        return Tx(self.store, user, int(self.clock()))

    # -- reading ------------------------------------------------------------------------------
    def list_entries(
        self,
        form_name: str,
        *,
        user: str,
        q: str | None = None,
        fields: str | None = None,
        sort: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page:
        form = find_form(form_name)
        chosen = selected_fields(form, fields) or list(form.fields)
        order = order_by(form, sort)
        tx = self.tx(user)
        where, params = where_clause(form, q, user=user, now=tx.now) if q else ("1", [])
        with self.store.transaction():
            self.workflow.before_read(tx, self.base(form))
            found = tx.rows(
                form,
                where,
                params,
                fields=_with_link(form, chosen),
                order=order,
                limit=limit + 1,
                offset=offset,
            )
        entries = [_entry(form, chosen, record) for record in found[:limit]]
        return Page(entries, len(found) > limit)

    def get_entry(
        self, form_name: str, entry_id: str, *, user: str, fields: str | None = None
    ) -> Entry:
        form = find_form(form_name)
        chosen = selected_fields(form, fields) or list(form.fields)
        tx = self.tx(user)
        with self.store.transaction():
            self.workflow.before_read(tx, self.base(form))
            column, key = self._locate(form, entry_id)
            found = tx.rows(form, f"{column} = ?", [key], fields=_with_link(form, chosen), limit=1)
        if not found:
            raise entry_not_found(entry_id)
        return _entry(form, chosen, found[0])

    # -- writing ------------------------------------------------------------------------------
    def create_entry(self, form_name: str, values: Any, *, user: str) -> Created:
        form = find_form(form_name)
        record = self.incoming(form, values)
        with self.store.transaction():
            tx = self.tx(user)
            base = self.base(form)
            stored = self.workflow.hooks(base).create(tx, base, record)
        return Created(form, None if base is not form else stored)

    def update_entry(self, form_name: str, entry_id: str, values: Any, *, user: str) -> None:
        form = find_form(form_name)
        changes = self.incoming(form, values)
        with self.store.transaction():
            tx = self.tx(user)
            base = self.base(form)
            old = self._existing(tx, form, entry_id)
            self.workflow.hooks(base).update(tx, base, old, changes)

    def delete_entry(self, form_name: str, entry_id: str, *, user: str) -> None:
        form = find_form(form_name)
        with self.store.transaction():
            tx = self.tx(user)
            base = self.base(form)
            old = self._existing(tx, form, entry_id)
            self.workflow.hooks(base).delete(tx, base, old)

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def base(form: Form) -> Form:
        """The form whose workflow handles `form`'s entries: a join's base, unless the join is
        a subclass view (`BMC_BusinessService`) with fields of its own."""
        return FORMS[form.base] if form.is_join and form.base and form.scope is None else form

    @staticmethod
    def incoming(form: Form, values: Any) -> dict[str, Any]:
        """A request's `values` as a record: names checked, values converted, read-only dropped."""
        if not isinstance(values, dict):
            raise bad_request('the body must be a JSON object {"values": {...}}')
        record: dict[str, Any] = {}
        for name, value in values.items():
            field = form.field(str(name))
            if field is None:
                raise unknown_field(str(name), form.name)
            if not field.readonly:
                record[field.name] = to_record(field, value)
        return record

    def _locate(self, form: Form, entry_id: str) -> tuple[str, str]:
        """The column and value that find `entry_id` on `form` (an `ID|ID` join id included)."""
        if form.is_join and form.key == "Request ID" and form.key_field.expr:
            base_key = self.base(form).key_field
            parts = entry_id.split("|")
            if len(parts) == 2 and parts[0] == parts[1]:
                return base_key.sql, parts[0]
            return base_key.sql, entry_id if len(parts) == 1 else "\x00"
        return form.key_field.sql, entry_id

    def _existing(self, tx: Tx, form: Form, entry_id: str) -> dict[str, Any]:
        column, key = self._locate(form, entry_id)
        found = tx.rows(form, f"{column} = ?", [key], fields=self.base(form).fields, limit=1)
        if not found:
            raise entry_not_found(entry_id)
        return found[0]


def _with_link(form: Form, chosen: list[FieldDef]) -> list[FieldDef]:
    return chosen if form.link_field in chosen else [*chosen, form.link_field]


def _entry(form: Form, chosen: list[FieldDef], record: dict[str, Any]) -> Entry:
    values = {f.name: record[f.name] for f in chosen}
    return Entry(values, str(record[form.link_field.name]))
