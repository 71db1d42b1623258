"""Encoded queries to SQL with bound parameters [reference 1.6].

Column names come from the table definitions (a term naming anything else is invalid and is
ignored, or empties the result when `glide.invalid_query.returns_no_rows` is emulated); every
value is a bound parameter. A dot-walked term (`assignment_group.name=Service Desk`) becomes
`assignment_group IN (SELECT sys_id FROM <groups> WHERE name = ?)` when it cannot match an empty
reference, which keeps it on the index, and a scalar sub-select otherwise (so
`caller_id.emailISEMPTY` also finds incidents without a caller).
Empty values: "most filter operations do not return empty fields in their result set"
(ServiceNow docs, "Filtering on empty fields"), so the negative operators do not either: `!=`
and `NOT IN` match fields "populated by any value except" the ones named, `NOT LIKE` and `NOTON`
the same way; only a boolean's `!=` also matches empty (`active!=true`: "False, empty, or NULL")
[r_OpAvailableFiltersQueries]. LIKE, STARTSWITH and ENDSWITH ignore ASCII case and read `%` and
`_` literally (whether an instance does is UNCONFIRMED); `=` and IN do not ignore case [1.2].
Field comparisons: SAMEAS/NSAMEAS (`sla_dueSAMEASactivity_due@day`: the same day; SAMEAS
needs a value, "there exist matching values"),
GT_FIELD and its kin, MORETHAN/LESSTHAN (`sla_dueMORETHANactivity_due@day@before@1`: more
than a day before; LESSTHAN: within a day before, UNCONFIRMED reading of the docs' example).
On a reference, `=`/`!=`/IN with a value that is not a sys_id, and LIKE/STARTSWITH/ENDSWITH,
compare the referenced record's display value [1.6].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.servicenow.datefuncs import Context, evaluate, shifted
from sandbox.servicenow.encoded_query import NotEmulated, Query, Term
from sandbox.servicenow.schema import SCHEMA, Column, Schema
from sandbox.servicenow.schema.model import BOOLEAN, REFERENCE
from sandbox.servicenow.storage import quoted
from sandbox.servicenow.values import BadValue, to_db

SYS_ID = re.compile(r"^[0-9a-f]{32}$")
ME = "54635e965f510100a9ad2572f2b4774c"  # the "Me" dynamic filter [1.6]
# operators that never match an empty value: a dot-walk can become an IN sub-select
_POSITIVE = {"=", "<", "<=", ">", ">=", "IN", "LIKE", "STARTSWITH", "ENDSWITH", "BETWEEN", "ON"}
_POSITIVE |= {"ISNOTEMPTY", "DYNAMIC", "RELATIVEGT", "RELATIVELT", "RELATIVEGE", "RELATIVELE"}
_FIELD_OPS = {"SAMEAS": "IS", "NSAMEAS": "IS NOT", "GT_FIELD": ">", "LT_FIELD": "<"}
_FIELD_OPS |= {"GT_OR_EQUALS_FIELD": ">=", "LT_OR_EQUALS_FIELD": "<="}
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_RELATIVE = {"RELATIVEGT": ">", "RELATIVELT": "<", "RELATIVEGE": ">=", "RELATIVELE": "<="}
_NO_VALUE = {
    "ISEMPTY": "{e} IS NULL OR {e} = ''",
    "ISNOTEMPTY": "{e} IS NOT NULL AND {e} != ''",
    "EMPTYSTRING": "{e} = ''",
    "ANYTHING": "1",
}
_FILLED = "{e} IS NOT NULL AND {e} != '' AND "  # a negative operator's first condition
# `@unit` of SAMEAS/NSAMEAS on dates: the leading characters of `YYYY-MM-DD HH:MM:SS` compared
_SAME_UNITS = {"second": 19, "minute": 16, "hour": 13, "day": 10, "month": 7, "year": 4}
_SHIFT_UNITS = {"second": "seconds", "minute": "minutes", "hour": "hours", "day": "days"}
_SHIFT_UNITS |= {"month": "months", "year": "years"}


@dataclass
class Sql:
    text: str
    params: list[Any]


class Invalid(Exception):
    """A term naming a field the table does not have."""


class Compiler:
    """Compiles queries against one table; aliases are numbered per compiler."""

    def __init__(self, table: str, context: Context, schema: Schema = SCHEMA) -> None:
        self.table = table
        self.context = context
        self.schema = schema
        self._aliases = 0

    # -- fields ---------------------------------------------------------------------------------
    def resolve(self, table: str, path: str) -> list[tuple[str, Column]]:
        """The (table, column) hops of a dot-walked path; Invalid if any is unknown."""
        hops = []
        for i, name in enumerate(path.split(".")):
            column = self.schema.columns(table).get(name) if table in self.schema else None
            if column is None or column.is_journal:
                raise Invalid(path)
            hops.append((table, column))
            if i < path.count("."):
                if column.type != REFERENCE or column.reference not in self.schema:
                    raise Invalid(path)
                table = column.reference  # type: ignore[assignment]
        return hops

    def expression(self, alias: str, table: str, path: str) -> tuple[str, Column]:
        """SQL for a (dot-walked) field's stored value: nested scalar sub-selects."""
        hops = self.resolve(table, path)
        sql = f"{alias}.{quoted(hops[0][1].name)}"
        for hop_table, column in hops[1:]:
            inner = self._alias()
            storage = self.schema.storage(hop_table)
            value = f"{inner}.{quoted(column.name)}"
            sql = f"(SELECT {value} FROM {storage} {inner} WHERE {inner}.sys_id = {sql})"
        return sql, hops[-1][1]

    def _alias(self) -> str:
        self._aliases += 1
        return f"s{self._aliases}"

    # -- where ------------------------------------------------------------------------------------
    def where(self, query: Query, alias: str = "t", *, strict: bool = False) -> Sql:
        """The WHERE condition; with `strict`, any invalid term empties the result."""
        if strict and query.invalid:
            return Sql("0", [])
        groups: list[str] = []
        params: list[Any] = []
        for group in query.groups:
            clauses = []
            for clause in group:
                terms = []
                for term in clause:
                    try:
                        sql = self.term(alias, self.table, term)
                    except (Invalid, BadValue):  # an unknown field, or a value it cannot take
                        if strict:
                            return Sql("0", [])
                        continue
                    terms.append(f"({sql.text})")
                    params += sql.params
                if terms:
                    clauses.append("(" + " OR ".join(terms) + ")")
            groups.append(" AND ".join(clauses) or "1")
        if not groups:
            return Sql("1", [])
        return Sql(" OR ".join(f"({g})" for g in groups), params)

    def term(self, alias: str, table: str, term: Term) -> Sql:
        head, _, rest = term.field.partition(".")
        if rest and term.op in _POSITIVE:
            column = self.resolve(table, head)[0][1]
            if column.type != REFERENCE or column.reference not in self.schema:
                raise Invalid(term.field)
            inner = self._alias()
            target = column.reference
            sub = self.term(inner, target, Term(rest, term.op, term.value))
            storage = self.schema.storage(target)
            found = f"SELECT {inner}.sys_id FROM {storage} {inner} WHERE {sub.text}"
            return Sql(f"{alias}.{quoted(head)} IN ({found})", sub.params)
        expr, column = self.expression(alias, table, term.field)
        if term.op in _FIELD_OPS or term.op in ("MORETHAN", "LESSTHAN"):
            return self.fields(alias, table, expr, term)
        return self.compare(expr, column, term.op, term.value)

    def fields(self, alias: str, table: str, e: str, term: Term) -> Sql:
        """A comparison of two fields of the record: `<field><op><other>[@unit...]`."""
        name, *spec = term.value.split("@")
        other, _ = self.expression(alias, table, name)
        if term.op in ("MORETHAN", "LESSTHAN"):
            return _relative(e, other, term.op, spec)
        if spec and term.op in ("SAMEAS", "NSAMEAS"):
            if len(spec) != 1 or spec[0] not in _SAME_UNITS:
                raise NotEmulated(f"{term.op} by {'@'.join(spec)!r} is not emulated")
            size = _SAME_UNITS[spec[0]]
            e, other = f"substr({e}, 1, {size})", f"substr({other}, 1, {size})"
        elif spec:
            raise BadValue(f"{term.value!r}: {term.op} compares with a field, not a unit")
        same = f"{e} {_FIELD_OPS[term.op]} {other}"
        return Sql(_FILLED.format(e=e) + same if term.op == "SAMEAS" else same, [])

    # -- operators ------------------------------------------------------------------------------
    def compare(self, e: str, column: Column, op: str, raw: str) -> Sql:
        """SQL for `<e> <op> <raw>`, `e` being the stored value of `column`."""
        if op in _NO_VALUE:
            return Sql(_NO_VALUE[op].format(e=e), [])
        if op in ("LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"):
            return self._like(e, column, op, raw)
        if op in ("IN", "NOT IN"):
            return self._in(e, column, op == "NOT IN", raw.split(","))
        if op in ("BETWEEN", "ON", "NOTON"):
            return self._range(e, column, op, raw)
        if op.startswith("RELATIVE"):
            moment = shifted(self.context, raw)
            if op == "RELATIVEEE":  # the same minute
                return Sql(f"substr({e}, 1, 16) = substr(?, 1, 16)", [moment])
            return Sql(f"{e} {_RELATIVE[op]} ?", [moment])
        if op == "DYNAMIC":
            if raw != ME:
                raise NotEmulated(f"the dynamic filter {raw!r} is not emulated (only Me)")
            return Sql(f"{e} = ?", [self.context.user_sys_id])
        return self._equality(e, column, op, evaluate(raw, self.context))

    def _equality(self, e: str, column: Column, op: str, value: str) -> Sql:
        if op in ("=", "!=") and value == "":
            empty = _NO_VALUE["ISEMPTY"].format(e=e)
            return Sql(empty if op == "=" else f"NOT ({empty})", [])
        if op in ("=", "!=") and _by_display(column, value):
            return self._in(e, column, op == "!=", [value])
        if op == "=":
            return Sql(f"{e} = ?", [self.value(column, value)])
        if op == "!=" and column.type == BOOLEAN:  # "False, empty, or NULL"
            return Sql(f"{e} IS NOT ?", [self.value(column, value)])
        if op == "!=":
            return Sql(_FILLED.format(e=e) + f"{e} != ?", [self.value(column, value)])
        if op in _COMPARE:
            return Sql(f"{e} {_COMPARE[op]} ?", [self.value(column, value)])
        raise Invalid(op)

    def value(self, column: Column, text: str) -> Any:
        """A query value as stored, so that numbers compare as numbers; a value the column
        cannot hold is compared as it is (and so matches nothing)."""
        try:
            return to_db(column, text)
        except BadValue:
            return text

    def _display(self, column: Column) -> tuple[str, str]:
        target = self.schema[column.reference]  # type: ignore[index]
        return self.schema.storage(target.name), quoted(target.display)

    def _like(self, e: str, column: Column, op: str, raw: str) -> Sql:
        text = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"STARTSWITH": f"{text}%", "ENDSWITH": f"%{text}"}.get(op, f"%{text}%")
        if column.type == REFERENCE and column.reference in self.schema:
            storage, display = self._display(column)
            inner = self._alias()
            e = f"(SELECT {inner}.{display} FROM {storage} {inner} WHERE {inner}.sys_id = {e})"
        if op == "NOT LIKE":
            return Sql(_FILLED.format(e=e) + f"{e} NOT LIKE ? ESCAPE '\\'", [pattern])
        return Sql(f"{e} LIKE ? ESCAPE '\\'", [pattern])

    def _in(self, e: str, column: Column, negate: bool, raws: list[str]) -> Sql:
        values = [evaluate(v, self.context) for v in raws]
        direct = [self.value(column, v) for v in values]
        named = [v for v in values if _by_display(column, v)]  # or its record's display value
        parts, params = [], []
        if direct:
            parts.append(f"{e} IN ({', '.join('?' for _ in direct)})")
            params += direct
        if named:
            storage, display = self._display(column)
            marks = ", ".join("?" for _ in named)
            parts.append(f"{e} IN (SELECT sys_id FROM {storage} WHERE {display} IN ({marks}))")
            params += named
        found = " OR ".join(parts) or "0"
        if negate:
            return Sql(_FILLED.format(e=e) + f"NOT ({found})", params)
        return Sql(found, params)

    def _range(self, e: str, column: Column, op: str, raw: str) -> Sql:
        bounds = raw.split("@")
        if op != "BETWEEN" and len(bounds) == 3:
            bounds = bounds[1:]
        elif op != "BETWEEN" and len(bounds) == 1:
            day = self.value(column, evaluate(bounds[0], self.context))
            bounds = [f"{str(day)[:10]} 00:00:00", f"{str(day)[:10]} 23:59:59"]
        if len(bounds) != 2:
            raise BadValue(f"{raw!r}: expected two bounds separated by @")
        low, high = (self.value(column, evaluate(b, self.context)) for b in bounds)
        if op == "NOTON":
            return Sql(_FILLED.format(e=e) + f"{e} NOT BETWEEN ? AND ?", [low, high])
        return Sql(f"{e} BETWEEN ? AND ?", [low, high])

    # -- order ------------------------------------------------------------------------------------
    def order(self, query: Query, alias: str = "t") -> str:
        """ORDER BY text; unknown fields are ignored; creation order breaks ties."""
        parts: list[str] = []
        for name, descending in query.order:
            try:
                expr, _ = self.expression(alias, self.table, name)
            except Invalid:
                continue
            parts.append(f"{expr} {'DESC' if descending else 'ASC'}")
        if parts and parts[-1].startswith(f'{alias}."sys_id" '):
            return ", ".join(parts)  # unique already: lets SQLite walk the sys_id index
        return ", ".join([*parts, f"{alias}._row ASC"])


def _relative(e: str, other: str, op: str, spec: list[str]) -> Sql:
    """MORETHAN/LESSTHAN `<other>@<unit>@before|after@<count>` on two date-times."""
    if len(spec) != 3 or spec[0] not in (*_SHIFT_UNITS, "week", "quarter"):
        raise BadValue(f"{'@'.join(spec)!r} is not <field>@<unit>@before|after@<count>")
    unit, side, count = spec
    if side not in ("before", "after") or not count.isdigit():
        raise BadValue(f"{'@'.join(spec)!r} is not <field>@<unit>@before|after@<count>")
    n = int(count) * {"week": 7, "quarter": 3}.get(unit, 1)
    step = _SHIFT_UNITS.get(unit, "days" if unit == "week" else "months")
    sign = "-" if side == "before" else "+"
    bound = f"datetime({other}, '{sign}{n} {step}')"
    if op == "MORETHAN":
        return Sql(f"{e} {'<' if side == 'before' else '>'} {bound}", [])
    low, high = (bound, other) if side == "before" else (other, bound)
    return Sql(
        f"{e} > {low} AND {e} <= {high}" if side == "before" else f"{e} >= {low} AND {e} < {high}",
        [],
    )


def _by_display(column: Column, value: str) -> bool:
    """A reference compared with something that is not a sys_id: its stored value (`global`
    for sys_domain) or the display value of the record it names."""
    return (
        column.type == REFERENCE
        and column.reference in SCHEMA
        and value != ""
        and not SYS_ID.match(value)
    )
