"""Record-level reads and writes for one request: who is asking, and what time it is.

Workflow code works on *records* (field name -> value, enum labels, dates as epoch seconds) and
never sees columns or SQL. `Tx` applies AR's core-field behaviour on every write [reference 4.3]:
field 1 (the entry id) from a counter, 2 Submitter, 3 create date, 5 Last Modified By, 6 modified
date, 7 Status defaulting to the first label, 179 an instance id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sandbox.fields import FieldDef, FieldType, from_db, to_db
from sandbox.forms import FORMS, Form
from sandbox.store import Store

FormRef = Form | str


def instance_id(prefix: str = "AG") -> str:
    """A 30-character AR GUID such as `IDGAI7ZXDK9WFAR3TQUXR2U0M5AZH4`."""
    return (prefix + uuid.uuid4().hex.upper())[:30]


class Tx:
    def __init__(self, store: Store, user: str, now: int) -> None:
        self.store = store
        self.user = user
        self.now = now

    @staticmethod
    def form(ref: FormRef) -> Form:
        return ref if isinstance(ref, Form) else FORMS[ref]

    # -- reading ------------------------------------------------------------------------------
    def rows(
        self,
        ref: FormRef,
        where: str = "1",
        params: Sequence[Any] = (),
        *,
        fields: Sequence[FieldDef] | None = None,
        order: str = "rowid ASC",
        limit: int = -1,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        form = self.form(ref)
        chosen = list(fields or form.fields)
        columns = ", ".join(f"{f.sql} AS a{i}" for i, f in enumerate(chosen))
        where, params = self._scoped(form, where, params)
        sql = f"SELECT {columns} FROM {form.table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        found = self.store.select(sql, [*params, limit, offset])
        return [{f.name: from_db(f, row[i]) for i, f in enumerate(chosen)} for row in found]

    def find(self, ref: FormRef, **equals: Any) -> list[dict[str, Any]]:
        """Records whose fields equal the given values (record values: labels, epoch seconds)."""
        form = self.form(ref)
        terms, params = [], []
        for name, value in equals.items():
            field = form.by_name[name]
            terms.append(f"{field.sql} = ?")
            params.append(to_db(field, value))
        return self.rows(form, " AND ".join(terms) or "1", params)

    def first(self, ref: FormRef, **equals: Any) -> dict[str, Any] | None:
        found = self.find(ref, **equals)
        return found[0] if found else None

    def count(self, ref: FormRef, where: str = "1", params: Sequence[Any] = ()) -> int:
        form = self.form(ref)
        where, params = self._scoped(form, where, params)
        rows = self.store.select(f"SELECT COUNT(*) FROM {form.table} WHERE {where}", params)
        return int(rows[0][0])

    @staticmethod
    def _scoped(form: Form, where: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
        if form.scope is None:
            return where, list(params)
        field = form.by_name[form.scope[0]]
        return f"({where}) AND {field.sql} = ?", [*params, form.scope[1]]

    # -- writing ------------------------------------------------------------------------------
    def insert(
        self, ref: FormRef, record: dict[str, Any], internal: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Store a new entry with core fields filled in; returns the full record.

        `internal` sets the form's internal columns (state the API does not show)."""
        form = self.form(ref)
        values = {k: v for k, v in record.items() if v is not None}
        self._fill_core(form, values)
        row = {
            f.column: to_db(f, values[f.name]) for f in form.fields if f.column and f.name in values
        }
        self.store.insert(form.table, {**row, **(internal or {})})
        return {f.name: values.get(f.name) for f in form.fields}

    def update(self, ref: FormRef, old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Write `changes` to the entry `old` (touching fields 5 and 6); returns the new record."""
        form = self.form(ref)
        changes = dict(changes)
        for field in form.fields:
            if field.id == 5:
                changes[field.name] = self.user
            elif field.id == 6:
                changes[field.name] = self.now
        row = {
            f.column: to_db(f, changes[f.name])
            for f in form.fields
            if f.column and f.name in changes
        }
        key = form.key_field
        self.store.update(form.table, f"{key.sql} = ?", [old[form.key]], row)
        return {**old, **changes}

    def delete(self, ref: FormRef, old: dict[str, Any]) -> None:
        form = self.form(ref)
        self.store.delete(form.table, f"{form.key_field.sql} = ?", [old[form.key]])

    def next_number(self, counter: str, prefix: str = "", width: int = 12, start: int = 1) -> str:
        """`INC000000000001`-style ids: prefix plus a zero-padded counter."""
        return f"{prefix}{self.store.reserve(counter, 1, start):0{width}d}"

    def _fill_core(self, form: Form, values: dict[str, Any]) -> None:
        if form.scope is not None:
            values[form.scope[0]] = form.scope[1]
        for field in form.fields:
            if values.get(field.name) is not None or field.column is None:
                continue
            default = self._core_default(form, field)
            if default is not None:
                values[field.name] = default

    def _core_default(self, form: Form, field: FieldDef) -> Any:
        if field.name == form.key:
            prefix = form.key_prefix
            return self.next_number(form.table, prefix, width=15 - len(prefix))
        if field.id in (2, 5):
            return self.user
        if field.id in (3, 6):
            return self.now
        if field.id == 7 and field.type is FieldType.ENUM and field.selection:
            return field.selection.labels[0]
        if field.id == 179:
            return instance_id()
        return None
