"""Rules shared by the ITSM applications: priority, status history, foundation look-ups.

Priority [reference 4.3]: Incident Management adds an impact weight and an urgency weight and maps
the sum to a priority. The weights are ITSM's shipped defaults as published by a Remedy
consultant (caropepe.com, "ITSM Incident Priority & Priority Weight", 2007): impact
Extensive 9, Significant 5, Moderate 3, Minor 0; urgency Critical 20, High 15, Medium 10, Low 0;
sums 0-9 Low, 10-15 Medium, 16-23 High, 24+ Critical. They reproduce every recorded pair
(Critical+Significant = 25 Critical; High+Significant = 20 High; Critical+Extensive = 29).
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_value, required
from sandbox.fields import format_date
from sandbox.forms import Form
from sandbox.tx import Tx
from sandbox.workflow.base import Record

IMPACT_WEIGHTS = {
    "1-Extensive/Widespread": 9,
    "2-Significant/Large": 5,
    "3-Moderate/Limited": 3,
    "4-Minor/Localized": 0,
}
URGENCY_WEIGHTS = {"1-Critical": 20, "2-High": 15, "3-Medium": 10, "4-Low": 0}
PRIORITY_FLOORS = ((24, "Critical"), (16, "High"), (10, "Medium"), (0, "Low"))


def priority(impact: str | None, urgency: str | None) -> tuple[str | None, int | None]:
    """(Priority, Priority Weight) for an impact and an urgency label; (None, None) if unset."""
    if impact is None or urgency is None:
        return None, None
    weight = IMPACT_WEIGHTS[impact] + URGENCY_WEIGHTS[urgency]
    label = next(label for floor, label in PRIORITY_FLOORS if weight >= floor)
    return label, weight


def with_priority(
    record: Record, merged: Record, *, weight_field: str | None = "Priority Weight"
) -> None:
    """Set Priority (and its weight) in `record` from the impact and urgency in `merged`."""
    label, weight = priority(merged.get("Impact"), merged.get("Urgency"))
    record["Priority"] = label
    if weight_field:
        record[weight_field] = weight


def history(old: dict[str, Any] | None, status: str, user: str, now: int) -> dict[str, Any]:
    """The Status-History object with `status` stamped now [2.12]."""
    out = dict(old or {})
    out[status] = {"user": user, "timestamp": format_date(now)}
    return out


def require(record: Record, *names: str, why: str | None = None) -> None:
    """AR error 326 naming the first of `names` that is empty."""
    for name in names:
        if record.get(name) in (None, ""):
            raise required(name, why)


def check_label(name: str, value: Any, labels: tuple[str, ...]) -> None:
    """306 when `value` (a create form's free-text status, say) is not one of `labels`."""
    if value is not None and value not in labels:
        raise bad_value(name, f"{value!r} is not one of: {', '.join(labels)}")


# -- foundation look-ups ---------------------------------------------------------------------------
def person(tx: Tx, login: str, field: str) -> Record:
    found = tx.first("CTM:People", **{"Remedy Login ID": login})
    if found is None:
        raise bad_value(field, f"no person with Remedy Login ID {login!r} in CTM:People")
    return found


def person_named(tx: Tx, first: str, last: str, field: str) -> Record:
    found = tx.first("CTM:People", **{"First Name": first, "Last Name": last})
    if found is None:
        raise bad_value(field, f"no person named {first} {last} in CTM:People")
    return found


def support_group(tx: Tx, name: str, field: str, company: str | None = None) -> Record:
    """The support group called `name` (in `company` when given); 306 naming `field` if none."""
    where = {"Support Group Name": name}
    if company:
        where["Company"] = company
    found = tx.first("CTM:Support Group", **where)
    if found is None:
        shown = f"{name!r}" + (f" of company {company!r}" if company else "")
        raise bad_value(field, f"no support group {shown} in CTM:Support Group")
    return found


def changed(old: Record, changes: Record, name: str) -> bool:
    return name in changes and changes[name] != old.get(name)


def fill_group(
    tx: Tx,
    changes: Record,
    name: str,
    *,
    id: str | None = None,
    organization: str | None = None,
    company: str | None = None,
) -> None:
    """When `changes` sets the group field `name`, fill its id, organisation and company."""
    if name not in changes:
        return
    found = support_group(tx, changes[name], name) if changes[name] else None
    for target, source in (
        (id, "Support Group ID"),
        (organization, "Support Organization"),
        (company, "Company"),
    ):
        if target:
            changes[target] = found[source] if found else None


def fill_person(tx: Tx, changes: Record, login_field: str, name_field: str) -> None:
    """When `changes` sets a login field, fill the matching full-name field from CTM:People."""
    if login_field in changes:
        login = changes[login_field]
        changes[name_field] = person(tx, login, login_field)["Full Name"] if login else None


def stamp_status(
    tx: Tx,
    old: Record,
    changes: Record,
    merged: Record,
    *,
    status_field: str,
    reason_field: str | None = None,
    reason_states: tuple[str, ...] = (),
    dates: dict[str, str] | None = None,
    history_field: str = "Status-History",
) -> None:
    """The common part of a status move: reason rule, date stamps and Status-History."""
    status = merged[status_field]
    if reason_field and status in reason_states:
        require(merged, reason_field, why=f"required when {status_field} is {status}")
    for state, field in (dates or {}).items():
        if status == state:
            changes[field] = tx.now
    changes[history_field] = history(old.get(history_field), status, tx.user, tx.now)


def copy_fields(record: Record, target: Form, renames: dict[str, str]) -> Record:
    """The values of a create-form record that the target base form takes (renamed)."""
    out = {}
    for name, value in record.items():
        field = target.by_name.get(renames.get(name, name))
        if field is not None and not field.readonly:
            out[field.name] = value
    return out
