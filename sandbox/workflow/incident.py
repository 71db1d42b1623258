"""Incident Management workflow on `HPD:Help Desk` and `HPD:IncidentInterface_Create`.

Emulated [reference 4.2, 4.3]:
- Required on create: Description, Impact, Urgency, Status, Reported Source, Service Type and a
  customer (First/Last name or login, looked up in CTM:People) unless the service type is
  Infrastructure Event. `z1D_Action` on the create form must be CREATE or absent.
- `Entry ID` and `Incident Number` from separate counters; Priority and Priority Weight from the
  impact and urgency weights; Status-History stamped on every status change.
- Pending and Resolved need a Status_Reason (a reason does not carry over to a new status);
  Resolved and Closed need a Resolution; a Closed incident cannot change status.
- Dates: Reported Date on create, Responded Date when first In Progress (or later), Last Resolved
  Date on Resolved, Closed Date on Closed, Re-Opened Date when a Resolved incident reopens.
- Assigned Group is looked up in CTM:Support Group (filling its id, organisation and company);
  a change of group counts a transfer and clears the assignee; Assignee Login ID fills Assignee.
Not emulated: assignment routing, approval, templates, the Assignee-before-In-Progress rule.
"""

from __future__ import annotations

from sandbox.errors import bad_value, required
from sandbox.forms import Form
from sandbox.forms.incident import CREATE_RENAMES, HELP_DESK
from sandbox.tx import Tx, instance_id
from sandbox.workflow import slm
from sandbox.workflow.base import Hooks, Record
from sandbox.workflow.common import (
    changed,
    history,
    person,
    person_named,
    require,
    support_group,
    with_priority,
)

OPEN = ("New", "Assigned", "In Progress", "Pending")
RESPONDED = ("In Progress", "Pending", "Resolved", "Closed")
ENTRY_ID_START = 100  # Entry ID runs ahead of Incident Number, as on the recorded server.

# CTM:People field -> Help Desk field, copied when the customer is identified.
CUSTOMER_FIELDS = {
    "Remedy Login ID": "Customer Login ID",
    "First Name": "First Name",
    "Last Name": "Last Name",
    "Middle Initial": "Middle Initial",
    "Person ID": "Person ID",
    "Company": "Contact Company",
    "Organization": "Organization",
    "Department": "Department",
    "Region": "Region",
    "Site Group": "Site Group",
    "Site": "Site",
    "Site ID": "Site ID",
    "Site Street": "Street",
    "Site City": "City",
    "Site Country": "Country",
    "Site State Province": "State Province",
    "Site Zip/Postal Code": "Zip/Postal Code",
    "Internet E-mail": "Internet E-mail",
    "Phone Number Business": "Phone Number",
    "VIP": "VIP",
    "Client Sensitivity": "Contact Sensitivity",
    "Client Type": "Contact Client Type",
}
_CREATE_NAMES = {base: name for name, base in CREATE_RENAMES.items()}


class HelpDesk(Hooks):
    forms = ("HPD:Help Desk",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        return self.file(tx, form, record, {})

    def file(self, tx: Tx, form: Form, record: Record, names: dict[str, str]) -> Record:
        """File a new incident; `names` renames fields in errors (create-form spellings)."""
        incident = dict(record)
        for name in (
            "Description",
            "Impact",
            "Urgency",
            "Status",
            "Reported Source",
            "Service Type",
        ):
            if incident.get(name) is None:
                raise required(names.get(name, name))
        _customer(tx, incident, names)
        _assignment(tx, {}, incident)
        incident["Entry ID"] = tx.next_number("HPD:Help Desk", "INC", start=ENTRY_ID_START)
        incident["Incident Number"] = tx.next_number("Incident Number", "INC")
        incident["InstanceId"] = instance_id("IDG")
        incident["Reported Date"] = incident.get("Reported Date") or tx.now
        incident["Total Transfers"] = 0
        for owner, assigned in (
            ("Owner Group", "Assigned Group"),
            ("Owner Group ID", "Assigned Group ID"),
            ("Owner Support Organization", "Assigned Support Organization"),
            ("Owner Support Company", "Assigned Support Company"),
        ):
            incident.setdefault(owner, incident.get(assigned))
        with_priority(incident, incident)
        _status_change(tx, {}, incident, incident)
        stored = tx.insert(form, incident)
        slm.attach(tx, stored)
        return stored

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        changes = dict(changes)
        if changed(old, changes, "Customer Login ID") and changes["Customer Login ID"]:
            _customer(tx, changes, {})
        _assignment(tx, old, changes)
        merged = {**old, **changes}
        if changed(old, changes, "Impact") or changed(old, changes, "Urgency"):
            with_priority(changes, merged)
        if changed(old, changes, "Status"):
            _status_change(tx, old, changes, merged)
        new = tx.update(form, old, changes)
        slm.incident_changed(tx, old, new)


def _customer(tx: Tx, incident: Record, names: dict[str, str]) -> None:
    login = incident.get("Customer Login ID")
    first, last = incident.get("First Name"), incident.get("Last Name")
    if login:
        found = person(tx, login, names.get("Customer Login ID", "Customer Login ID"))
    elif first and last:
        found = person_named(tx, first, last, names.get("First Name", "First Name"))
    elif incident.get("Service Type") == "Infrastructure Event":
        return
    else:
        field = names.get("First Name", "First Name")
        raise required(
            field,
            "name the customer (first and last name, or login) unless "
            "the service type is Infrastructure Event",
        )
    for source, target in CUSTOMER_FIELDS.items():
        if found.get(source) is not None:
            incident[target] = found[source]
    incident["Company"] = incident.get("Company") or found.get("Company")


def _assignment(tx: Tx, old: Record, changes: Record) -> None:
    if "Assigned Group" in changes:
        group = changes["Assigned Group"]
        if group is None:
            changes.update({"Assigned Group ID": None, "Assignee Login ID": None, "Assignee": None})
        else:
            _assign_group(tx, old, changes, group)
    if "Assignee Login ID" in changes:
        login = changes["Assignee Login ID"]
        changes["Assignee"] = person(tx, login, "Assignee Login ID")["Full Name"] if login else None


def _assign_group(tx: Tx, old: Record, changes: Record, group: str) -> None:
    found = support_group(tx, group, "Assigned Group", changes.get("Assigned Support Company"))
    changes["Assigned Group ID"] = found["Support Group ID"]
    changes["Assigned Support Organization"] = found["Support Organization"]
    changes["Assigned Support Company"] = found["Company"]
    changes["Last _Assigned_Date"] = tx.now
    if old.get("Assigned Group") and old["Assigned Group"] != group:
        changes["Total Transfers"] = (old.get("Total Transfers") or 0) + 1
        if "Assignee Login ID" not in changes:
            changes["Assignee Login ID"] = None
            changes["Assignee"] = None


def _status_change(tx: Tx, old: Record, changes: Record, merged: Record) -> None:
    """Apply the rules and dates of a move to `merged["Status"]` (on create, `old` is empty)."""
    status, before = merged["Status"], old.get("Status")
    if before == "Closed":
        raise bad_value("Status", "a Closed incident cannot change status")
    if old and "Status_Reason" not in changes:
        changes["Status_Reason"] = merged["Status_Reason"] = None
    if status in ("Pending", "Resolved"):
        require(merged, "Status_Reason", why=f"required when Status is {status}")
    if status in ("Resolved", "Closed"):
        require(merged, "Resolution", why=f"required when Status is {status}")
    now = tx.now
    if status in RESPONDED and not merged.get("Responded Date"):
        changes["Responded Date"] = now
    if status == "Resolved":
        changes["Last Resolved Date"] = now
    if status == "Closed":
        changes["Closed Date"] = now
        changes["Last Resolved Date"] = merged.get("Last Resolved Date") or now
    if before == "Resolved" and status in OPEN:
        changes["Re-Opened Date"] = now
    changes["Status-History"] = history(old.get("Status-History"), status, tx.user, now)


class IncidentCreate(Hooks):
    """`HPD:IncidentInterface_Create`: files the incident, keeps the submitted entry [4.2]."""

    forms = ("HPD:IncidentInterface_Create",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        action = record.get("z1D_Action")
        if action not in (None, "CREATE"):
            raise bad_value("z1D_Action", f"{action!r}: this form files incidents on CREATE")
        require(
            record, "Description", "Impact", "Urgency", "Status", "Reported Source", "Service_Type"
        )
        values = {}
        for name, value in record.items():
            target = CREATE_RENAMES.get(name, name)
            field = HELP_DESK.by_name.get(target)
            if field is not None and not field.readonly:
                values[target] = value
        incident = HelpDesk().file(tx, HELP_DESK, values, _CREATE_NAMES)
        return tx.insert(form, {**record, "Incident Number": incident["Incident Number"]})
