"""Apply the platform-neutral seed to the ServiceNow tables (seed_tickets.py does the tickets).

companies -> core_company; people -> sys_user (departments -> cmn_department); support groups
-> sys_user_group (coordinator = `manager`) and sys_user_grmember; services -> cmdb_ci_service
(owner = `owned_by`, `support_group`, the `u_` coordinators); CIs -> their cmdb_ci class tables;
`depends_on` -> cmdb_rel_ci "Depends on::Used by" with the dependent CI as `parent` [2.5];
each SLA target -> a contract_sla whose conditions are encoded queries on incident [2.6].
Records are written through the same business rules as API requests, as `admin`, each at the
moment the seed gives.
"""

from __future__ import annotations

from typing import Any

from sandbox.seed_format import Seed, offset_seconds, span_seconds
from sandbox.servicenow.platform import ADMIN_SYS_ID
from sandbox.servicenow.records import Actor, Records
from sandbox.servicenow.schema.cmdb import DEPENDS_ON
from sandbox.servicenow.values import format_duration

CI_CLASSES = {  # neutral class -> (class table, category)
    "server": ("cmdb_ci_linux_server", "Hardware"),
    "virtual_machine": ("cmdb_ci_vm_instance", "Hardware"),
    "load_balancer": ("cmdb_ci_lb", "Network"),
    "network_switch": ("cmdb_ci_ip_switch", "Network"),
    "router": ("cmdb_ci_ip_router", "Network"),
    "firewall": ("cmdb_ci_ip_firewall", "Network"),
    "storage_array": ("cmdb_ci_storage_device", "Hardware"),
    "database": ("cmdb_ci_db_instance", "Software"),
    "application": ("cmdb_ci_appl", "Software"),
    "cluster": ("cmdb_ci_cluster", "Hardware"),
    "mail_server": ("cmdb_ci_email_server", "Software"),
    "web_server": ("cmdb_ci_web_server", "Software"),
}
LIFECYCLE = {  # neutral status -> (install_status, operational_status)
    "deployed": ("1", "1"),
    "in_repair": ("3", "3"),
    "down": ("1", "2"),
    "end_of_life": ("7", "6"),
    "ordered": ("2", "5"),
}
PRIORITY = {"critical": ["1"], "high": ["2"], "medium": ["3"], "low": ["4", "5"]}
STOP = {"response": "state!=1", "resolution": "stateIN6,7"}
PAUSE = {"response": "", "resolution": "state=3"}


class Seeding:
    """Writes a seed's organisation; `ids` maps names and logins to sys_ids for the tickets."""

    def __init__(self, records: Records, now: int) -> None:
        self.records = records
        self.sn = records.sn
        self.now = now
        self.users: dict[str, str] = {}
        self.groups: dict[str, str] = {}
        self.companies: dict[str, str] = {}
        self.items: dict[str, str] = {}  # CI and service names -> sys_id

    def at(self, when: str | None, user: str = "admin", user_id: str = ADMIN_SYS_ID) -> Actor:
        return Actor(user, user_id, self.now + offset_seconds(when or "now"))

    def create(self, table: str, values: dict[str, Any], actor: Actor | None = None) -> str:
        body = {k: v for k, v in values.items() if v not in (None, "")}
        return str(
            self.records.insert(table, body, actor or self.at(None), display=False)["sys_id"]
        )

    def apply(self, seed: Seed) -> None:
        self._foundation(seed)
        self._cmdb(seed)
        self._slas(seed)

    # -- foundation -------------------------------------------------------------------------------
    def _foundation(self, seed: Seed) -> None:
        for c in seed.companies:
            self.companies[c.name] = self.create(
                "core_company",
                {
                    "name": c.name,
                    "customer": c.kind == "customer",
                    "vendor": c.kind in ("vendor", "supplier"),
                    "manufacturer": c.kind == "manufacturer",
                    "primary": c.kind == "operating",
                    "stock_symbol": c.abbreviation,
                },
            )
        departments: dict[tuple[str, str], str] = {}
        for p in seed.people:
            key = (p.company, p.department or "")
            if p.department and key not in departments:
                values = {"name": p.department, "company": self.companies[p.company]}
                departments[key] = self.create("cmn_department", values)
        self.users = {p.login: self.sn.sys_ids()[0] for p in seed.people}
        for p in seed.people:
            self.create("sys_user", self._person(p, departments))
        for g in seed.support_groups:
            self.groups[g.name] = self.create(
                "sys_user_group",
                {
                    "name": g.name,
                    "manager": self.users.get(g.coordinator or ""),
                    "email": g.email,
                    "company": self.companies[g.company],
                    "description": f"{g.role} support group of {g.organization}"
                    + (" (on call)" if g.on_call else ""),
                },
            )
            for login in g.members:
                values = {"user": self.users[login], "group": self.groups[g.name]}
                self.create("sys_user_grmember", values)

    def _person(self, p: Any, departments: dict[tuple[str, str], str]) -> dict[str, Any]:
        return {
            "sys_id": self.users[p.login],
            "user_name": p.login,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "name": f"{p.first_name} {p.last_name}",
            "email": p.email,
            "company": self.companies[p.company],
            "department": departments.get((p.company, p.department or "")),
            "manager": self.users.get(p.manager or ""),
            "title": p.job_title,
            "phone": p.phone,
            "vip": p.vip,
            "active": True,
        }

    # -- CMDB ---------------------------------------------------------------------------------
    def _cmdb(self, seed: Seed) -> None:
        for ci in seed.cis:
            table, category = CI_CLASSES[ci.ci_class]
            install, operational = LIFECYCLE[ci.status]
            values = {
                "name": ci.name,
                "company": self.companies.get(ci.company),
                "short_description": ci.description,
                "description": ci.description,
                "category": category,
                "install_status": install,
                "operational_status": operational,
            }
            if table == "cmdb_ci_linux_server":
                values |= {"os": "Linux", "host_name": ci.name}
            self.items[ci.name] = self.create(table, values)
        for s in seed.services:
            self.items[s.name] = self.create(
                "cmdb_ci_service",
                {
                    "name": s.name,
                    "company": self.companies.get(s.company),
                    "short_description": s.description,
                    "owned_by": self.users.get(s.owner or ""),
                    "support_group": self.groups.get(s.support_group or ""),
                    "u_change_coordinator": self.users.get(s.change_coordinator or ""),
                    "u_problem_coordinator": self.users.get(s.problem_coordinator or ""),
                    "u_capacity_manager": self.users.get(s.capacity_manager or ""),
                    "u_availability_manager": self.users.get(s.availability_manager or ""),
                },
            )
        for dependent in (*seed.cis, *seed.services):
            for antecedent in dependent.depends_on:
                values = {
                    "parent": self.items[dependent.name],
                    "child": self.items[antecedent],
                    "type": DEPENDS_ON,
                }
                self.create("cmdb_rel_ci", values)

    def _slas(self, seed: Seed) -> None:
        for sla in seed.slas:
            services = ",".join(self.items[name] for name in sla.services)
            for target in sla.targets:
                start = ["active=true"]
                if target.priorities:
                    values = [v for p in target.priorities for v in PRIORITY[p]]
                    start.append(f"priorityIN{','.join(values)}")
                if services:
                    start.append(f"business_serviceIN{services}")
                self.create(
                    "contract_sla",
                    {
                        "name": target.name,
                        "type": "SLA",
                        "target": target.measure,
                        "collection": "incident",
                        "duration": format_duration(span_seconds(target.goal)),
                        "start_condition": "^".join(start),
                        "stop_condition": STOP[target.measure],
                        "pause_condition": PAUSE[target.measure],
                        "description": f"{sla.name} SLA; warning at {target.warning_percent}%",
                    },
                )
