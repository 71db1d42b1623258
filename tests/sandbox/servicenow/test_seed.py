"""One neutral seed, two faces: the demo organisation on the ServiceNow tables, beside the AR
forms; and bulk incidents for benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from sandbox import Sandbox, load_seed
from tests.sandbox.servicenow.support import SN, TIMEOUT
from tests.sandbox.support import AR

SEED = load_seed("demo")


def test_people_groups_and_companies_match_the_ar_face(sn: SN, ar: AR) -> None:
    """Seed people, groups (coordinator = manager) and memberships on both faces."""
    ar_logins = {p["Remedy Login ID"] for p in ar.entries("CTM:People", limit=500)}
    sn_logins = {u["user_name"] for u in sn.rows("sys_user", sysparm_fields="user_name")}
    assert ar_logins == {p.login for p in SEED.people}
    assert sn_logins == ar_logins | {"admin", "itil.readonly"}
    groups = sn.rows("sys_user_group", sysparm_fields="name,manager.user_name,email")
    assert {(g["name"], g["manager.user_name"]) for g in groups} == {
        (g.name, g.coordinator) for g in SEED.support_groups
    }
    members = sn.rows(
        "sys_user_grmember",
        sysparm_query="group.name=Service Desk",
        sysparm_fields="user.user_name",
    )
    assert {m["user.user_name"] for m in members} == {"Allen", "Demo", "Mary"}
    allen = sn.one(
        "sys_user",
        "user_name=Allen",
        sysparm_fields="name,email,manager.user_name,department.name,company.name,title",
    )
    assert allen == {
        "name": "Allen Allbrook",
        "email": "A.Allbrook@calbroservices.com",
        "manager.user_name": "Mary",
        "department.name": "Service Desk",
        "company.name": "Calbro Services",
        "title": "Service Desk Analyst",
    }


def test_services_cis_and_dependencies(sn: SN, ar: AR) -> None:
    """Services with owners and coordinators; CIs in their class tables; `depends_on` as
    "Depends on::Used by" rows whose parent is the dependent CI [2.5]."""
    services = sn.rows(
        "cmdb_ci_service",
        sysparm_fields="name,owned_by.user_name,u_problem_coordinator.user_name,support_group.name",
    )
    ar_services = ar.entries("BMC.CORE:BMC_BusinessService")
    assert {(s["name"], s["owned_by.user_name"]) for s in services} == {
        (s["Name"], s["SMPM Service Owner"]) for s in ar_services
    }
    assert all(s["u_problem_coordinator.user_name"] == "Bob" for s in services)
    names = {c["name"] for c in sn.rows("cmdb_ci", sysparm_fields="name")}
    assert names == {c.name for c in SEED.cis} | {s.name for s in SEED.services}
    cluster = sn.one("cmdb_ci", "name=db-cluster-01", sysparm_fields="sys_class_name")
    assert cluster["sys_class_name"] == "cmdb_ci_cluster"
    relations = sn.rows(
        "cmdb_rel_ci",
        sysparm_fields="parent.name,child.name,type.name",
        sysparm_query="parent.name=lb-bank-01",
    )
    assert {(r["child.name"], r["type.name"]) for r in relations} == {
        ("web-bank-01", "Depends on::Used by"),
        ("web-bank-02", "Depends on::Used by"),
        ("fw-edge-01", "Depends on::Used by"),
    }
    total = sum(len(c.depends_on) for c in (*SEED.cis, *SEED.services))
    assert len(sn.rows("cmdb_rel_ci", sysparm_fields="sys_id")) == total
    depends = sn.rows(
        "cmdb_rel_type", sysparm_query="name=Depends on::Used by", sysparm_fields="sys_id"
    )
    assert depends == [{"sys_id": "1a9cb166f1571100a92eb60da2bce5c5"}]


def test_tickets_notes_and_relations(sn: SN, ar: AR) -> None:
    """The seeded incidents, problems, changes, notes and knowledge on both faces."""
    seeded = sn.rows(
        "incident",
        sysparm_query="number<=INC0010016",
        sysparm_fields="short_description,u_event_key",
    )
    assert [i["short_description"] for i in seeded] == [i.summary for i in SEED.incidents]
    ar_summaries = {i["Description"] for i in ar.entries("HPD:IncidentInterface", limit=500)}
    assert {i.summary for i in SEED.incidents} <= ar_summaries
    failover = sn.one(
        "incident",
        "short_description=Database cluster failover on db-cluster-01",
        sysparm_fields="sys_id,state,problem_id.short_description,assigned_to.user_name,cmdb_ci.name",
    )
    assert failover["problem_id.short_description"] == "Recurring failovers on db-cluster-01"
    assert (failover["state"], failover["assigned_to.user_name"], failover["cmdb_ci.name"]) == (
        "2",
        "Dana",
        "db-cluster-01",
    )
    notes = sn.rows(
        "sys_journal_field",
        sysparm_query=f"element_id={failover['sys_id']}^ORDERBYsys_created_on",
        sysparm_fields="element,value,sys_created_by",
    )
    assert [(n["sys_created_by"], n["element"]) for n in notes] == [
        ("Dana", "work_notes"),
        ("Derek", "work_notes"),
    ]
    problem = sn.one(
        "problem",
        "short_description=Recurring failovers on db-cluster-01",
        sysparm_fields="state,workaround,first_reported_by_task,related_incidents",
    )
    assert (
        problem["state"] == "103" and problem["related_incidents"] == "1" and problem["workaround"]
    )
    assert problem["first_reported_by_task"]["value"] == failover["sys_id"]
    change = sn.one(
        "change_request",
        "short_description=Firmware upgrade on core-sw-02",
        sysparm_fields="state,type,risk,start_date,end_date",
    )
    assert (change["state"], change["type"], change["risk"]) == ("-2", "normal", "3")
    assert change["start_date"] < change["end_date"]
    articles = sn.rows(
        "kb_knowledge", sysparm_fields="workflow_state,author.user_name,source.number"
    )
    assert sorted(a["workflow_state"] for a in articles) == ["published", "review"]
    assert len(sn.rows("contract_sla", sysparm_fields="sys_id")) == sum(
        len(s.targets) for s in SEED.slas
    )


def test_the_faces_hold_parallel_copies(sn: SN, ar: AR) -> None:
    """A write through the ServiceNow face does not show on the AR face."""
    sn.new("sys_user", user_name="zoe", first_name="Zoe", last_name="Zed")
    assert sn.one("sys_user", "user_name=zoe", sysparm_fields="name") == {"name": "Zoe Zed"}
    assert ar.entries("CTM:People", q="'Remedy Login ID' = \"zoe\"") == []


def test_bulk_incidents_and_a_kept_file(tmp_path: Path) -> None:
    """`generate_incidents(platform="servicenow", measurements=True)` fills the incident table
    and task SLAs in bulk; a kept database file is reused without seeding it again."""
    db = tmp_path / "kept.sqlite3"
    with Sandbox.start(seed="demo", db_path=db) as sb:
        started = time.monotonic()
        first, last = sb.generate_incidents(
            12_000, platform="servicenow", measurements=True, open_ratio=0.5
        )
        assert time.monotonic() - started < 10
        assert (first, last) == ("INC0010017", "INC0022016")
        client = SN(sb.base_url)
        generated = client.list(
            "incident",
            sysparm_query="number>=INC0010017",
            sysparm_limit=3,
            sysparm_display_value="true",
        )
        assert generated.headers["X-Total-Count"] == "12000"
        assert all(r["priority"] and r["caller_id"] for r in generated.json()["result"])
        slas = client.list(
            "task_sla", sysparm_query="task.number>=INC0010017^active=true", sysparm_limit=1
        )
        assert int(slas.headers["X-Total-Count"]) > 1000
        made = requests.post(
            f"{sb.base_url}/__sandbox/incidents",
            json={"count": 5, "platform": "servicenow"},
            timeout=TIMEOUT,
        )
        assert made.status_code == 201 and made.json()["first"] == "INC0022017"
        users = client.list("sys_user", sysparm_limit=1).headers["X-Total-Count"]
    with Sandbox.start(seed="demo", db_path=db) as again:
        client = SN(again.base_url)
        assert client.list("sys_user", sysparm_limit=1).headers["X-Total-Count"] == users
        assert client.list("incident", sysparm_limit=1).headers["X-Total-Count"] == str(16 + 12005)
