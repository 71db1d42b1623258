"""Render filter expressions as ServiceNow encoded queries (`sysparm_query`) [reference 1.6].

An encoded query has three levels and no parentheses: conditions joined by `^OR` (which binds
tightest), those joined by `^` (AND), and whole queries joined by `^NQ` (OR of queries). So an
expression is first brought to that shape: NOT is pushed down to the conditions by De Morgan
(`!=`, `NOT LIKE`, `ISNOTEMPTY`, `NOT IN`, inverted comparisons), and an AND over alternatives
is distributed into `^NQ` queries. A NOT that has no operator to land on (`STARTSWITH`) is
refused, never approximated. The expression is expected to be translated to platform names and
values already.

Values: a literal `^` is written `^^`, the only documented escape (GlideStringUtil
.escapeQueryTermSeparator). Nothing escapes `,` in an IN list or `@` in BETWEEN (section 5), so
IN is written only for plain tokens (sys_ids, numbers, choice values) and otherwise as `^OR`
equalities; BETWEEN is never written. What cannot be written without changing what the query
matches is refused with `UnsupportedQuery`, never passed through:
- a value starting with `javascript:`, which ServiceNow would run as a script;
- the value `NULL`, which ServiceNow may read as "empty" (UNCONFIRMED; refused to be safe);
- `%` or `_` in a LIKE/STARTSWITH/ENDSWITH text: they may act as SQL wildcards and nothing is
  documented to escape them (UNCONFIRMED), so they could widen the search;
- a `<`/`>` value starting with `=`, which would read as `<=`/`>=`;
- an empty value for an ordering comparison. `= ""` and `!= ""` become ISEMPTY/ISNOTEMPTY, since
  the Table API sends empty values as "" [1.3].

Dates are written `YYYY-MM-DD HH:MM:SS` in UTC, the format the Table API sends and pysnow's
QueryBuilder writes [1.6]. `javascript:gs.dateGenerate(...)` would read its arguments in the
session user's time zone and needs script evaluation in the query, so it is not used. UNCONFIRMED:
that the instance compares a literal date as UTC; giving the integration user the UTC time zone
makes both forms agree.

Every query ends with a stable order (`ORDERBYsys_id` unless asked otherwise, and sys_id as the
tie-break), because without ORDERBY the order is not guaranteed and offset paging would skip or
repeat rows [1.2, PySNC].
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from itertools import product

from connector.filters import (
    And,
    Comparison,
    Filter,
    In,
    IsNull,
    Like,
    LikeMode,
    Not,
    Op,
    Or,
    Scalar,
)
from connector.servicenow_values import format_sn_date

FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\Z")
LIST_TOKEN = re.compile(r"[A-Za-z0-9_.:\-]+\Z")
MAX_QUERIES = 64

NOTHING: Filter = IsNull("sys_id")
"""Matches no record: every record has a sys_id."""
EVERYTHING: Filter = IsNull("sys_id", negated=True)

INVERSE = {
    Op.EQ: Op.NE,
    Op.NE: Op.EQ,
    Op.LT: Op.GE,
    Op.GE: Op.LT,
    Op.GT: Op.LE,
    Op.LE: Op.GT,
}
LIKE_OPS = {
    LikeMode.CONTAINS: "LIKE",
    LikeMode.STARTS_WITH: "STARTSWITH",
    LikeMode.ENDS_WITH: "ENDSWITH",
}


class UnsupportedQuery(ValueError):
    """The expression cannot be written as an encoded query without changing what it matches."""


@dataclass(frozen=True)
class Term:
    """One condition: field, operator and the value text, already escaped."""

    field: str
    op: str
    value: str = ""

    def text(self) -> str:
        return f"{self.field}{self.op}{self.value}"


Clause = tuple[Term, ...]  # joined by ^OR
Group = tuple[Clause, ...]  # joined by ^
Query = tuple[Group, ...]  # joined by ^NQ


# -- values ---------------------------------------------------------------------------------------
def field_name(name: str) -> str:
    """A column name, dot-walks allowed; anything else could be read as an operator."""
    if not FIELD_NAME.match(name):
        raise UnsupportedQuery(f"{name!r} is not a ServiceNow field name (lowercase, dots, digits)")
    return name


def value_text(value: Scalar) -> str:
    """The unescaped text of one value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value_text(value.value)
    if isinstance(value, datetime):
        return format_sn_date(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsupportedQuery(f"cannot compare with {value!r} in an encoded query")
        return format(Decimal(repr(value)), "f")
    return str(value)


def _refuse_unsafe(text: str, op: str) -> None:
    if text.lstrip().lower().startswith("javascript:"):
        raise UnsupportedQuery(
            f"the value {text[:40]!r} starts with 'javascript:', which ServiceNow would run as a "
            "script; it cannot be used in a query"
        )
    if text == "NULL":
        raise UnsupportedQuery("the value 'NULL' may be read by ServiceNow as 'empty'; refused")
    if op in ("<", ">") and text.startswith("="):
        raise UnsupportedQuery(f"a {op!r} comparison with {text[:40]!r} would read as {op}=")


def escape(text: str) -> str:
    """`^` inside a value is written `^^` [1.6]."""
    return text.replace("^", "^^")


def comparison(field: str, op: Op, value: Scalar) -> Term:
    text = value_text(value)
    if text == "":
        if op is Op.EQ:
            return Term(field_name(field), "ISEMPTY")
        if op is Op.NE:
            return Term(field_name(field), "ISNOTEMPTY")
        raise UnsupportedQuery(f"{field} {op.value} '': cannot order against an empty value")
    _refuse_unsafe(text, op.value)
    return Term(field_name(field), op.value, escape(text))


def like(node: Like, negated: bool) -> Term:
    if negated and node.mode is not LikeMode.CONTAINS:
        raise UnsupportedQuery(
            f"NOT {node.mode.value} on {node.field!r} has no ServiceNow operator; "
            "rewrite the filter"
        )
    if node.text == "":
        return Term(field_name(node.field), "ISEMPTY" if negated else "ISNOTEMPTY")
    if "%" in node.text or "_" in node.text:
        raise UnsupportedQuery(
            f"{node.text[:40]!r}: '%' and '_' may match any text in a ServiceNow LIKE and "
            "cannot be escaped; search for a part without them"
        )
    _refuse_unsafe(node.text, "LIKE")
    op = "NOT LIKE" if negated else LIKE_OPS[node.mode]
    return Term(field_name(node.field), op, escape(node.text))


# -- normal form ----------------------------------------------------------------------------------
def _one(term: Term) -> Query:
    return (((term,),),)


def _in(node: In, negated: bool) -> Query:
    texts = [value_text(v) for v in node.values]
    if len(texts) > 1 and all(LIST_TOKEN.match(t) for t in texts):
        for text in texts:
            _refuse_unsafe(text, "IN")
        op = "NOT IN" if negated else "IN"
        return _one(Term(field_name(node.field), op, ",".join(texts)))
    op = Op.NE if negated else Op.EQ
    terms = [comparison(node.field, op, v) for v in node.values]
    if negated:  # none of them: an AND of inequalities
        return (tuple((t,) for t in terms),)
    return ((tuple(terms),),)


def _all(queries: Sequence[Query]) -> Query:
    """AND of queries: each ^NQ alternative of one combined with each of the others."""
    size = 1
    for query in queries:
        size *= len(query)
    if size > MAX_QUERIES:
        raise UnsupportedQuery(
            f"the filter expands to {size} alternative queries (^NQ); at most {MAX_QUERIES} are "
            "written: simplify it"
        )
    return tuple(tuple(c for group in combo for c in group) for combo in product(*queries))


def _any(queries: Sequence[Query]) -> Query:
    """OR of queries: single conditions share one ^OR clause, the rest become ^NQ queries."""
    simple: list[Term] = []
    groups: list[Group] = []
    for query in queries:
        for group in query:
            if len(group) == 1:
                simple.extend(group[0])
            else:
                groups.append(group)
    out: list[Group] = [(tuple(simple),)] if simple else []
    return tuple([*out, *groups])


def normal(expr: Filter, negated: bool = False) -> Query:
    """The expression (negated if asked) as ^NQ queries of ^-joined ^OR clauses."""
    if isinstance(expr, Comparison):
        op = INVERSE[expr.op] if negated else expr.op
        return _one(comparison(expr.field, op, expr.value))
    if isinstance(expr, Like):
        return _one(like(expr, negated))
    if isinstance(expr, IsNull):
        empty = expr.negated == negated
        return _one(Term(field_name(expr.field), "ISEMPTY" if empty else "ISNOTEMPTY"))
    if isinstance(expr, In):
        return _in(expr, negated)
    if isinstance(expr, And | Or):
        parts = [normal(p, negated) for p in expr.parts]
        conjunction = isinstance(expr, And) != negated  # De Morgan
        return _all(parts) if conjunction else _any(parts)
    if isinstance(expr, Not):
        return normal(expr.part, not negated)
    raise TypeError(f"cannot render {type(expr).__name__} as a ServiceNow encoded query")


# -- text -----------------------------------------------------------------------------------------
def render(expr: Filter) -> str:
    """The encoded query for an expression (already in platform names and values)."""
    return "^NQ".join(
        "^".join("^OR".join(t.text() for t in clause) for clause in group) for group in normal(expr)
    )


def encoded_query(where: Filter | None, order: Sequence[tuple[str, bool]] = ()) -> str:
    """`where` rendered, then `ORDERBY`/`ORDERBYDESC` terms ending with sys_id for stability."""
    keys = list(order)
    if not any(name == "sys_id" for name, _ in keys):
        keys.append(("sys_id", False))
    parts = [render(where)] if where is not None else []
    parts += [f"ORDERBY{'DESC' if desc else ''}{field_name(name)}" for name, desc in keys]
    return "^".join(parts)


def map_leaves(expr: Filter, leaf: Callable[[Filter], Filter]) -> Filter:
    """The same tree with every condition replaced by `leaf(condition)`."""
    if isinstance(expr, And):
        return And(tuple(map_leaves(p, leaf) for p in expr.parts))
    if isinstance(expr, Or):
        return Or(tuple(map_leaves(p, leaf) for p in expr.parts))
    if isinstance(expr, Not):
        return Not(map_leaves(expr.part, leaf))
    return leaf(expr)
