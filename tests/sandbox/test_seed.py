"""The seed file format, the demo organisation and the bulk incident generator."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox, SeedError, load_seed
from sandbox.seed import parse_seed
from tests.sandbox.support import AR

MINIMAL: dict[str, Any] = {
    "companies": [{"name": "Acme"}],
    "people": [
        {
            "login": "ann",
            "first_name": "Ann",
            "last_name": "Lee",
            "company": "Acme",
            "password": "secret",
        }
    ],
    "support_groups": [
        {"name": "Desk", "company": "Acme", "organization": "IT", "coordinator": "ann"}
    ],
    "incidents": [{"summary": "Printer jam", "customer": "ann", "opened": "-1h"}],
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    """MINIMAL with one key replaced, e.g. `incidents.0.impact`."""
    data = {k: [dict(item) for item in v] for k, v in MINIMAL.items()}
    section, index, key = path.split(".")
    data[section][int(index)][key] = value
    return data


def test_demo_organisation(ar: AR) -> None:
    """The demo seed has services, a dependency chain of CIs, groups with coordinators,
    an on-duty manager, and open incidents, some unassigned and some past their targets."""
    services = ar.entries("BMC.CORE:BMC_BusinessService")
    assert {s["Name"] for s in services} >= {
        "Online Banking",
        "Payroll",
        "Email",
        "Customer Portal",
        "Data Warehouse",
    }
    assert all(s["SMPM Service Owner"] and s["SMPM Change Coordinator"] for s in services)
    assert len(ar.entries("BMC.CORE:BMC_BaseElement", limit=500)) >= 20 + len(services)
    groups = ar.entries("CTM:Support Group", q="'Submitter' = \"Remedy Application Service\"")
    assert len(groups) >= 8 and all(g["SMPM Group Coordinator"] for g in groups)
    assert ar.entries("CTM:People", q="'JobTitle' = \"On-Duty Manager\"")
    open_ones = ar.entries("HPD:IncidentInterface", q="'Status' < \"Resolved\"")
    assert len(open_ones) >= 10
    assert any(i["Status"] == "New" and i["Assigned Group"] is None for i in open_ones)
    statuses = {m["MeasurementStatus"] for m in ar.entries("SLM:Measurement", limit=500)}
    assert {"Warning", "Missed", "In Process", "Met"} <= statuses


def test_demo_dependency_chain(ar: AR) -> None:
    """Load balancer -> web -> app -> database -> cluster -> node -> storage, by relationship."""
    names = {
        c["ReconciliationIdentity"]: c["Name"]
        for c in ar.entries("BMC.CORE:BMC_BaseElement", limit=500)
    }
    depends = {}
    for row in ar.entries(
        "BMC.CORE:BMC_BaseRelationship", q="'ClassId' = \"BMC_DEPENDENCY\"", limit=500
    ):
        dependent = names[row["Destination.ReconciliationIdentity"]]
        depends.setdefault(dependent, set()).add(names[row["Source.ReconciliationIdentity"]])
    chain = [
        "Online Banking",
        "lb-bank-01",
        "web-bank-01",
        "app-bank-01",
        "oracle-bank",
        "db-cluster-01",
        "db-node-01",
        "san-array-01",
    ]
    for dependent, antecedent in itertools.pairwise(chain):
        assert antecedent in depends[dependent], (dependent, antecedent)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("incidents.0.impact", "huge", "incidents[0].impact: Input should be 'extensive'"),
        ("people.0.shoe_size", 42, "people[0].shoe_size: Extra inputs are not permitted"),
        ("incidents.0.customer", "zed", "incidents[0].customer: no login 'zed' in this seed"),
        ("support_groups.0.company", "Nope", "support_groups[0].company: no company 'Nope'"),
        ("incidents.0.opened", "yesterday", "incidents[0].opened: Value error, 'yesterday' is not"),
        ("incidents.0.assigned_group", "Ghosts", "incidents[0].assigned_group: no support group"),
    ],
)
def test_seed_errors_name_the_key(path: str, value: Any, message: str) -> None:
    """A bad seed is refused with the file and the key at fault."""
    with pytest.raises(SeedError) as caught:
        parse_seed(with_change(path, value), "my.toml")
    assert str(caught.value).startswith(f"my.toml: {message}")


def test_workflow_refusals_name_the_seed_entry() -> None:
    """A ticket the ITSM would refuse (Pending without a reason) names its seed entry."""
    seed = parse_seed(with_change("incidents.0.status", "pending"))
    with pytest.raises(SeedError, match=r"^incidents\[0\]: ERROR \(326\).*Status_Reason"):
        Sandbox(seed=seed).close()


def test_seed_file_errors(tmp_path: Path) -> None:
    """A missing file or broken TOML is a SeedError naming the file."""
    with pytest.raises(SeedError, match="no such seed file"):
        load_seed(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[people]\n", encoding="utf-8")
    with pytest.raises(SeedError, match=r"broken.toml: not valid TOML"):
        load_seed(broken)


def test_custom_seed_file_and_its_users(tmp_path: Path) -> None:
    """A seed file's people with passwords can log in; its data is served."""
    file = tmp_path / "acme.toml"
    file.write_text(
        '[[companies]]\nname = "Acme"\n'
        '[[people]]\nlogin = "ann"\nfirst_name = "Ann"\nlast_name = "Lee"\ncompany = "Acme"\n'
        'password = "secret"\n'
        '[[incidents]]\nsummary = "Printer jam"\ncustomer = "ann"\nopened = "-1h"\n',
        encoding="utf-8",
    )
    with Sandbox.start(seed=file) as running:
        client = AR(running.base_url, "ann", "secret")
        (incident,) = client.entries("HPD:IncidentInterface")
        assert (incident["Description"], incident["Customer Login ID"]) == ("Printer jam", "ann")


def test_database_file_is_seeded_once(tmp_path: Path) -> None:
    """With a database path, a second start reuses the data instead of seeding again."""
    path = tmp_path / "sandbox.sqlite3"
    counts = []
    for _ in range(2):
        with Sandbox.start(seed="demo", db_path=path) as running:
            counts.append(len(AR(running.base_url).entries("HPD:IncidentInterface")))
    assert counts[0] == counts[1] > 0
    assert path.exists()


def test_generator_fills_twenty_thousand_incidents_quickly() -> None:
    """20,000 generated incidents load in a few seconds and page fast by qualification."""
    with Sandbox.start(seed="demo") as running:
        started = time.monotonic()
        first, last = running.generate_incidents(20_000, seed=7)
        assert time.monotonic() - started < 10
        client = AR(running.base_url)
        page = client.list(
            "HPD:IncidentInterface",
            q="'Status' < \"Resolved\"",
            limit=1000,
            offset=3000,
            fields="values(Incident Number,Status)",
        ).json()
        assert len(page["entries"]) == 1000 and "next" in page["_links"]
        assert {e["values"]["Status"] for e in page["entries"]} <= {
            "New",
            "Assigned",
            "In Progress",
            "Pending",
        }
        (newest,) = client.entries("HPD:IncidentInterface", q=f"'Incident Number' = \"{last}\"")
        assert newest["Priority"] and newest["Status-History"]["New"]["timestamp"]
        assert first < last
