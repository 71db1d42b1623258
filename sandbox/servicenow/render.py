"""Rows as the Table API shows them, in the three `sysparm_display_value` modes [1.3].

| mode | plain field | reference | journal field |
|---|---|---|---|
| `false` (default) | value | `{"link", "value"}` | `""` |
| `true` | display value | `{"display_value", "link"}` | entries, newest first |
| `all` | `{"display_value", "value"}` | `{"display_value", "value", "link"}` | same, value `""` |

`sysparm_exclude_reference_link=true` drops `link`, so a reference collapses to its value
(`false`), its display value (`true`) or `{"display_value", "value"}` (`all`). An empty
reference is `""` (`{"display_value": "", "value": ""}` with `all`). Links point at the
reference's own table, built from the request's base URL and API version. Dot-walked fields
(`caller_id.email`) are flat keys, shown the same way. Display values: choice labels, the
referenced record's display column, table labels for `sys_class_name`, durations in words;
dates stay UTC `YYYY-MM-DD HH:MM:SS` (the users' time zone and format).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sandbox.servicenow import journal
from sandbox.servicenow.schema.model import CLASS_NAME, REFERENCE, Column
from sandbox.servicenow.storage import SnStore, quoted
from sandbox.servicenow.values import to_display, to_wire

Row = dict[str, Any]
CHUNK = 500


@dataclass(frozen=True)
class View:
    mode: str = "false"  # "false", "true" or "all"
    exclude_links: bool = False
    fields: tuple[str, ...] | None = None  # None: every column of the table
    api_base: str = ""  # e.g. "http://127.0.0.1:8008/api/now/v2"


class Renderer:
    """Renders rows of one table for one request, with batched look-ups."""

    def __init__(self, sn: SnStore, table: str, view: View) -> None:
        self.sn = sn
        self.schema = sn.schema
        self.table = table
        self.view = view
        self.outputs = self._outputs()

    def _outputs(self) -> list[tuple[str, list[Column]]]:
        """(key, hops) per output field; unknown fields are ignored [1.2]."""
        columns = self.schema.columns(self.table)
        if self.view.fields is None:
            return [(name, [column]) for name, column in columns.items()]
        out = []
        for name in self.view.fields:
            hops = self._hops(name)
            if hops and name not in {key for key, _ in out}:
                out.append((name, hops))
        return out

    def _hops(self, path: str) -> list[Column] | None:
        table, hops = self.table, []
        for i, name in enumerate(path.split(".")):
            column = self.schema.columns(table).get(name) if table in self.schema else None
            if column is None:
                return None
            hops.append(column)
            if i < path.count("."):
                if column.type != REFERENCE or column.reference not in self.schema:
                    return None
                table = column.reference  # type: ignore[assignment]
        return hops

    # -- rendering --------------------------------------------------------------------------------
    def render(self, rows: list[Row]) -> list[dict[str, Any]]:
        values = {key: self._walk(rows, hops) for key, hops in self.outputs}
        displays = self._displays(values) if self.view.mode != "false" else {}
        notes = self._journals(rows)
        out = []
        for i, row in enumerate(rows):
            item: dict[str, Any] = {}
            for key, hops in self.outputs:
                column = hops[-1]
                if column.is_journal:
                    item[key] = self._journal(column, notes, row, len(hops) > 1)
                else:
                    item[key] = self._field(column, values[key][i], displays)
            out.append(item)
        return out

    def _field(self, column: Column, stored: Any, displays: dict[tuple[str, str], str]) -> Any:
        value = to_wire(column, stored)
        mode, plain_link = self.view.mode, not self.view.exclude_links
        if column.type == REFERENCE:
            if value == "":
                return {"display_value": "", "value": ""} if mode == "all" else ""
            shown = displays.get((column.reference or "", value), value)
            link = f"{self.view.api_base}/table/{column.reference}/{value}"
            if mode == "false":
                return {"link": link, "value": value} if plain_link else value
            if mode == "true":
                return {"display_value": shown, "link": link} if plain_link else shown
            both = {"display_value": shown, "value": value}
            return {**both, "link": link} if plain_link else both
        if mode == "false":
            return value
        if column.type == CLASS_NAME:
            shown = self.schema[value].label if value in self.schema else value
        else:
            shown = to_display(column, stored)
        return shown if mode == "true" else {"display_value": shown, "value": value}

    def _journal(self, column: Column, notes: Any, row: Row, walked: bool) -> Any:
        if self.view.mode == "false":
            return ""
        entries, names = notes
        shown = (
            "" if walked else journal.display(entries.get(row["sys_id"], []), column.name, names)
        )
        return shown if self.view.mode == "true" else {"display_value": shown, "value": ""}

    # -- look-ups ---------------------------------------------------------------------------------
    def _walk(self, rows: list[Row], hops: list[Column]) -> list[Any]:
        """The stored values at the end of a dot-walk, one per row."""
        values = [row.get(hops[0].name) for row in rows]
        for previous, column in itertools.pairwise(hops):
            found = self._lookup(previous.reference or "", column.name, values)
            values = [found.get(v) if v else None for v in values]
        return values

    def _lookup(self, table: str, column: str, ids: list[Any]) -> dict[str, Any]:
        wanted = sorted({v for v in ids if v})
        storage = self.schema.storage(table)
        out: dict[str, Any] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT sys_id, {quoted(column)} FROM {storage} WHERE sys_id IN ({marks})"
            out.update({r[0]: r[1] for r in self.sn.store.select(sql, chunk)})
        return out

    def _displays(self, values: dict[str, list[Any]]) -> dict[tuple[str, str], str]:
        """(table, sys_id) -> display value, for every reference shown."""
        wanted: dict[str, list[Any]] = defaultdict(list)
        for key, hops in self.outputs:
            column = hops[-1]
            if column.type == REFERENCE and column.reference in self.schema:
                wanted[column.reference or ""] += values[key]
        out: dict[tuple[str, str], str] = {}
        for table, ids in wanted.items():
            display = self.schema[table].display
            column = self.schema.columns(table)[display]
            found = self._lookup(table, display, ids)
            if column.type == REFERENCE:  # e.g. task_sla shows its SLA definition's name
                names = self._lookup(
                    column.reference or "",
                    self.schema[column.reference or ""].display,
                    list(found.values()),
                )
                found = {k: names.get(v, v) for k, v in found.items()}
            out.update({(table, k): to_wire(column, v) for k, v in found.items()})
        return out

    def _journals(self, rows: list[Row]) -> tuple[dict[str, list[Row]], dict[str, str]]:
        shown = any(hops[-1].is_journal and len(hops) == 1 for _, hops in self.outputs)
        if self.view.mode == "false" or not shown or not rows:
            return {}, {}
        entries = journal.entries_of(self.sn, [r["sys_id"] for r in rows])
        logins = [e["sys_created_by"] for found in entries.values() for e in found]
        return entries, journal.names_of(self.sn, logins)
