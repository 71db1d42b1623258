"""Apply a validated seed to the Remedy face of the sandbox.

SMPM's neutral vocabulary becomes Remedy labels here (the sandbox's own tables: it imports no
mapping). Tickets are filed through the same workflow hooks as API requests, each at its own
moment (`opened`), so priorities, histories, dates and SLA measurements come out as if the
requests had been made then. A CI that `depends_on` another becomes a BMC_DEPENDENCY
relationship whose source is the CI depended upon and whose destination is the dependent one
(BMC CMDB 21.3 data model: "entity B is dependent on entity A").
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import ARError
from sandbox.forms.change import CHANGE
from sandbox.forms.incident import HELP_DESK
from sandbox.forms.problem import PROBLEM
from sandbox.seed import SeedError
from sandbox.seed_format import Seed, offset_seconds, span_seconds
from sandbox.store import Store
from sandbox.tx import Tx
from sandbox.workflow import (
    change,
    cmdb,
    incident,
    knowledge,
    problem,
    relations,
    slm,
)

SYSTEM_USER = "Remedy Application Service"

IMPACT = {
    "extensive": "1-Extensive/Widespread",
    "significant": "2-Significant/Large",
    "moderate": "3-Moderate/Limited",
    "minor": "4-Minor/Localized",
}
URGENCY = {"critical": "1-Critical", "high": "2-High", "medium": "3-Medium", "low": "4-Low"}
PRIORITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
SOURCE = {
    "event": "BMC Impact Manager Event",
    "self_service": "Self Service",
    "systems_management": "Systems Management",
    "voice_mail": "Voice Mail",
    "walk_in": "Walk In",
    "direct_input": "Direct Input",
    "external_escalation": "External Escalation",
}
PROBLEM_STATUS = {"request_for_authorization": "Request for Authorization"}
CI_CLASSES = {  # neutral class -> (ClassId, Category, Type)
    "server": ("BMC_COMPUTERSYSTEM", "Hardware", "Server"),
    "virtual_machine": ("BMC_COMPUTERSYSTEM", "Hardware", "Virtual Machine"),
    "load_balancer": ("BMC_COMPUTERSYSTEM", "Network", "Load Balancer"),
    "network_switch": ("BMC_COMPUTERSYSTEM", "Network", "Switch"),
    "router": ("BMC_COMPUTERSYSTEM", "Network", "Router"),
    "firewall": ("BMC_COMPUTERSYSTEM", "Network", "Firewall"),
    "storage_array": ("BMC_COMPUTERSYSTEM", "Hardware", "Storage Array"),
    "database": ("BMC_DATABASE", "Software", "Database"),
    "application": ("BMC_APPLICATION", "Software", "Application"),
    "cluster": ("BMC_CLUSTER", "Hardware", "Cluster"),
    "mail_server": ("BMC_SOFTWARESERVER", "Software", "Mail Server"),
    "web_server": ("BMC_SOFTWARESERVER", "Software", "Web Server"),
}
LIFECYCLE = {
    "deployed": "Deployed",
    "in_repair": "In Repair",
    "down": "Down",
    "end_of_life": "End of Life",
    "ordered": "Ordered",
}
ASSOCIATION = {
    "related_to": "Related to",
    "caused_by": "Caused By",
    "causes": "Caused",
    "duplicate_of": "Duplicate of",
}
STATUS_REASON = {
    "client_hold": "Client Hold",
    "client_action_required": "Client Action Required",
    "supplier_delivery": "Supplier Delivery",
    "third_party_vendor": "Third Party Vendor Action Reqd",
    "monitoring": "Monitoring Incident",
    "no_further_action": "No Further Action Required",
    "temporary_corrective_action": "Temporary Corrective Action",
    "automated_resolution": "Automated Resolution Reported",
}
RESPONSE_DELAY = 600  # a seeded incident past New was responded to 10 minutes after opening
NOTE_KIND = {
    "general": "General Information",
    "working_log": "Working Log",
    "customer_communication": "Customer Communication",
}


def label(neutral: str, table: dict[str, str] | None = None) -> str:
    """A neutral value as a Remedy label: from `table`, else `in_progress` -> `In Progress`."""
    if table and neutral in table:
        return table[neutral]
    return " ".join(word.capitalize() for word in neutral.split("_"))


class Seeder:
    """Writes one seed into the store, inside a single transaction."""

    def __init__(self, store: Store, now: int) -> None:
        self.store = store
        self.now = now
        self.tickets: dict[str, tuple[str, str]] = {}  # ref -> (base form, ticket number)
        self.cis: dict[str, str] = {}  # name -> ReconciliationIdentity

    def tx(self, when: str | None = None, user: str = SYSTEM_USER) -> Tx:
        return Tx(self.store, user, self.now + offset_seconds(when or "now"))

    def apply(self, seed: Seed) -> dict[str, str]:
        """Write everything; returns the seed's sandbox users (login -> password)."""
        with self.store.transaction():
            self._foundation(seed)
            self._cmdb(seed)
            self._slas(seed)
            for i, item in enumerate(seed.incidents):
                self._guarded(f"incidents[{i}]", self._incident, item)
            for i, item in enumerate(seed.problems):
                self._guarded(f"problems[{i}]", self._problem, item)
            for i, item in enumerate(seed.changes):
                self._guarded(f"changes[{i}]", self._change, item)
            for i, item in enumerate(seed.relations):
                self._guarded(f"relations[{i}]", self._relation, item)
            for i, item in enumerate(seed.knowledge_articles):
                self._guarded(f"knowledge_articles[{i}]", self._article, item)
        return {p.login: p.password for p in seed.people if p.password is not None}

    @staticmethod
    def _guarded(where: str, apply: Any, item: Any) -> None:
        try:
            apply(item)
        except ARError as exc:
            raise SeedError(f"{where}: {exc}") from None

    # -- foundation ---------------------------------------------------------------------------
    def _foundation(self, seed: Seed) -> None:
        tx = self.tx()
        for c in seed.companies:
            tx.insert(
                "COM:Company",
                {
                    "Company": c.name,
                    "Company Type": label(c.kind),
                    "Company Abbreviation": c.abbreviation,
                    "Status": "Enabled",
                    "Short Description": ".",
                },
            )
        names = {p.login: f"{p.first_name} {p.last_name}" for p in seed.people}
        for p in seed.people:
            tx.insert("CTM:People", _person(p, names))
        for g in seed.support_groups:
            tx.insert(
                "CTM:Support Group",
                {
                    "Support Group Name": g.name,
                    "Company": g.company,
                    "Support Organization": g.organization,
                    "Support Group Role": g.role,
                    "Status": "Enabled",
                    "Short Description": ".",
                    "Uses SLA": "Yes",
                    "Uses OLA": "No",
                    "Vendor Group": "No",
                    "Confidential Support Group": "No",
                    "On Call Group Flag": "Yes" if g.on_call else "No",
                    "GroupNotificationEmail": g.email,
                    "SMPM Group Coordinator": g.coordinator,
                },
            )
        self.store.set_meta("group_members", {g.name: g.members for g in seed.support_groups})

    # -- CMDB -----------------------------------------------------------------------------------
    def _cmdb(self, seed: Seed) -> None:
        tx = self.tx()
        items, services = cmdb.ConfigurationItems(), tx.form("BMC.CORE:BMC_BusinessService")
        for ci in seed.cis:
            class_id, category, kind = CI_CLASSES[ci.ci_class]
            made = items.create(
                tx,
                tx.form("BMC.CORE:BMC_BaseElement"),
                {
                    "Name": ci.name,
                    "ClassId": class_id,
                    "Category": category,
                    "Type": kind,
                    "Company": ci.company,
                    "Description": ci.description,
                    "ShortDescription": ci.name,
                    "AssetLifecycleStatus": LIFECYCLE[ci.status],
                },
            )
            self.cis[ci.name] = made["ReconciliationIdentity"]
        for s in seed.services:
            made = items.create(tx, services, _service(s))
            self.cis[s.name] = made["ReconciliationIdentity"]
        links = cmdb.Relationships()
        for dependent in (*seed.cis, *seed.services):
            for antecedent in dependent.depends_on:
                links.create(
                    tx,
                    tx.form("BMC.CORE:BMC_BaseRelationship"),
                    {
                        "ClassId": "BMC_DEPENDENCY",
                        "Source.ReconciliationIdentity": self.cis[antecedent],
                        "Destination.ReconciliationIdentity": self.cis[dependent.name],
                    },
                )

    def _slas(self, seed: Seed) -> None:
        targets = [
            slm.ServiceTarget(
                id=f"SVT{i + 1:03d}{j + 1:02d}",
                title=t.name,
                sla=sla.name,
                measure=t.measure,
                goal_seconds=span_seconds(t.goal),
                warning_percent=t.warning_percent,
                services=tuple(sla.services),
                priorities=tuple(PRIORITY[p] for p in t.priorities),
            )
            for i, sla in enumerate(seed.slas)
            for j, t in enumerate(sla.targets)
        ]
        slm.save_targets(self.store, targets)

    # -- tickets --------------------------------------------------------------------------------
    def _incident(self, item: Any) -> None:
        tx = self.tx(item.opened)
        values = {
            "Description": item.summary,
            "Detailed Decription": item.details,
            "Impact": IMPACT[item.impact],
            "Urgency": URGENCY[item.urgency],
            "Status": label(item.status),
            "Status_Reason": STATUS_REASON.get(item.status_reason or ""),
            "Resolution": item.resolution,
            "Service Type": label(item.service_type),
            "Reported Source": label(item.source, SOURCE),
            "Customer Login ID": item.customer,
            "Assigned Group": item.assigned_group,
            "Assignee Login ID": item.assignee,
            "mc_ueid": item.event_key,
            **self._service_fields(item.service, item.ci, "HPD_CI"),
        }
        if item.responded:
            values["Responded Date"] = self.tx(item.responded).now
        elif item.status not in ("new", "assigned"):
            values["Responded Date"] = min(self.now, tx.now + RESPONSE_DELAY)
        filed = incident.HelpDesk().file(tx, HELP_DESK, _present(values), {})
        number = filed["Incident Number"]
        if item.ref:
            self.tickets[item.ref] = ("HPD:Help Desk", number)
        for note in item.notes:
            relations.WorkLogs().create(
                self.tx(note.at or item.opened, note.author or SYSTEM_USER),
                tx.form("HPD:WorkLog"),
                {
                    "Incident Number": number,
                    "Detailed Description": note.text,
                    "Description": note.text[:100],
                    "Work Log Type": NOTE_KIND[note.kind],
                    "View Access": "Public" if note.public else "Internal",
                },
            )

    def _problem(self, item: Any) -> None:
        values = {
            "Description": item.summary,
            "Detailed Decription": item.details,
            "Impact": IMPACT[item.impact],
            "Urgency": URGENCY[item.urgency],
            "Investigation Status": label(item.status, PROBLEM_STATUS),
            "Assigned Group": item.assigned_group,
            "Assignee Login ID": item.assignee,
            "Problem Manager Login": item.coordinator,
            "Assigned Group Pblm Mgr": item.coordinator_group,
            "Temporary Workaround": item.workaround,
            "Investigation Driver": "Other",
            **self._service_fields(item.service, item.ci, "PBM_CI"),
        }
        filed = problem.ProblemInvestigation().create(
            self.tx(item.opened), PROBLEM, _present(values)
        )
        if item.ref:
            self.tickets[item.ref] = (
                "PBM:Problem Investigation",
                filed["Problem Investigation ID"],
            )

    def _change(self, item: Any) -> None:
        tx = self.tx(item.opened)
        values = {
            "Description": item.summary,
            "Detailed Description": item.details,
            "Reason For Change": item.reason,
            "Impact": IMPACT[item.impact],
            "Urgency": URGENCY[item.urgency],
            "Change Request Status": label(item.status),
            "Change Timing": label(item.timing),
            "Risk Level": f"Risk Level {item.risk_level}",
            "Change Type": "Change",
            "Support Group Name": item.assigned_group,
            "ASLOGID": item.coordinator,
            **self._service_fields(item.service, None, None),
        }
        for key, field in (
            ("scheduled_start", "Scheduled Start Date"),
            ("scheduled_end", "Scheduled End Date"),
        ):
            if getattr(item, key):
                values[field] = self.tx(getattr(item, key)).now
        filed = change.InfrastructureChange().create(tx, CHANGE, _present(values))
        if item.ref:
            self.tickets[item.ref] = (
                "CHG:Infrastructure Change",
                filed["Infrastructure Change ID"],
            )

    def _relation(self, item: Any) -> None:
        source_form, source = self.tickets[item.source]
        target_form, target = self.tickets[item.target]
        form = relations.TICKETS[source_form][0]
        tx = self.tx()
        relations.Associations().create(
            tx,
            tx.form(form),
            {
                "Request ID02": source,
                "Request ID01": target,
                "Form Name01": target_form,
                "Association Type01": ASSOCIATION[item.type],
            },
        )

    def _article(self, item: Any) -> None:
        tx = self.tx(item.opened, item.author or SYSTEM_USER)
        source = self.tickets[item.source][1] if item.source else None
        values = {
            "ArticleTitle": item.title,
            "Status": label(item.status, {"proposed": "Publish Approval"}),
            "Owner Group": item.proposing_group,
            "Assigned Group": item.assigned_group,
            "Assignee Login ID": item.assignee,
            "Source Request ID": source,
        }
        knowledge.KnowledgeArticles().create(
            tx, tx.form("RKM:KnowledgeArticleManager"), _present(values)
        )

    def _service_fields(
        self, service: str | None, ci: str | None, ci_field: str | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if service:
            out.update(ServiceCI=service, ServiceCI_ReconID=self.cis[service])
        if ci and ci_field:
            out.update({ci_field: ci, f"{ci_field}_ReconID": self.cis[ci]})
        return out


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _person(p: Any, names: dict[str, str]) -> dict[str, Any]:
    return _present(
        {
            "Remedy Login ID": p.login,
            "First Name": p.first_name,
            "Last Name": p.last_name,
            "Full Name": f"{p.first_name} {p.last_name}",
            "Company": p.company,
            "Organization": p.organization,
            "Department": p.department,
            "JobTitle": p.job_title,
            "Internet E-mail": p.email,
            "Phone Number Business": p.phone,
            "ManagerLoginID": p.manager,
            "ManagersName": names.get(p.manager or ""),
            "Support Staff": "Yes" if p.support_staff else "No",
            "VIP": "Yes" if p.vip else "No",
            "Assignment Availability": "Yes" if p.available else "No",
            "Profile Status": "Enabled",
            "Client Sensitivity": "Standard",
            "Client Type": "Office-Based Employee",
            "Short Description": ".",
            "ReconciliationIdentity": cmdb.cmdb_instance_id(),
        }
    )


def _service(s: Any) -> dict[str, Any]:
    return _present(
        {
            "Name": s.name,
            "Company": s.company,
            "Description": s.description,
            "ShortDescription": s.name,
            "Category": "Business Service",
            "SMPM Service Owner": s.owner,
            "SMPM Change Coordinator": s.change_coordinator,
            "SMPM Problem Coordinator": s.problem_coordinator,
            "SMPM Capacity Manager": s.capacity_manager,
            "SMPM Availability Manager": s.availability_manager,
            "SMPM Support Group": s.support_group,
        }
    )
