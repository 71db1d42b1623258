"""Problem Management workflow [reference 4.5].

`PBM:ProblemInterface_Create` files a problem investigation (`z1D_Action` PROBLEM; status key
`Status`) or a known error (KNOWNERROR; status key `Known Error Status`, or `Status`). Problem
investigations get one id for both `Sys-Problem Investigation ID` and `Problem Investigation ID`
(as in get_prob.json); known errors get their `Known Error ID` from a counter of its own, apart
from the entry id `Sys-Known Error ID` (PKE...230 vs PKE...250 in get_known_error.json).
Required: Description, Impact, Urgency and a status. Priority as for incidents. A problem moving
to Pending needs `Invesitgation Status Reason` (sic); Completed stamps `Last Completed Date`;
a known error moving to Corrected stamps `Last Corrected Date`.
"""

from __future__ import annotations

from typing import ClassVar

from sandbox.errors import bad_value, required
from sandbox.forms import Form
from sandbox.forms.problem import KNOWN_ERROR, PROBLEM
from sandbox.forms.selections import KNOWN_ERROR_STATUS, PROBLEM_STATUS
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


class _ProblemLike(Hooks):
    status_field: ClassVar[str] = ""
    dates: ClassVar[dict[str, str]] = {}
    reason_field: ClassVar[str | None] = None
    reason_states: ClassVar[tuple[str, ...]] = ()

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(values, "Description", "Impact", "Urgency", self.status_field)
        self.assign_ids(tx, values)
        values["InstanceId"] = instance_id("AGG")
        self.fill(tx, values)
        with_priority(values, values)
        stamp_status(
            tx,
            {},
            values,
            values,
            status_field=self.status_field,
            reason_field=self.reason_field,
            reason_states=self.reason_states,
            dates=self.dates,
        )
        return tx.insert(form, values)

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        changes = dict(changes)
        self.fill(tx, changes)
        merged = {**old, **changes}
        if changed(old, changes, "Impact") or changed(old, changes, "Urgency"):
            with_priority(changes, merged)
        if changed(old, changes, self.status_field):
            stamp_status(
                tx,
                old,
                changes,
                merged,
                status_field=self.status_field,
                reason_field=self.reason_field,
                reason_states=self.reason_states,
                dates=self.dates,
            )
        tx.update(form, old, changes)

    def assign_ids(self, tx: Tx, values: Record) -> None:
        raise NotImplementedError

    def fill(self, tx: Tx, changes: Record) -> None:
        fill_group(
            tx,
            changes,
            "Assigned Group Pblm Mgr",
            id="Support Group ID Pbm Mgr",
            organization="Support Organization Pblm Mgr",
            company="Support Company Pblm Mgr",
        )
        fill_person(tx, changes, "Problem Manager Login", "Assignee Pblm Mgr")


class ProblemInvestigation(_ProblemLike):
    forms = ("PBM:Problem Investigation",)
    status_field = "Investigation Status"
    dates: ClassVar[dict[str, str]] = {"Completed": "Last Completed Date"}
    reason_field = "Invesitgation Status Reason"
    reason_states = ("Pending",)

    def assign_ids(self, tx: Tx, values: Record) -> None:
        number = tx.next_number("PBM:Problem Investigation", "PBI")
        values["Sys-Problem Investigation ID"] = values["Problem Investigation ID"] = number

    def fill(self, tx: Tx, changes: Record) -> None:
        super().fill(tx, changes)
        fill_group(
            tx,
            changes,
            "Assigned Group",
            id="Assigned Group ID",
            organization="Assigned Support Organization",
            company="Assigned Support Company",
        )
        fill_person(tx, changes, "Assignee Login ID", "Assignee")


class KnownError(_ProblemLike):
    forms = ("PBM:Known Error",)
    status_field = "Known Error Status"
    dates: ClassVar[dict[str, str]] = {"Corrected": "Last Corrected Date"}

    def assign_ids(self, tx: Tx, values: Record) -> None:
        values["Sys-Known Error ID"] = tx.next_number("PBM:Known Error", "PKE")
        values["Known Error ID"] = tx.next_number("Known Error ID", "PKE", start=20)
        values.setdefault("View Access", "Internal")
        values.setdefault("Searchable", "Yes")

    def fill(self, tx: Tx, changes: Record) -> None:
        super().fill(tx, changes)
        fill_group(
            tx,
            changes,
            "Assigned Group",
            id="Support Group ID",
            organization="Assigned Support Organization",
            company="Assigned Support Company",
        )
        fill_person(tx, changes, "Assignee Login", "Assignee")


class ProblemCreate(Hooks):
    """`PBM:ProblemInterface_Create`: files a problem or a known error, keeps the entry."""

    forms = ("PBM:ProblemInterface_Create",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        action = record.get("z1D_Action")
        if action is None:
            raise required("z1D_Action", "PROBLEM or KNOWNERROR")
        require(record, "Description", "Impact", "Urgency")
        if action == "PROBLEM":
            check_label("Status", record.get("Status"), PROBLEM_STATUS.labels)
            require(record, "Status")
            values = copy_fields(record, PROBLEM, {"Status": "Investigation Status"})
            filed = ProblemInvestigation().create(tx, PROBLEM, values)
            return tx.insert(
                form, {**record, "Problem Investigation ID": filed["Problem Investigation ID"]}
            )
        if action == "KNOWNERROR":
            status_key = "Known Error Status" if record.get("Known Error Status") else "Status"
            check_label(status_key, record.get(status_key), KNOWN_ERROR_STATUS.labels)
            require(record, status_key)
            renames = {} if status_key == "Known Error Status" else {"Status": status_key}
            values = copy_fields(record, KNOWN_ERROR, renames)
            filed = KnownError().create(tx, KNOWN_ERROR, values)
            return tx.insert(form, {**record, "Known Error ID": filed["Known Error ID"]})
        raise bad_value("z1D_Action", f"{action!r} is not PROBLEM or KNOWNERROR")
