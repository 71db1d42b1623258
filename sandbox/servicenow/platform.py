"""Data every instance has, written at start-up: the dictionary, choices and tables that
describe the served tables (`sys_dictionary`, `sys_choice`, `sys_db_object`, rebuilt each time
from the definitions, with stable sys_ids), the CI relationship types (with the documented
sys_ids of "Depends on::Used by" and "Exchanges data with" [2.5]) and the `admin` user
(`6816f79cc0a8016401c5a33be04be441`, the platform's well-known demo sys_id [2.8]).

`sys_dictionary` has one row per column on the table that defines it (inherited task columns
are rows of `task`, as on the platform) and one collection row (empty `element`) per table.
`internal_type` and `reference` are references keyed by name (`{"link": ".../sys_glide_object/
string", "value": "string"}`). `sys_choice` lists each table's effective choices, inherited
lists included, so `name=incident^element=impact` finds them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.servicenow.schema.cmdb import REL_TYPES
from sandbox.servicenow.schema.model import BOOLEAN, INTEGER, READ_ONLY, Column, Table
from sandbox.servicenow.schema.other import SYSTEM_TABLES
from sandbox.servicenow.storage import SnStore
from sandbox.servicenow.values import format_time

ADMIN_SYS_ID = "6816f79cc0a8016401c5a33be04be441"
SYSTEM = "system"


def stable_id(*parts: str) -> str:
    return hashlib.md5("::".join(parts).encode(), usedforsecurity=False).hexdigest()


def install(sn: SnStore, now: int) -> None:
    """Rebuild the system tables and add the base data that is missing."""
    stamp = format_time(now)
    with sn.store.transaction():
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SYSTEM_TABLES}
        for table in sn.schema.tables.values():
            _describe(sn, table, rows)
        for name, found in rows.items():
            sn.store.execute(f"DELETE FROM {sn.schema.storage(name)}")
            _insert_all(sn, name, found, stamp)
        for name, sys_id in REL_TYPES.items():
            parent, child = name.split("::")
            _ensure(
                sn,
                "cmdb_rel_type",
                sys_id or stable_id("cmdb_rel_type", name),
                {"name": name, "parent_descriptor": parent, "child_descriptor": child},
                stamp,
            )
        admin = {"user_name": "admin", "first_name": "System", "last_name": "Administrator"}
        _ensure(sn, "sys_user", ADMIN_SYS_ID, {**admin, "name": "System Administrator"}, stamp)


def ensure_user(sn: SnStore, login: str, now: int, **values: Any) -> str:
    """The sys_id of the user with this user_name, adding a minimal user when there is none."""
    found = sn.first("sys_user", user_name=login)
    if found is not None:
        return str(found["sys_id"])
    row = {"user_name": login, "name": values.pop("name", login), **values}
    sys_id = sn.sys_ids()[0]
    _ensure(sn, "sys_user", sys_id, row, format_time(now))
    return sys_id


def _ensure(sn: SnStore, table: str, sys_id: str, values: dict[str, Any], stamp: str) -> None:
    if sn.get(table, sys_id) is None:
        _insert_all(sn, table, [{**values, "sys_id": sys_id}], stamp)


def _insert_all(sn: SnStore, table: str, rows: list[dict[str, Any]], stamp: str) -> None:
    """Insert rows (each with its sys_id) with their defaults and system fields."""
    columns = sn.schema.columns(table)
    defaults = {n: c.default for n, c in columns.items() if c.default and not c.is_journal}
    system = {
        "sys_created_on": stamp,
        "sys_created_by": SYSTEM,
        "sys_updated_on": stamp,
        "sys_updated_by": SYSTEM,
        "sys_mod_count": 0,
    }
    if "sys_class_name" in columns:
        system["sys_class_name"] = table
    full = [{**defaults, **row, **system} for row in rows]
    names = sorted({k for row in full for k in row})
    sn.insert_many(table, names, [[row.get(n) for n in names] for row in full])


def _describe(sn: SnStore, table: Table, rows: dict[str, list[dict[str, Any]]]) -> None:
    """The table's sys_db_object row, its dictionary entries and its choices."""
    schema = sn.schema
    rows["sys_db_object"].append(
        {
            "sys_id": stable_id("sys_db_object", table.name),
            "name": table.name,
            "label": table.label,
            "super_class": stable_id("sys_db_object", table.parent) if table.parent else "",
            "number_ref": table.prefix or "",
            "is_extendable": "true" if schema.is_hierarchy(table.name) else "false",
        }
    )
    rows["sys_dictionary"].append(
        {
            "sys_id": stable_id("sys_dictionary", table.name),
            "name": table.name,
            "element": "",
            "column_label": table.label,
            "internal_type": "collection",
        }
    )
    for name, column in schema.columns(table.name).items():
        if schema.defining(table.name, name) == table.name:
            entry = _entry(table, column)
            entry["sys_id"] = stable_id("sys_dictionary", table.name, name)
            rows["sys_dictionary"].append(entry)
        for sequence, (value, label) in enumerate(column.choices):
            rows["sys_choice"].append(
                {
                    "sys_id": stable_id("sys_choice", table.name, name, value),
                    "name": table.name,
                    "element": name,
                    "value": value,
                    "label": label,
                    "sequence": sequence,
                }
            )


def _entry(table: Table, column: Column) -> dict[str, Any]:
    choice = 0 if not column.choices else (1 if column.type == INTEGER else 3)
    return {
        "name": table.name,
        "element": column.name,
        "column_label": column.title,
        "internal_type": column.type,
        "reference": column.reference or "",
        "max_length": column.max_length if column.type != BOOLEAN else 40,
        "choice": str(choice),
        "default_value": column.default,
        "read_only": "true" if column.read_only or column.name in READ_ONLY else "false",
        "display": "true" if column.name == table.display else "false",
        "primary": "true" if column.name == "sys_id" else "false",
    }
