"""The Aggregate API: `GET /api/now[/v1]/stats/{table}` [reference 1.9].

`sysparm_count=true`, `sysparm_avg_fields`, `_min_fields`, `_max_fields`, `_sum_fields` over the
rows `sysparm_query` (or name-value pairs) selects; `sysparm_group_by=a,b` groups them,
`sysparm_having=count^priority^>^3` filters groups (aggregate^field^operator^value, several
comma-separated), `sysparm_order_by=AVG^state`, `state^DESC` or `COUNT^DESC` orders them.
Ungrouped, `result` is an object `{"stats": {...}}`; grouped, an array of
`{"stats", "groupby_fields": [{"value", "field"}]}`. Every aggregate is a string; averages have
four decimals, as in the documented sample. With `sysparm_display_value=true` a group's value is
its display value; with `all` both are given (`value`, `display_value`) [shape UNCONFIRMED].
Without a count or an aggregate field, no aggregate is computed: `{"stats": {}}`.
"""

from __future__ import annotations

from typing import Any

from sandbox.servicenow.calls import Answer, Call
from sandbox.servicenow.errors import invalid_table
from sandbox.servicenow.params import full_query, options
from sandbox.servicenow.query_sql import Compiler
from sandbox.servicenow.render import Renderer, View
from sandbox.servicenow.schema.model import Column
from sandbox.servicenow.storage import quoted
from sandbox.servicenow.table_api import STATS, TableApi
from sandbox.servicenow.values import to_wire

AGGREGATES = ("avg", "min", "max", "sum")
_HAVING_OPS = {"=", "!=", ">", ">=", "<", "<="}


class AggregateApi:
    def __init__(self, api: TableApi) -> None:
        self.api = api
        self.sn = api.sn
        api.extra["stats"] = self.handle

    def handle(self, call: Call, user: str) -> Answer:
        found = STATS.match(call.path)
        assert found is not None
        table = found.group(2)
        if table not in self.sn.schema:
            raise invalid_table(table)
        self.api.auth.check_query(user, table)
        actor = self.api.actor(user)
        self.api.records.prepare_read(table, actor.now)
        given = dict(call.items)
        opts = options(call.items)
        columns = self.sn.schema.columns(table)
        selects = self._selects(given, columns)
        groups = [g for g in _names(given.get("sysparm_group_by")) if _plain(columns, g)]
        if not selects and not groups:
            return Answer(200, {"result": {"stats": {}}})
        compiler = Compiler(table, actor.context(), self.sn.schema)
        where = compiler.where(full_query(table, opts))
        scope, scope_params = self.sn.class_filter(table, "t.")
        group_sql = [f"t.{quoted(g)}" for g in groups]
        sql = (
            f"SELECT {', '.join([*group_sql, *(s for _, _, s in selects)]) or '1'} "
            f"FROM {self.sn.schema.storage(table)} t WHERE {scope} AND ({where.text})"
        )
        params = [*scope_params, *where.params]
        if groups:
            having, having_params = _having(given.get("sysparm_having"), columns)
            sql += f" GROUP BY {', '.join(group_sql)}{having}"
            sql += _order(given.get("sysparm_order_by"), columns, group_sql)
            params += having_params
        rows = self.sn.store.select(sql, params)
        if not groups:
            return Answer(200, {"result": {"stats": _stats(selects, rows[0], 0, columns)}})
        view = View(opts.display, True, tuple(groups), "")
        result = [self._group(table, view, groups, row, selects, columns) for row in rows]
        return Answer(200, {"result": result})

    @staticmethod
    def _selects(given: dict[str, str], columns: dict[str, Column]) -> list[tuple[str, str, str]]:
        """(aggregate, field, SQL) for each aggregate asked for; invalid fields ignored."""
        out = []
        if (given.get("sysparm_count") or "").lower() == "true":
            out.append(("count", "", "COUNT(*)"))
        for kind in AGGREGATES:
            for name in _names(given.get(f"sysparm_{kind}_fields")):
                if _plain(columns, name):
                    out.append((kind, name, f"{kind.upper()}(t.{quoted(name)})"))
        return out

    def _group(
        self,
        table: str,
        view: View,
        groups: list[str],
        row: Any,
        selects: list[tuple[str, str, str]],
        columns: dict[str, Column],
    ) -> dict[str, Any]:
        fields = []
        raw = {name: row[i] for i, name in enumerate(groups)}
        shown = Renderer(self.sn, table, view).render([{"sys_id": "", **raw}])[0]
        for name in groups:
            value = to_wire(columns[name], raw[name])
            item = {"value": value, "field": name}
            if view.mode == "true":
                item["value"] = shown[name]
            elif view.mode == "all":
                item["display_value"] = shown[name]["display_value"]
            fields.append(item)
        return {"stats": _stats(selects, row, len(groups), columns), "groupby_fields": fields}


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _plain(columns: dict[str, Column], name: str) -> bool:
    return name in columns and not columns[name].is_journal


def _stats(
    selects: list[tuple[str, str, str]], row: Any, skip: int, columns: dict[str, Column]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (kind, name, _) in enumerate(selects):
        value = row[skip + i]
        if kind == "count":
            out["count"] = str(value)
            continue
        if value is None:
            shown = ""
        elif kind == "avg":
            shown = f"{float(value):.4f}"
        elif kind == "sum" and isinstance(value, float) and not value.is_integer():
            shown = str(value)
        else:
            shown = to_wire(columns[name], int(value) if isinstance(value, float) else value)
        out.setdefault(kind, {})[name] = shown
    return out


def _having(text: str | None, columns: dict[str, Column]) -> tuple[str, list[Any]]:
    terms, params = [], []
    for part in _names(text):
        pieces = part.split("^")
        if len(pieces) != 4 or pieces[2] not in _HAVING_OPS:
            continue
        kind, name, op, value = pieces
        if kind.lower() == "count":
            expr = "COUNT(*)"
        elif kind.lower() in AGGREGATES and _plain(columns, name):
            expr = f"{kind.upper()}(t.{quoted(name)})"
        else:
            continue
        terms.append(f"{expr} {op} ?")
        params.append(float(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value)
    return (f" HAVING {' AND '.join(terms)}" if terms else ""), params


def _order(text: str | None, columns: dict[str, Column], group_sql: list[str]) -> str:
    parts = []
    for item in _names(text):
        pieces = item.split("^")
        direction = "DESC" if pieces[-1].upper() == "DESC" else "ASC"
        head = pieces[0].upper()
        if head == "COUNT":
            parts.append(f"COUNT(*) {direction}")
        elif head.lower() in AGGREGATES and len(pieces) > 1 and _plain(columns, pieces[1]):
            parts.append(f"{head}(t.{quoted(pieces[1])}) {direction}")
        elif _plain(columns, pieces[0]):
            parts.append(f"t.{quoted(pieces[0])} {direction}")
    return f" ORDER BY {', '.join([*parts, *group_sql])}"
