"""Record operations of the Table API apart from HTTP: list, get, insert, update, delete [1.1].

Body values are read as the platform reads them: unknown fields, system fields and values a
column cannot hold are ignored [1.1]; journal fields become `sys_journal_field` entries [2.9];
with `sysparm_input_display_value=true` a reference may be given by its display value and a
choice by its label [1.2]. `sys_created_*`, `sys_updated_*` and `sys_mod_count` are kept, and
an update that changes nothing is not written. Each operation is one transaction, business
rules and SLA tracking included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.servicenow import journal, sla
from sandbox.servicenow.datefuncs import Context
from sandbox.servicenow.encoded_query import Query
from sandbox.servicenow.query_sql import Compiler
from sandbox.servicenow.rules import Rules
from sandbox.servicenow.schema.model import READ_ONLY, REFERENCE, Column
from sandbox.servicenow.storage import SnStore
from sandbox.servicenow.values import BadValue, format_time, plain, to_db

Row = dict[str, Any]
SYS_ID = re.compile(r"^[0-9a-f]{32}$")
CASCADE = {  # deleting a record of the key's hierarchy deletes rows naming it (table, field)
    "task": (("task_sla", "task"), ("task_ci", "task")),
    "cmdb_ci": (("cmdb_rel_ci", "parent"), ("cmdb_rel_ci", "child"), ("task_ci", "ci_item")),
    "sys_user": (("sys_user_grmember", "user"),),
    "sys_user_group": (("sys_user_grmember", "group"),),
}


@dataclass(frozen=True)
class Actor:
    """Who writes, and when."""

    user_name: str
    user_id: str
    now: int

    def context(self) -> Context:
        return Context(self.now, self.user_name, self.user_id)


class Records:
    def __init__(self, sn: SnStore) -> None:
        self.sn = sn
        self.schema = sn.schema
        self.rules = Rules(sn)
        self._refreshed: int | None = None

    # -- reading ----------------------------------------------------------------------------
    def prepare_read(self, table: str, now: int) -> None:
        """Reads of task_sla first bring the running SLAs up to date [2.6]."""
        if table == "task_sla" and self._refreshed != now:
            sla.refresh(self.sn, now)
            self._refreshed = now

    def query(
        self,
        table: str,
        query: Query,
        context: Context,
        *,
        limit: int,
        offset: int,
        count: bool,
        strict: bool = False,
    ) -> tuple[list[Row], int | None]:
        """A page of rows in the query's order, and the total when `count` is asked for."""
        compiler = Compiler(table, context, self.schema)
        where = compiler.where(query, strict=strict)
        scope, scope_params = self.sn.class_filter(table, "t.")
        base = f"FROM {self.schema.storage(table)} t WHERE {scope} AND ({where.text})"
        params = [*scope_params, *where.params]
        sql = f"SELECT t.* {base} ORDER BY {compiler.order(query)} LIMIT ? OFFSET ?"
        rows = [dict(r) for r in self.sn.store.select(sql, [*params, limit, offset])]
        total = None
        if count:
            total = int(self.sn.store.select(f"SELECT COUNT(*) {base}", params)[0][0])
        return rows, total

    def get(self, table: str, sys_id: str) -> Row | None:
        return self.sn.get(table, sys_id)

    # -- writing ----------------------------------------------------------------------------
    def insert(self, table: str, body: dict[str, Any], actor: Actor, *, display: bool) -> Row:
        columns = self.schema.columns(table)
        changes, notes = self.read_body(table, body, display)
        stamp = format_time(actor.now)
        with self.sn.store.transaction():
            row: Row = {}
            for name, column in columns.items():
                if column.default and not column.is_journal:
                    row[name] = to_db(column, column.default)
            row |= changes
            given = plain(body.get("sys_id", "")).lower()
            fresh = SYS_ID.match(given) and not self.sn.exists(table, given)
            row["sys_id"] = given if fresh else self.sn.sys_ids()[0]
            if "sys_class_name" in columns:
                row["sys_class_name"] = table
            if self.schema[table].prefix and not row.get("number"):
                row["number"] = self.sn.numbers(table)[0]
            row |= {
                "sys_created_on": stamp,
                "sys_created_by": actor.user_name,
                "sys_updated_on": stamp,
                "sys_updated_by": actor.user_name,
                "sys_mod_count": 0,
            }
            self.rules.before_insert(table, row, actor.user_id, actor.now)
            self.sn.insert(table, row)
            self._journal(table, row["sys_id"], notes, actor)
            self._after(table, None, row, actor)
            return self.sn.get(table, row["sys_id"]) or row

    def update(
        self, table: str, sys_id: str, body: dict[str, Any], actor: Actor, *, display: bool
    ) -> Row | None:
        changes, notes = self.read_body(table, body, display)
        with self.sn.store.transaction():
            old = self.sn.get(table, sys_id)
            if old is None:
                return None
            self.rules.before_update(table, old, changes, actor.user_id, actor.now)
            changes = {k: v for k, v in changes.items() if old.get(k) != v}
            if not changes and not notes:
                return old
            changes |= {
                "sys_updated_on": format_time(actor.now),
                "sys_updated_by": actor.user_name,
                "sys_mod_count": (old.get("sys_mod_count") or 0) + 1,
            }
            self.sn.update(table, sys_id, changes)
            self._journal(table, sys_id, notes, actor)
            new = {**old, **changes}
            self._after(table, old, new, actor)
            return self.sn.get(table, sys_id) or new

    def delete(self, table: str, sys_id: str) -> bool:
        with self.sn.store.transaction():
            old = self.sn.get(table, sys_id)
            if old is None:
                return False
            self.sn.delete(table, sys_id)
            for other, field in CASCADE.get(self.schema.root(table), ()):
                storage = self.schema.storage(other)
                self.sn.store.execute(f'DELETE FROM {storage} WHERE "{field}" = ?', [sys_id])
            self.rules.after_write(table, old, {})
            return True

    # -- helpers --------------------------------------------------------------------------------
    def _after(self, table: str, old: Row | None, new: Row, actor: Actor) -> None:
        self.rules.after_write(table, old, new)
        if new.get("sys_class_name") and table in self.schema.classes("task"):
            sla.track(self.sn, new, actor.context(), actor.user_name)

    def _journal(self, table: str, sys_id: str, notes: dict[str, str], actor: Actor) -> None:
        stamp = format_time(actor.now)
        for element, text in notes.items():
            entry = {
                "sys_id": self.sn.sys_ids()[0],
                "element_id": sys_id,
                "element": element,
                "name": table,
                "value": text,
                "sys_created_on": stamp,
                "sys_created_by": actor.user_name,
                "sys_updated_on": stamp,
                "sys_updated_by": actor.user_name,
                "sys_mod_count": 0,
            }
            journal.append(self.sn, entry)

    def read_body(
        self, table: str, body: dict[str, Any], display: bool
    ) -> tuple[Row, dict[str, str]]:
        """(column changes as stored, journal entries) from a request body."""
        columns = self.schema.columns(table)
        changes: Row = {}
        notes: dict[str, str] = {}
        for name, raw in body.items():
            column = columns.get(name)
            if column is None or name in READ_ONLY or column.type == "journal":
                continue
            text = plain(raw)
            if column.is_journal:
                if text:
                    notes[name] = text
                continue
            if display:
                text = self.from_display(column, text)
            try:
                changes[name] = to_db(column, text)
            except BadValue:
                continue  # "the value is not accepted": ignored [1.1]
        return changes, notes

    def from_display(self, column: Column, text: str) -> str:
        """A display value as the value to store [1.2 sysparm_input_display_value]."""
        if column.choices:
            for value, label in column.choices:
                if text in (value, label):
                    return value
            return text
        if column.type == REFERENCE and column.reference in self.schema and not SYS_ID.match(text):
            target = self.schema[column.reference]  # type: ignore[index]
            found = self.sn.first(target.name, **{target.display: text}) if text else None
            return found["sys_id"] if found else text
        return text
