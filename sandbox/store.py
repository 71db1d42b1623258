"""SQLite storage: one table per form that owns rows, one column per field.

Join forms read their base form's table, so they need no table of their own. Column names are
`f<field id>` (never a user-chosen name), so no SQL is ever built from request text; values are
always bound parameters. One connection, guarded by a lock, serves every thread: the sandbox is a
test server, and serialising its writes keeps counters and workflow atomic without retry loops.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.fields import SQL_TYPES
from sandbox.forms import Form, FormKind


def table_columns(forms: Iterable[Form]) -> dict[str, dict[str, str]]:
    """Table -> column -> SQL type, gathered from every form that stores in that table."""
    tables: dict[str, dict[str, str]] = {}
    for form in forms:
        columns = tables.setdefault(form.table, {})
        for field in form.fields:
            if field.column is not None:
                columns[field.column] = SQL_TYPES[field.type]
        columns.update(dict(form.internal_columns))
    return tables


class Store:
    """The sandbox database file and the few statements everything else is built from."""

    def __init__(self, path: Path, forms: Sequence[Form]) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "temp_store=MEMORY",
            "cache_size=-65536",
        ):
            self._conn.execute(f"PRAGMA {pragma}")
        self._create_schema(forms)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- schema -------------------------------------------------------------------------------
    def _create_schema(self, forms: Sequence[Form]) -> None:
        statements = [
            "CREATE TABLE IF NOT EXISTS sandbox_counters (name TEXT PRIMARY KEY, value INTEGER)",
            "CREATE TABLE IF NOT EXISTS sandbox_meta (name TEXT PRIMARY KEY, value TEXT)",
        ]
        for table, columns in table_columns(forms).items():
            body = ", ".join(f"{col} {sqltype}" for col, sqltype in columns.items())
            statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        for form in forms:
            statements.extend(_index_statements(form))
        with self.transaction() as conn:
            for statement in statements:
                conn.execute(statement)

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction; nested use joins the outer one."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- statements ---------------------------------------------------------------------------
    def select(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.transaction() as conn:
            conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        with self.transaction() as conn:
            conn.executemany(sql, rows)

    def update(self, table: str, where: str, params: Sequence[Any], row: dict[str, Any]) -> None:
        if not row:
            return
        sets = ", ".join(f"{column} = ?" for column in row)
        with self.transaction() as conn:
            conn.execute(f"UPDATE {table} SET {sets} WHERE {where}", [*row.values(), *params])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction() as conn:
            conn.execute(sql, params)

    def delete(self, table: str, where: str, params: Sequence[Any]) -> None:
        with self.transaction() as conn:
            conn.execute(f"DELETE FROM {table} WHERE {where}", params)

    @contextmanager
    def bulk_load(self, table: str) -> Iterator[None]:
        """One transaction with the table's secondary indexes dropped, then rebuilt: sorting
        once is far cheaper than updating every index row by row."""
        with self.transaction() as conn:
            found = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND name LIKE 'ix_%'",
                (table,),
            ).fetchall()
            for name, _ in found:
                conn.execute(f"DROP INDEX {name}")
            yield
            for _, sql in found:
                conn.execute(sql)

    # -- counters and metadata ----------------------------------------------------------------
    def reserve(self, counter: str, count: int = 1, start: int = 1) -> int:
        """Reserve `count` consecutive numbers of a counter and return the first."""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE sandbox_counters SET value = value + ? WHERE name = ? RETURNING value",
                (count, counter),
            ).fetchone()
            if row is not None:
                return int(row[0]) - count + 1
            conn.execute("INSERT INTO sandbox_counters VALUES (?, ?)", (counter, start + count - 1))
            return start

    def get_meta(self, name: str, default: Any = None) -> Any:
        rows = self.select("SELECT value FROM sandbox_meta WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else default

    def set_meta(self, name: str, value: Any) -> None:
        self.execute("INSERT OR REPLACE INTO sandbox_meta VALUES (?, ?)", (name, json.dumps(value)))

    def is_empty(self) -> bool:
        return not self.select("SELECT 1 FROM sandbox_counters LIMIT 1")


def _index_statements(form: Form) -> list[str]:
    out = []
    if form.kind is not FormKind.JOIN:
        key = form.key_field.column
        out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{form.table} ON {form.table}({key})")
    for name in form.indexes:
        column = form.by_name[name].column
        out.append(f"CREATE INDEX IF NOT EXISTS ix_{form.table}_{column} ON {form.table}({column})")
    if form.scope is not None:
        column = form.by_name[form.scope[0]].column
        out.append(f"CREATE INDEX IF NOT EXISTS ix_{form.table}_{column} ON {form.table}({column})")
    return out
