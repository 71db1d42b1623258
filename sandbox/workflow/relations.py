"""Work logs and ticket associations [reference 4.4, 4.7].

A work log must name an existing parent ticket (`Incident Number`, `Problem Investigation ID`,
`Known Error ID` or `Infrastructure Change ID`) and carry a Description or Detailed Description;
it gets a `WLG` id, the submitter and submit date, and defaults to General Information, Internal,
not secure.

An association row names its owner in `Request ID02` (which must exist) and the related record
in `Request ID01` on `Form Name01`. When that form is another ticket's base form, the related
ticket must exist and, as ITSM workflow does, the reciprocal row is written on that ticket's
association form ("Caused" <-> "Caused By", "Duplicate of" <-> "Original of", "Resolved" <->
"Resolved by", otherwise "Related to"). Deleting a row deletes its reciprocal.
"""

from __future__ import annotations

from sandbox.errors import bad_value, required
from sandbox.forms import Form
from sandbox.forms.worklog import ASSOCIATION_OWNERS, WORK_LOG_PARENTS
from sandbox.tx import Tx, instance_id
from sandbox.workflow.base import Hooks, Record
from sandbox.workflow.common import require

# Ticket base form -> (its association form, its ticket-number field, its Request Type label).
TICKETS = {
    "HPD:Help Desk": ("HPD:Associations", "Incident Number", "Incident"),
    "PBM:Problem Investigation": (
        "PBM:Investigation Associations",
        "Problem Investigation ID",
        "Problem Investigation",
    ),
    "PBM:Known Error": ("PBM:Investigation Associations", "Known Error ID", "Known Error"),
    "CHG:Infrastructure Change": (
        "CHG:Associations",
        "Infrastructure Change ID",
        "Infrastructure Change",
    ),
}
RECIPROCAL = {
    "Caused": "Caused By",
    "Caused By": "Caused",
    "Duplicate of": "Original of",
    "Original of": "Duplicate of",
    "Resolved": "Resolved by",
    "Resolved by": "Resolved",
}
_PARENT_BASE = {field: base for base, (_, field, _) in TICKETS.items()}


class WorkLogs(Hooks):
    forms = tuple(WORK_LOG_PARENTS)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        field = WORK_LOG_PARENTS[form.name]
        base = _PARENT_BASE[field]
        require(record, field)
        if tx.first(base, **{field: record[field]}) is None:
            raise bad_value(field, f"no {base} entry {record[field]!r}")
        if not (record.get("Description") or record.get("Detailed Description")):
            raise required("Detailed Description", "a work log needs a text")
        values = dict(record)
        values["Work Log ID"] = tx.next_number("WLG", "WLG")
        values["Work Log Submit Date"] = tx.now
        defaults = {
            "Work Log Type": "General Information",
            "View Access": "Internal",
            "Secure Work Log": "No",
            "Status": "Enabled",
            "Short Description": ".",
            "Work Log Submitter": tx.user,
            "Work Log Date": tx.now,
            "InstanceId": instance_id("AGG"),
        }
        for name, default in defaults.items():
            values[name] = values.get(name) or default
        return tx.insert(form, values)


class Associations(Hooks):
    forms = tuple(ASSOCIATION_OWNERS)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        require(record, "Request ID02", "Request ID01", "Form Name01", "Association Type01")
        source_form, source = _owner(tx, form, record["Request ID02"])
        values = {
            **record,
            "Form Name02": source_form,
            "Request Type02": TICKETS[source_form][2],
            "Status": "Enabled",
        }
        target_form = record["Form Name01"]
        target = None
        if target_form in TICKETS:
            _, number_field, label = TICKETS[target_form]
            related = record["Request ID01"]
            target = tx.first(target_form, **{number_field: related})
            if target is None:
                raise bad_value("Request ID01", f"no {target_form} entry {related!r}")
            values["Request Type01"] = values.get("Request Type01") or label
            values["Request Description01"] = values.get("Request Description01") or target.get(
                "Description"
            )
        stored = tx.insert(form, values)
        if target is not None:
            _reciprocate(tx, stored, source)
        return stored

    def delete(self, tx: Tx, form: Form, old: Record) -> None:
        tx.delete(form, old)
        if old["Form Name01"] in TICKETS:
            other_form = TICKETS[old["Form Name01"]][0]
            for row in tx.find(
                other_form,
                **{"Request ID02": old["Request ID01"], "Request ID01": old["Request ID02"]},
            ):
                tx.delete(other_form, row)


def _owner(tx: Tx, form: Form, ticket_id: str) -> tuple[str, Record]:
    bases = ASSOCIATION_OWNERS[form.name]
    for base in bases:
        found = tx.first(base, **{TICKETS[base][1]: ticket_id})
        if found is not None:
            return base, found
    raise bad_value("Request ID02", f"no {' or '.join(bases)} entry {ticket_id!r}")


def _reciprocate(tx: Tx, row: Record, source: Record) -> None:
    """The row seen from the related ticket, unless it is already there."""
    other_form = TICKETS[row["Form Name01"]][0]
    kind = RECIPROCAL.get(row["Association Type01"], "Related to")
    mirror = {
        "Request ID02": row["Request ID01"],
        "Request ID01": row["Request ID02"],
        "Association Type01": kind,
    }
    if tx.first(other_form, **mirror) is not None:
        return
    tx.insert(
        other_form,
        {
            **mirror,
            "Form Name01": row["Form Name02"],
            "Request Type01": row["Request Type02"],
            "Form Name02": row["Form Name01"],
            "Request Type02": row["Request Type01"],
            "Request Description01": source.get("Description"),
            "Status": "Enabled",
        },
    )
