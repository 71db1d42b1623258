"""Turn the list parameters `q`, `sort` and `fields` into SQL for one form [reference 2.2, 3].

Every value becomes a bound parameter; field references become the form's own column names, so
request text never reaches the SQL. Semantics chosen where AR leaves them to the database:

- Character comparisons and LIKE are case-sensitive (binary collation, as on Oracle).
- `!=` matches empty fields too, and NOT is two-valued: `NOT ('A' = "x")` matches rows where A
  is empty. NOT is pushed down to the comparisons, so indexes stay usable.
- Selection fields compare by their stored integer, given a label (`'Status' < "Pending"`) or a
  number (`'Status' < 3`); date/time fields by epoch seconds, given `"1657032797"`, a number or
  an ISO 8601 date.
- LIKE applies to character fields: `%` any text, `_` one character, `[...]`/`[^...]` a class,
  so `[%]` is a literal percent sign (translated to SQLite GLOB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import bad_qualification, bad_request, bad_value, unknown_field
from sandbox.fields import FieldDef, FieldType, parse_date
from sandbox.forms import Form
from sandbox.qualification import (
    And,
    Compare,
    Field,
    Keyword,
    Node,
    Not,
    Operand,
    Or,
    QualificationError,
    Value,
    parse,
)

_COMPLEMENT = {
    "=": "!=",
    "!=": "=",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "LIKE": "NOT LIKE",
}
_MIRROR = {"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass
class _Translator:
    form: Form
    user: str
    now: int
    params: list[Any] = field(default_factory=list)

    def emit(self, node: Node, negated: bool) -> str:
        if isinstance(node, Not):
            return self.emit(node.part, not negated)
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) != negated else " OR "
            return "(" + joiner.join(self.emit(p, negated) for p in node.parts) + ")"
        return self.compare(node, negated)

    def compare(self, node: Compare, negated: bool) -> str:
        left, op, right = node.left, node.op, node.right
        if not isinstance(left, Field) and isinstance(right, Field):
            if op == "LIKE":
                raise bad_qualification(node.position, "LIKE needs the field on its left")
            left, right, op = right, left, _MIRROR[op]
        if not isinstance(left, Field):
            return self.constant(node, negated)
        target = self.field(left)
        if isinstance(right, Field):
            return self.op(target.sql, op, negated, self.field(right).sql)
        raw = self.literal(right)
        if raw is None or (raw == "" and op in ("=", "!=")):  # AR stores "" as NULL
            return self.null(target, op, negated, node.position)
        value = self.value(target, raw, op, node.position)
        self.params.append(value)
        return self.op(target.sql, op, negated, "?")

    def op(self, column: str, op: str, negated: bool, operand: str) -> str:
        """One comparison, two-valued: empty fields match `!=` and negated comparisons."""
        with_null = (op == "!=") != negated
        final = _COMPLEMENT[op] if negated else op
        sql = {"LIKE": "GLOB", "NOT LIKE": "NOT GLOB"}.get(final, final)
        text = f"{column} {sql} {operand}"
        if operand != "?" and with_null:  # field against field: either side may be empty
            return f"({text} OR {column} IS NULL OR {operand} IS NULL)"
        return f"({text} OR {column} IS NULL)" if with_null else text

    def null(self, target: FieldDef, op: str, negated: bool, position: int) -> str:
        if op not in ("=", "!="):
            problem = f"$NULL$ can only be compared with = or != (not {op})"
            raise bad_qualification(position, problem)
        is_null = (op == "=") != negated
        return f"{target.sql} IS {'' if is_null else 'NOT '}NULL"

    def constant(self, node: Compare, negated: bool) -> str:
        """Two literals, e.g. `1 = 1`: decided here, sent to SQLite as a constant."""
        a, b = (self.literal(o) for o in (node.left, node.right))
        ops = {"=": a == b, "!=": a != b}
        if node.op not in ops:
            raise bad_qualification(node.position, "compare a field with a value")
        return "1" if ops[node.op] != negated else "0"

    # -- operands -------------------------------------------------------------------------------
    def field(self, ref: Field) -> FieldDef:
        found = self.form.field(ref.name)
        if found is None:
            raise unknown_field(ref.name, self.form.name)
        if found.type is FieldType.OBJECT:
            raise bad_qualification(ref.position, f"field {ref.name!r} cannot be searched")
        return found

    def literal(self, operand: Operand) -> Any:
        if isinstance(operand, Value):
            return operand.value
        if isinstance(operand, Keyword):
            today = self.now - self.now % 86400
            return {"USER": self.user, "TIMESTAMP": self.now, "DATE": today}.get(operand.name)
        raise bad_qualification(operand.position, "expected a value")

    def value(self, target: FieldDef, raw: Any, op: str, position: int) -> Any:
        if op != "LIKE":
            return coerce(target, raw)
        if target.type is not FieldType.CHAR:
            problem = f"LIKE applies to character fields; {target.name!r} is not one"
            raise bad_qualification(position, problem)
        return like_to_glob(str(raw))


def coerce(target: FieldDef, raw: Any) -> Any:
    """A qualification literal as the value stored in `target`'s column."""
    kind = target.type
    if kind is FieldType.CHAR:
        return raw if isinstance(raw, str) else str(raw)
    if kind is FieldType.ENUM:
        assert target.selection is not None
        if isinstance(raw, int) or (isinstance(raw, str) and re.fullmatch(r"-?\d+", raw)):
            return int(raw)
        number = target.selection.number(str(raw))
        if number is None:
            allowed = ", ".join(target.selection.labels)
            raise bad_value(target.name, f"{raw!r} is not one of: {allowed}")
        return number
    if kind is FieldType.DATETIME:
        epoch = raw if isinstance(raw, int | float) else parse_date(str(raw))
        if epoch is None:
            raise bad_value(target.name, f"{raw!r} is not a date; use epoch seconds")
        return int(epoch)
    try:
        return float(raw) if kind is FieldType.DECIMAL else int(str(raw))
    except ValueError:
        raise bad_value(target.name, f"{raw!r} is not a number") from None


def like_to_glob(pattern: str) -> str:
    """AR LIKE (`%`, `_`, `[...]`) as SQLite GLOB, with GLOB's own `*` and `?` made literal."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            start = i + 1 + (pattern[i + 1 : i + 2] == "^")
            start += pattern[start : start + 1] == "]"
            end = pattern.find("]", start)
            if end < 0:
                out.append("[[]")
            else:
                out.append(pattern[i : end + 1])
                i = end
        else:
            out.append({"%": "*", "_": "?", "*": "[*]", "?": "[?]"}.get(ch, ch))
        i += 1
    return "".join(out)


def where_clause(form: Form, text: str, *, user: str, now: int) -> tuple[str, list[Any]]:
    """SQL and parameters for a qualification; AR errors for syntax, fields and values."""
    try:
        tree = parse(text)
    except QualificationError as exc:
        raise bad_qualification(exc.position, exc.problem) from None
    translator = _Translator(form, user, now)
    return translator.emit(tree, False), translator.params


def order_by(form: Form, sort: str | None) -> str:
    """`sort=Field.asc,Other.desc` as ORDER BY; rowid (entry order) breaks ties [2.2]."""
    terms = []
    for part in filter(None, (p.strip() for p in (sort or "").split(","))):
        name, _, direction = part.rpartition(".")
        if not name or direction.lower() not in ("asc", "desc"):
            name, direction = part, "asc"
        found = form.field(name)
        if found is None:
            raise unknown_field(name, form.name)
        if found.type is FieldType.OBJECT:
            raise bad_request(f"sort: field {name!r} cannot be sorted")
        terms.append(f"{found.sql} {direction.upper()}")
    return ", ".join([*terms, "rowid ASC"])


def selected_fields(form: Form, fields: str | None) -> list[FieldDef] | None:
    """The fields of `fields=values(a,b)`, or None for all of them [2.2]."""
    if fields is None or not fields.strip():
        return None
    match = re.fullmatch(r"\s*values\s*\((.*)\)\s*", fields, re.DOTALL)
    if not match:
        raise bad_request(f"fields={fields}: the sandbox supports fields=values(name,...)")
    names = [n for n in match.group(1).split(",") if n.strip()]
    if not names:
        return None
    out: list[FieldDef] = []
    for name in names:
        found = form.field(name) or form.field(name.strip())
        if found is None:
            raise unknown_field(name.strip(), form.name)
        if found not in out:
            out.append(found)
    return out
