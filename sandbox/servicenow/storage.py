"""SQLite tables of the ServiceNow face, in the sandbox's database file beside the AR ones.

One table per hierarchy root, `sn_<root>` (`sn_task`, `sn_cmdb_ci`, `sn_sys_user`, ...), with a
column per element of every class in it, an autoincrement `_row` giving creation order (the
default order, so paging never skips or repeats rows while rows are being added), and indexes on
the columns queries filter by. Columns added to the definitions later are added to a kept file.

sys_ids are 32 lowercase hex digits whose first eight count up from `a0000000`: they look like
the platform's, and a scan in `ORDERBYsys_id` (PySNC's default order) also sees new rows last.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sandbox.servicenow.schema import SCHEMA, Schema
from sandbox.store import Store

SYS_ID_BASE = 0xA0000000


def quoted(name: str) -> str:
    """A column name from the definitions as an SQL identifier."""
    assert name.replace("_", "").isalnum(), name
    return f'"{name}"'


class SnStore:
    """Rows of the served tables: dicts of column -> stored value."""

    def __init__(self, store: Store, schema: Schema = SCHEMA) -> None:
        self.store = store
        self.schema = schema
        self._create()

    # -- schema -------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        return [t.name for t in self.schema.tables.values() if t.parent is None]

    def _create(self) -> None:
        with self.store.transaction() as conn:
            for root in self.roots():
                table = f"sn_{root}"
                columns = self.schema.storage_columns(root)
                body = ", ".join(f"{quoted(c)} {t}" for c, t in columns.items() if c != "sys_id")
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (_row INTEGER PRIMARY KEY AUTOINCREMENT,"
                    f" sys_id TEXT NOT NULL UNIQUE, {body})"
                )
                known = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for column, sql_type in columns.items():
                    if column not in known:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {quoted(column)} {sql_type}")
                for column in self._indexed(root):
                    name = f"ix_{table}_{column}"
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table}({quoted(column)})")

    def _indexed(self, root: str) -> list[str]:
        out = ["sys_class_name"] if self.schema.is_hierarchy(root) else []
        for name in self.schema.classes(root):
            out += [c for c in self.schema[name].indexes if c not in out]
        return out

    # -- ids ------------------------------------------------------------------------------------
    def sys_ids(self, count: int = 1) -> list[str]:
        first = self.store.reserve("sn:sys_id", count)
        return [f"{SYS_ID_BASE + first + i:08x}{secrets.token_hex(12)}" for i in range(count)]

    def numbers(self, table: str, count: int = 1) -> list[str]:
        """`INC0010001`-style numbers: the table's prefix and seven digits [1.3]."""
        defined = self.schema[table]
        first = self.store.reserve(f"sn:number:{table}", count, start=defined.number_start)
        return [f"{defined.prefix}{first + i:07d}" for i in range(count)]

    # -- rows -------------------------------------------------------------------------------------
    def insert(self, table: str, row: dict[str, Any]) -> None:
        self.store.insert(self.schema.storage(table), {quoted(k): v for k, v in row.items()})

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        self.store.insert_many(self.schema.storage(table), [quoted(c) for c in columns], rows)

    def update(self, table: str, sys_id: str, changes: dict[str, Any]) -> None:
        row = {quoted(k): v for k, v in changes.items()}
        self.store.update(self.schema.storage(table), "sys_id = ?", [sys_id], row)

    def delete(self, table: str, sys_id: str) -> None:
        self.store.delete(self.schema.storage(table), "sys_id = ?", [sys_id])

    def get(self, table: str, sys_id: str) -> dict[str, Any] | None:
        found = self.where(table, "sys_id = ?", [sys_id])
        return found[0] if found else None

    def where(
        self, table: str, condition: str = "1", params: Sequence[Any] = (), order: str = "_row"
    ) -> list[dict[str, Any]]:
        """Rows of `table` (its classes included) matching an SQL condition built in code."""
        scope, scope_params = self.class_filter(table)
        sql = (
            f"SELECT * FROM {self.schema.storage(table)} "
            f"WHERE {scope} AND ({condition}) ORDER BY {order}"
        )
        return [dict(r) for r in self.store.select(sql, [*scope_params, *params])]

    def first(self, table: str, **equals: Any) -> dict[str, Any] | None:
        terms = " AND ".join(f"{quoted(k)} = ?" for k in equals) or "1"
        found = self.where(table, terms, list(equals.values()))
        return found[0] if found else None

    def class_filter(self, table: str, alias: str = "") -> tuple[str, list[str]]:
        """The SQL that keeps a table's own classes in its hierarchy's storage table."""
        if not self.schema.is_hierarchy(table) or self.schema[table].parent is None:
            return "1", []
        classes = self.schema.classes(table)
        marks = ", ".join("?" for _ in classes)
        return f"{alias}sys_class_name IN ({marks})", list(classes)

    def exists(self, table: str, sys_id: str) -> bool:
        """Whether any class stored with `table` has this sys_id (they share one index)."""
        sql = f"SELECT 1 FROM {self.schema.storage(table)} WHERE sys_id = ?"
        return bool(self.store.select(sql, [sys_id]))
