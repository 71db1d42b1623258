"""Knowledge articles: a `KBA` document id, the author, groups and assignee that exist, and a
status history. Approval workflow itself is not emulated: status moves as clients set it."""

from __future__ import annotations

from sandbox.forms import Form
from sandbox.tx import Tx
from sandbox.workflow.base import Hooks, Record
from sandbox.workflow.common import (
    changed,
    fill_group,
    fill_person,
    require,
    stamp_status,
)


class KnowledgeArticles(Hooks):
    forms = ("RKM:KnowledgeArticleManager",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(values, "ArticleTitle")
        values["DocID"] = tx.next_number("DocID", "KBA", width=11)
        values["Author"] = values.get("Author") or tx.user
        values["Status"] = values.get("Status") or "Draft"
        _fill(tx, values)
        stamp_status(tx, {}, values, values, status_field="Status", history_field="Status History")
        return tx.insert(form, values)

    def update(self, tx: Tx, form: Form, old: Record, changes: Record) -> None:
        changes = dict(changes)
        _fill(tx, changes)
        if changed(old, changes, "Status"):
            merged = {**old, **changes}
            stamp_status(
                tx, old, changes, merged, status_field="Status", history_field="Status History"
            )
        tx.update(form, old, changes)


def _fill(tx: Tx, changes: Record) -> None:
    for group in ("Owner Group", "Assigned Group"):
        fill_group(tx, changes, group)
    fill_person(tx, changes, "Assignee Login ID", "Assignee")
