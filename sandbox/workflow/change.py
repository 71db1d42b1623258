"""Change Management and task workflow [reference 4.6].

`CHG:ChangeInterface_Create` (`z1D_Action` CREATE or absent) files a change on
`CHG:Infrastructure Change`; required: Description, Impact, Urgency, Status and Timing (the
create form's names). BMC also lists Company, Location Company and the requester's First and
Last Name as required; the sandbox fills those from the submitting user's CTM:People record
instead, because the Remedy mapping sends none of them. Priority as for incidents; Pending needs a
Status Reason; Implementation In Progress stamps Actual Start Date, Completed stamps Completed
Date and Actual End Date.

`TMS:Task` entries get `TAS` ids; a task's RootRequestID must name an existing ticket of its
RootRequestFormName (inferred from the id prefix when absent).
"""

from __future__ import annotations

from sandbox.errors import bad_value
from sandbox.forms import Form
from sandbox.forms.change import CHANGE
from sandbox.forms.selections import CHANGE_STATUS
from sandbox.tx import Tx, instance_id
from sandbox.workflow.base import Hooks, Record
from sandbox.workflow.common import (
    changed,
    check_label,
    copy_fields,
    fill_group,
    fill_person,
    require,
    stamp_status,
    with_priority,
)

CHANGE_DATES = {"Completed": "Completed Date"}
# Base form of a task's parent -> the field holding the ticket number given as RootRequestID.
TASK_PARENTS = {
    "HPD:Help Desk": "Incident Number",
    "CHG:Infrastructure Change": "Infrastructure Change ID",
    "PBM:Problem Investigation": "Problem Investigation ID",
    "PBM:Known Error": "Known Error ID",
}
PREFIX_FORMS = {
    "INC": "HPD:Help Desk",
    "CRQ": "CHG:Infrastructure Change",
    "PBI": "PBM:Problem Investigation",
    "PKE": "PBM:Known Error",
}


class InfrastructureChange(Hooks):
    forms = ("CHG:Infrastructure Change",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(
            values, "Description", "Impact", "Urgency", "Change Request Status", "Change Timing"
        )
        values["Infrastructure Change ID"] = tx.next_number("CHG:Infrastructure Change", "CRQ")
        values["InstanceId"] = instance_id("AGG")
        _requester(tx, values)
        _fill(tx, values)
        with_priority(values, values)
        _status(tx, {}, values, values)
        return tx.insert(form, values)

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        changes = dict(changes)
        _fill(tx, changes)
        merged = {**old, **changes}
        if changed(old, changes, "Impact") or changed(old, changes, "Urgency"):
            with_priority(changes, merged)
        if changed(old, changes, "Change Request Status"):
            _status(tx, old, changes, merged)
        tx.update(form, old, changes)


def _requester(tx: Tx, values: Record) -> None:
    me = tx.first("CTM:People", **{"Remedy Login ID": tx.user}) or {}
    values.setdefault("First Name", me.get("First Name"))
    values.setdefault("Last Name", me.get("Last Name"))
    values["Company"] = values.get("Company") or me.get("Company")
    values["Location Company"] = values.get("Location Company") or values["Company"]


def _fill(tx: Tx, changes: Record) -> None:
    fill_group(
        tx,
        changes,
        "Support Group Name",
        id="Support Group ID",
        organization="Support Organization",
        company="Support Company",
    )
    fill_person(tx, changes, "ASLOGID", "ASCHG")


def _status(tx: Tx, old: Record, changes: Record, merged: Record) -> None:
    stamp_status(
        tx,
        old,
        changes,
        merged,
        status_field="Change Request Status",
        reason_field="Status Reason",
        reason_states=("Pending",),
        dates=CHANGE_DATES,
    )
    status = merged["Change Request Status"]
    if status == "Implementation In Progress" and not merged.get("Actual Start Date"):
        changes["Actual Start Date"] = tx.now
    if status == "Completed" and not merged.get("Actual End Date"):
        changes["Actual End Date"] = tx.now


class ChangeCreate(Hooks):
    forms = ("CHG:ChangeInterface_Create",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        action = record.get("z1D_Action")
        if action not in (None, "CREATE"):
            raise bad_value("z1D_Action", f"{action!r}: this form files changes on CREATE")
        require(record, "Description", "Impact", "Urgency", "Status", "Timing")
        check_label("Status", record["Status"], CHANGE_STATUS.labels)
        renames = {
            "Status": "Change Request Status",
            "Timing": "Change Timing",
            "Request End Date": "Requested End Date",
        }
        filed = InfrastructureChange().create(tx, CHANGE, copy_fields(record, CHANGE, renames))
        number = filed["Infrastructure Change ID"]
        return tx.insert(
            form, {**record, "Change_Entry_ID": number, "Infrastructure Change Id": number}
        )


class Task(Hooks):
    forms = ("TMS:Task",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(values, "Summary")
        values["Task ID"] = tx.next_number("TMS:Task", "TAS")
        values["InstanceId"] = instance_id("TMG")
        for name, default in (
            ("TaskName", values["Summary"]),
            ("TaskType", "Manual"),
            ("State", "Active"),
            ("Sequence", 1),
            ("TicketType", "Task"),
            ("LookupKeyword", "TMSTASK"),
        ):
            values[name] = values.get(name) or default
        _parent(tx, values)
        _fill_task(tx, values)
        values["Status"] = values.get("Status") or "Staged"
        _task_status(tx, {}, values, values)
        return tx.insert(form, values)

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        changes = dict(changes)
        _fill_task(tx, changes)
        if changed(old, changes, "Status"):
            _task_status(tx, old, changes, {**old, **changes})
        tx.update(form, old, changes)


def _parent(tx: Tx, values: Record) -> None:
    parent_id = values.get("RootRequestID")
    if not parent_id:
        return
    form_name = values.get("RootRequestFormName") or PREFIX_FORMS.get(parent_id[:3])
    if form_name not in TASK_PARENTS:
        return  # a parent on a form the sandbox does not model is taken on trust
    parent = tx.first(form_name, **{TASK_PARENTS[form_name]: parent_id})
    if parent is None:
        raise bad_value("RootRequestID", f"no {form_name} entry {parent_id!r}")
    values.update(
        {
            "RootRequestFormName": form_name,
            "RootRequestName": parent_id,
            "RootRequestInstanceID": parent["InstanceId"],
            "ParentID": parent["InstanceId"],
            "RootRequestMode": "Real",
            "Parent Type": "Root Request",
        }
    )


def _fill_task(tx: Tx, changes: Record) -> None:
    fill_group(
        tx,
        changes,
        "Assignee Group",
        id="Assignee Group ID",
        organization="Assignee Organization",
        company="Assignee Company",
    )


def _task_status(tx: Tx, old: Record, changes: Record, merged: Record) -> None:
    stamp_status(
        tx,
        old,
        changes,
        merged,
        status_field="Status",
        history_field="Status History",
        dates={"Assigned": "Assign Time", "Closed": "End Time"},
    )
    if merged["Status"] == "Work In Progress" and not merged.get("Start Time"):
        changes["Start Time"] = changes["Actual Start Date"] = tx.now
    if merged["Status"] == "Closed":
        changes["Actual End Date"] = tx.now


class Release(Hooks):
    """`RMS:Release`: an `RLM` Release ID beside the entry id, and a status history."""

    forms = ("RMS:Release",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(values, "Description")
        values["Release ID"] = tx.next_number("RMS:Release", "RLM")
        values["Status"] = values.get("Status") or "Draft"
        if values.get("Impact") and values.get("Urgency"):
            with_priority(values, values, weight_field=None)
        stamp_status(tx, {}, values, values, status_field="Status")
        return tx.insert(form, values)
