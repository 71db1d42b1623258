"""Tables and columns of the ServiceNow face, and the class hierarchy that joins them [2].

A `Table` names its own columns and its parent; a child table inherits every parent column, as
`incident` inherits `task`'s. A hierarchy is stored in one SQLite table named after its root
(`sn_task` holds task, incident, problem, change_request and change_task rows, told apart by
`sys_class_name`), so a query on a parent table returns every class below it, as on the
platform. Column names come only from these definitions, never from request text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

Choices = tuple[tuple[str, str], ...]  # (value, label), in display order

# internal_type values as sys_dictionary names them
STRING, INTEGER, BOOLEAN, DATETIME, DATE = (
    "string",
    "integer",
    "boolean",
    "glide_date_time",
    "glide_date",
)
REFERENCE, JOURNAL, JOURNAL_LIST, DECIMAL, DURATION = (
    "reference",
    "journal_input",
    "journal",
    "decimal",
    "glide_duration",
)
GUID, CLASS_NAME, LIST, CONDITIONS, TABLE_NAME, HTML, EMAIL = (
    "GUID",
    "sys_class_name",
    "glide_list",
    "conditions",
    "table_name",
    "html",
    "email",
)
SQL_TYPES = {INTEGER: "INTEGER", DECIMAL: "REAL"}  # everything else is TEXT


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STRING
    reference: str | None = None  # the referenced table, for REFERENCE columns
    choices: Choices = ()
    default: str = ""
    read_only: bool = False
    label: str = ""
    max_length: int = 40

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.type, "TEXT")

    @property
    def is_journal(self) -> bool:
        return self.type in (JOURNAL, JOURNAL_LIST)

    def choice_label(self, value: str) -> str:
        return next((label for v, label in self.choices if v == value), value)


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    columns: tuple[Column, ...] = ()
    parent: str | None = None
    prefix: str | None = None  # `number` = prefix + 7 digits
    display: str = "name"  # the column a reference to this table shows
    choices: Mapping[str, Choices] = field(default_factory=dict)  # per-table choice lists
    defaults: Mapping[str, str] = field(default_factory=dict)  # per-table defaults
    indexes: tuple[str, ...] = ()
    number_start: int = 10001
    hidden: tuple[tuple[str, str], ...] = ()  # (column, SQL type) the API never shows


# -- column builders --------------------------------------------------------------------------
def text(name: str, label: str = "", *, length: int = 40, default: str = "") -> Column:
    return Column(name, STRING, label=label, max_length=length, default=default)


def number(name: str, label: str = "", *, default: str = "") -> Column:
    return Column(name, INTEGER, label=label, default=default)


def flag(name: str, label: str = "", *, default: str = "false") -> Column:
    return Column(name, BOOLEAN, label=label, default=default)


def when(name: str, label: str = "") -> Column:
    return Column(name, DATETIME, label=label)


def ref(name: str, table: str, label: str = "", *, default: str = "") -> Column:
    return Column(name, REFERENCE, reference=table, label=label, default=default, max_length=32)


def pick(
    name: str, choices: Choices, label: str = "", *, default: str = "", integer: bool = False
) -> Column:
    return Column(
        name, INTEGER if integer else STRING, choices=choices, default=default, label=label
    )


def journal(name: str, label: str = "") -> Column:
    return Column(name, JOURNAL, label=label, max_length=4000)


def typed(name: str, kind: str, label: str = "", *, default: str = "") -> Column:
    return Column(name, kind, label=label, default=default)


SYSTEM_COLUMNS = (
    Column("sys_id", GUID, read_only=True, label="Sys ID", max_length=32),
    Column("sys_created_on", DATETIME, read_only=True, label="Created"),
    text("sys_created_by", "Created by"),
    Column("sys_updated_on", DATETIME, read_only=True, label="Updated"),
    text("sys_updated_by", "Updated by"),
    Column("sys_mod_count", INTEGER, read_only=True, label="Updates", default="0"),
    Column("sys_tags", LIST, read_only=True, label="Tags"),
)
READ_ONLY = {"sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by"}
READ_ONLY |= {"sys_mod_count", "sys_tags", "sys_class_name"}


class Schema:
    """Every served table, with inherited columns resolved."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self.tables: dict[str, Table] = {t.name: t for t in tables}
        for t in self.tables.values():
            assert t.parent is None or t.parent in self.tables, t.name

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def lineage(self, name: str) -> list[Table]:
        """The table and its ancestors, root first."""
        out = [self.tables[name]]
        while out[0].parent is not None:
            out.insert(0, self.tables[out[0].parent])
        return out

    def root(self, name: str) -> str:
        return self.lineage(name)[0].name

    def storage(self, name: str) -> str:
        """The SQLite table holding the table's rows."""
        return f"sn_{self.root(name)}"

    def is_hierarchy(self, name: str) -> bool:
        root = self.root(name)
        return any(t.parent == root for t in self.tables.values())

    def classes(self, name: str) -> tuple[str, ...]:
        """The table and every table that extends it."""
        out = [name]
        for table in self.tables.values():
            if table.parent is not None and table.parent in out:
                out.append(table.name)
        return tuple(out) if len(out) > 1 else (name,)

    def defining(self, table: str, column: str) -> str:
        """The ancestor that defines `column` (sys_dictionary's `name` for that element)."""
        for t in self.lineage(table):
            if column in {c.name for c in self._own(t)}:
                return t.name
        raise KeyError(column)

    def columns(self, name: str) -> dict[str, Column]:
        return _columns(self, name)

    def storage_columns(self, root: str) -> dict[str, str]:
        """Column -> SQL type over a whole hierarchy."""
        out: dict[str, str] = {}
        for table in self.classes(root):
            out.update({c.name: c.sql_type for c in self.columns(table).values()})
            out.update(dict(self.tables[table].hidden))
        return out

    def _own(self, table: Table) -> tuple[Column, ...]:
        own = table.columns
        if table.parent is None:
            extra = (Column("sys_class_name", CLASS_NAME, read_only=True, label="Class"),)
            own = SYSTEM_COLUMNS + (extra if self.is_hierarchy(table.name) else ()) + own
        return own


@cache
def _columns(schema: Schema, name: str) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for t in schema.lineage(name):  # a child's choice lists and defaults override its parent's
        out.update({c.name: c for c in schema._own(t)})
        for column, choices in t.choices.items():
            out[column] = replace(out[column], choices=choices)
        for column, default in t.defaults.items():
            out[column] = replace(out[column], default=default)
    return out
