"""Journal fields: `work_notes` and `comments` [2.9].

Writing either field with POST or PATCH appends an entry to `sys_journal_field` (`element_id` =
the record's sys_id, `element`, `name` = its table, `value`); the record itself stores nothing.
Read raw, a journal field is `""`; read as a display value it is every entry, newest first, as
`"<YYYY-MM-DD HH:MM:SS> - <user's name> (Work notes)\\n<text>\\n\\n"` (`Additional comments` for
comments); `comments_and_work_notes` holds both kinds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sandbox.servicenow.storage import SnStore

KINDS = {"work_notes": "Work notes", "comments": "Additional comments"}
BOTH = "comments_and_work_notes"
CHUNK = 500


def append(sn: SnStore, entry: dict[str, Any]) -> None:
    """Store one entry: `element_id`, `element`, `name`, `value` and the sys_ fields."""
    sn.insert("sys_journal_field", entry)


def entries_of(sn: SnStore, sys_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """sys_id -> its journal entries, newest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    storage = sn.schema.storage("sys_journal_field")
    for start in range(0, len(sys_ids), CHUNK):
        chunk = list(sys_ids[start : start + CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows = sn.store.select(
            f"SELECT element_id, element, value, sys_created_on, sys_created_by FROM {storage} "
            f"WHERE element_id IN ({marks}) AND element IN ('work_notes', 'comments') "
            "ORDER BY sys_created_on DESC, _row DESC",
            chunk,
        )
        for row in rows:
            out[row[0]].append(dict(row))
    return out


def names_of(sn: SnStore, logins: Iterable[str]) -> dict[str, str]:
    """user_name -> the user's display name, for journal headers."""
    wanted = sorted(set(logins))
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = sn.store.select(
        f"SELECT user_name, name FROM {sn.schema.storage('sys_user')} WHERE user_name IN ({marks})",
        wanted,
    )
    return {row[0]: row[1] or row[0] for row in rows}


def display(entries: list[dict[str, Any]], element: str, names: dict[str, str]) -> str:
    """The display value of one journal field from a record's entries (newest first)."""
    kinds = set(KINDS) if element == BOTH else {element}
    return "".join(
        f"{e['sys_created_on']} - {names.get(e['sys_created_by'], e['sys_created_by'])} "
        f"({KINDS[e['element']]})\n{e['value']}\n\n"
        for e in entries
        if e["element"] in kinds
    )
