"""The tables that describe the others: sys_db_object, sys_dictionary, sys_choice [2]."""

from __future__ import annotations

from sandbox.servicenow.schema import SCHEMA
from tests.sandbox.servicenow.support import SN


def test_every_served_table_and_column_is_described(sn: SN) -> None:
    """One sys_db_object row per table (with its parent), one sys_dictionary row per column on
    the table that defines it, and a collection row per table."""
    tables = {
        t["name"]: t["super_class"]
        for t in sn.rows(
            "sys_db_object",
            sysparm_fields="name,super_class",
            sysparm_display_value="true",
            sysparm_exclude_reference_link="true",
        )
    }
    assert tables == {name: table.parent or "" for name, table in SCHEMA.tables.items()}
    entries = sn.rows("sys_dictionary", sysparm_fields="name,element", sysparm_limit=5000)
    pairs = {(e["name"], e["element"]) for e in entries}
    for name in SCHEMA.tables:
        assert (name, "") in pairs
        for column in SCHEMA.columns(name):
            assert (SCHEMA.defining(name, column), column) in pairs, (name, column)


def test_inherited_fields_are_found_on_task(sn: SN) -> None:
    """Fields incident inherits live under `task`, as on the platform; its own under incident."""
    rows = sn.rows(
        "sys_dictionary",
        sysparm_query="nameINincident,task^elementINassignment_group,caller_id,u_service_type",
        sysparm_fields="name,element,internal_type,reference,column_label",
        sysparm_exclude_reference_link="true",
    )
    found = {r["element"]: r for r in rows}
    assert found["assignment_group"] == {
        "name": "task",
        "element": "assignment_group",
        "internal_type": "reference",
        "reference": "sys_user_group",
        "column_label": "Assignment group",
    }
    assert (
        found["caller_id"]["name"] == "incident"
        and found["u_service_type"]["internal_type"] == "string"
    )


def test_choices_can_be_read_at_runtime(sn: SN) -> None:
    """`sys_choice?sysparm_query=name=incident^element=state` [2]; inherited lists are listed
    under each table."""
    states = sn.rows(
        "sys_choice",
        sysparm_query="name=incident^element=state^ORDERBYsequence",
        sysparm_fields="value,label",
    )
    assert [(s["value"], s["label"]) for s in states] == [
        ("1", "New"),
        ("2", "In Progress"),
        ("3", "On Hold"),
        ("6", "Resolved"),
        ("7", "Closed"),
        ("8", "Canceled"),
    ]
    impacts = sn.rows(
        "sys_choice", sysparm_query="name=incident^element=impact", sysparm_fields="value"
    )
    assert {i["value"] for i in impacts} == {"1", "2", "3"}
    stages = sn.rows(
        "sys_choice", sysparm_query="name=task_sla^element=stage", sysparm_fields="value"
    )
    assert {s["value"] for s in stages} == {
        "in_progress",
        "paused",
        "completed",
        "cancelled",
        "breached",
    }
