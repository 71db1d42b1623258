"""Does the instance have every table and column the mapping names? (`smpm check` on ServiceNow)

A query with an unknown column is not refused by the Table API: the column is silently ignored
[reference 1.2], so probing with `sysparm_fields` proves nothing. The dictionary is asked
instead. A table inherits the columns of the tables it extends (incident's `number` is defined on
`task`), so each table's ancestry is read from `sys_db_object.super_class` first; then one
`sys_dictionary` query per table (`nameIN<ancestry>^elementIN<columns>`) finds every mapped
column at once. A dot-walk is checked by its first segment on the table, and by its looked-up
column on the table that `[references]` names. Reading sys_db_object and sys_dictionary needs a
role that may read them (admin, or a dedicated read ACL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from connector.errors import ConnectorError, RetryableError
from connector.filters import Field, In
from connector.servicenow.connector import ServiceNowConnector
from connector.servicenow.sla import BREACHED, PERCENT, STAGE
from mappings.loader import KindMapping, PlatformMapping

MAX_DEPTH = 12  # task > incident is 2; cmdb > cmdb_ci > ... > cmdb_ci_linux_server is about 6


@dataclass
class TableCheck:
    """One table's verdict; `form` (the table) matches `connector.remedy.check.FormCheck` for
    the CLI."""

    form: str
    purpose: str
    fields: list[str]
    missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing


def _column(name: str) -> str:
    return name.split(".", 1)[0]


class _Tables(dict[str, tuple[str, list[str]]]):
    def add(self, table: str | None, purpose: str, names: list[str]) -> None:
        if not table:
            return
        old_purpose, old = self.get(table, (purpose, []))
        columns = [c for c in (_column(n) for n in names if n) if c != "sys_id"]
        self[table] = (old_purpose, list(dict.fromkeys([*old, *columns])))


def tables_in_use(mapping: PlatformMapping) -> dict[str, tuple[str, list[str]]]:
    """table -> (what it is used for, the columns the mapping names on it)."""
    found = _Tables()
    for name, kind in mapping.kinds.items():  # the kinds' own tables first, for their purpose
        columns = [*kind.fields.values(), *kind.create_fields.values(), *kind.where]
        if name == "service_target":
            columns += [STAGE, BREACHED, PERCENT]  # the derived status [servicenow.sla]
        found.add(kind.form, f"{name} records", columns)
    for name, kind in mapping.kinds.items():
        _add_lookups(found, name, kind)
        for parent, spec in kind.parents.items():
            found.add(kind.form, f"{name} records", [spec.parent_field, "name"])
            labels = mapping.enums.get(kind.enums.get("note_type", ""), {})
            journal = [str(v) for v in labels.values() if isinstance(v, str | int)]
            found.add(spec.form, f"work notes on {parent} records", journal)
        for source, rel in kind.sources.items():
            names = [rel.source_field, rel.target_field, rel.type_field or ""]
            found.add(rel.form, f"relations from {source} records", names)
            type_table = kind.references.get("relation_type")
            if rel.type_field and "." in rel.type_field and type_table:
                found.add(type_table, "relation types", [rel.type_field.split(".", 1)[1]])
    return dict(found)


def _add_lookups(found: _Tables, name: str, kind: KindMapping) -> None:
    for smpm, table in kind.references.items():
        column = kind.fields.get(smpm) or kind.create_fields.get(smpm) or ""
        if "." in column:
            found.add(table, f"looking up {name}.{smpm}", [column.split(".", 1)[1]])


def check_tables(connector: ServiceNowConnector) -> Iterator[TableCheck]:
    """One TableCheck per mapped table; connection and login problems propagate."""
    chains: dict[str, list[str] | None] = {}
    for table, (purpose, columns) in tables_in_use(connector.mapping).items():
        check = TableCheck(table, purpose, columns)
        try:
            chain = ancestry(connector, table, chains)
            if chain is None:
                check.error = "table does not exist (or this user may not read sys_db_object)"
            else:
                defined = defined_columns(connector, chain, columns)
                check.missing = [c for c in columns if c not in defined]
        except RetryableError:
            raise
        except ConnectorError as exc:
            check.error = exc.message
        yield check


def ancestry(
    connector: ServiceNowConnector, table: str, known: dict[str, list[str] | None]
) -> list[str] | None:
    """[table, its parent, ..., the root], or None when sys_db_object has no such table."""
    if table in known:
        return known[table]
    chain: list[str] = []
    current = table
    while current and current not in chain and len(chain) < MAX_DEPTH:
        rows = list(
            connector.list_records(
                "sys_db_object",
                where=Field("name") == current,
                fields=["name", "super_class.name"],
                limit=1,
            )
        )
        if not rows:
            if not chain:
                known[table] = None
                return None
            break
        chain.append(current)
        current = rows[0].get("super_class.name", "")
    known[table] = chain
    return chain


def defined_columns(
    connector: ServiceNowConnector, chain: list[str], columns: list[str]
) -> set[str]:
    """Which of `columns` sys_dictionary defines on the table or a table it extends."""
    if not columns:
        return set()
    where = In("name", tuple(chain)) & In("element", tuple(columns))
    rows = connector.list_records("sys_dictionary", where=where, fields=["name", "element"])
    return {row.get("element", "") for row in rows}


@dataclass
class ChoiceCheck:
    """One choice column's verdict: values the mapping writes that the instance lacks (a
    failure: the instance would refuse or store them as they are), and active instance values
    the mapping does not read (a warning: such records read as unknown)."""

    form: str
    purpose: str
    fields: list[str]
    missing: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing


def choice_columns(mapping: PlatformMapping) -> dict[tuple[str, str], tuple[str, str]]:
    """(table, column) -> (kind.field, enum table) for every plain column an enum maps."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for name, kind in mapping.kinds.items():
        for smpm, table in kind.enums.items():
            column = kind.fields.get(smpm) or kind.create_fields.get(smpm) or ""
            if kind.form and column and "." not in column and table in mapping.enums:
                found.setdefault((kind.form, column), (f"{name}.{smpm}", table))
    return found


def check_choices(connector: ServiceNowConnector) -> Iterator[ChoiceCheck]:
    """Each mapped choice column against the instance's sys_choice list for it: the table's own
    list, else the one it inherits from the nearest table that has one. A column with no
    sys_choice rows is not a choice list here and is passed over."""
    mapping = connector.mapping
    chains: dict[str, list[str] | None] = {}
    for (table, column), (purpose, enum) in sorted(choice_columns(mapping).items()):
        labels = mapping.enums[enum]
        written = {str(v) for k, v in labels.items() if k not in ("read_aliases", "write_aliases")}
        written |= {str(v) for v in labels.get("write_aliases", {}).values()}
        check = ChoiceCheck(table, f"SMPM {purpose}", [column])
        try:
            chain = ancestry(connector, table, chains) or [table]
            where = In("name", tuple(chain)) & (Field("element") == column)
            fields = ["name", "value", "inactive"]
            rows = list(connector.list_records("sys_choice", where=where, fields=fields))
            # The nearest table with a list for the column has the list that applies (incident's
            # own states, not task's).
            owner = next((t for t in chain if any(r.get("name") == t for r in rows)), None)
            active = {
                r.get("value", "")
                for r in rows
                if r.get("name") == owner and r.get("inactive") != "true"
            }
        except RetryableError:
            raise
        except ConnectorError as exc:
            check.error = exc.message
            yield check
            continue
        if not active:
            continue
        check.missing = sorted(written - active)
        check.unread = sorted(active - set(mapping.reverse(enum)))
        yield check
