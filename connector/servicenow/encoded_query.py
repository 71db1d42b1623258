"""Render filter expressions as ServiceNow encoded queries (`sysparm_query`) [reference 1.6].

An encoded query has three levels and no parentheses: conditions joined by `^OR` (which binds
tightest), those joined by `^` (AND), and whole queries joined by `^NQ` (OR of queries). So an
expression is first brought to that shape: NOT is pushed down to the conditions by De Morgan
(`!=`, `NOT LIKE`, `ISNOTEMPTY`, `NOT IN`, inverted comparisons), and an AND over alternatives
is distributed into `^NQ` queries. A NOT that has no operator to land on (`STARTSWITH`) is
refused by `render`, never approximated; `widen` writes it as "every record" for the connector
to check one by one. The expression is expected to be translated to platform names and values
already. LIKE ignores case on the instance [1.6 examples], so NOT LIKE also leaves out the
text's case variants.

Empty fields: "most filter operations do not return empty fields" [ServiceNow docs, "Filtering
on empty fields"]; `!=` and NOT IN are documented as "populated by any value except" (only a
boolean's `!=` also finds empty ones) [r_OpAvailableFiltersQueries]. A filter's negation is
two-valued (`connector.filters`): "not equal" includes empty. So every negative condition is
written with its empty case, `field!=x^ORfieldISEMPTY`, and so are NOT IN, NOT LIKE and an
inverted comparison (`~(priority < 3)` is `priority>=3^ORpriorityISEMPTY`).

Values: a literal `^` is written `^^`, the only documented escape (GlideStringUtil
.escapeQueryTermSeparator). Nothing escapes `,` in an IN list or `@` in BETWEEN (section 5), so
IN is written only for plain tokens (sys_ids, numbers, choice values) and otherwise as `^OR`
equalities; BETWEEN is never written. Whether `%` and `_` act as SQL wildcards in LIKE,
STARTSWITH and ENDSWITH is UNCONFIRMED and nothing is documented to escape them, so a search
text holding them is written as it is: exact if the instance reads them literally, wider if it
reads them as wildcards, never narrower. `widen` makes the other searches wider the same way
(a backslash, which MySQL's LIKE reads as an escape, splits the text into parts searched each;
a NOT over such a text becomes "anything"), and the connector drops what the wider query
brought in by checking each record against the filter itself (`connector.filters.admits`).
What cannot be written without changing what the query matches is refused with
`UnsupportedQuery`, never passed through:
- a value starting with `javascript:`, which ServiceNow would run as a script;
- the value `NULL`, which ServiceNow may read as "empty" (UNCONFIRMED; refused to be safe);
- a NOT over a search text holding `%`, `_` or a backslash, unless `widen` rewrote it;
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
from connector.servicenow.values import format_sn_date

FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\Z")
LIST_TOKEN = re.compile(r"[A-Za-z0-9_.:\-]+\Z")
MAX_QUERIES = 64
WILDCARDS = ("%", "_", "\\")  # what a LIKE on the instance may not read literally

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


def _or_empty(term: Term) -> Clause:
    """A negative condition with its empty case: `field!=x^ORfieldISEMPTY` (see above)."""
    return (term, Term(term.field, "ISEMPTY"))


def comparison(field: str, op: Op, value: Scalar, *, or_empty: bool = False) -> Clause:
    """`field <op> value`; `or_empty` adds the empty case (a negation's, or `!=`'s)."""
    text = value_text(value)
    if text == "":
        if op is Op.EQ:
            return (Term(field_name(field), "ISEMPTY"),)
        if op is Op.NE:
            return (Term(field_name(field), "ISNOTEMPTY"),)
        raise UnsupportedQuery(f"{field} {op.value} '': cannot order against an empty value")
    _refuse_unsafe(text, op.value)
    term = Term(field_name(field), op.value, escape(text))
    return _or_empty(term) if or_empty else (term,)


def like(node: Like, negated: bool) -> Clause:
    if negated and node.mode is not LikeMode.CONTAINS:
        raise UnsupportedQuery(
            f"NOT {node.mode.value} on {node.field!r} has no ServiceNow operator; "
            "rewrite the filter"
        )
    if node.text == "":
        return (Term(field_name(node.field), "ISEMPTY" if negated else "ISNOTEMPTY"),)
    if negated and any(ch in node.text for ch in WILDCARDS):
        raise UnsupportedQuery(
            f"NOT contains {node.text[:40]!r}: '%', '_' or a backslash may act as a wildcard "
            "or an escape in a ServiceNow LIKE, which would make NOT LIKE miss records; "
            "write the filter through widen()"
        )
    _refuse_unsafe(node.text, "LIKE")
    if negated:
        return _or_empty(Term(field_name(node.field), "NOT LIKE", escape(node.text)))
    return (Term(field_name(node.field), LIKE_OPS[node.mode], escape(node.text)),)


# -- wider searches -------------------------------------------------------------------------------
def widen(expr: Filter, negated: bool = False) -> Filter:
    """The expression as it can be written whatever `%`, `_` and `\\` do in a LIKE: the same,
    or wider (never narrower) where a search text holds them. A NOT over such a search, or over
    STARTSWITH/ENDSWITH (no operator says "does not start with"), asks for every record. Where
    the result differs from `expr`, the connector drops what it matches beyond `expr`."""
    if isinstance(expr, And | Or):
        parts = tuple(widen(p, negated) for p in expr.parts)
        return expr if parts == expr.parts else type(expr)(parts)
    if isinstance(expr, Not):
        inner = widen(expr.part, not negated)
        return expr if inner == expr.part else Not(inner)
    if not isinstance(expr, Like) or expr.text == "":
        return expr
    special = any(ch in expr.text for ch in WILDCARDS)
    if negated and (special or expr.mode is not LikeMode.CONTAINS):
        return NOTHING  # written NOT nothing: every record, then checked one by one
    if "\\" not in expr.text:
        return expr  # as it is: literal, or a wildcard that matches itself too
    return _pieces(expr)


def exact(expr: Filter) -> bool:
    """Does the query written for `expr` select what `expr` means on every instance? Not where
    it had to be widened, nor where a search text holds `%` or `_` (wildcards, maybe)."""
    sent = widen(expr)
    return sent == expr and not _searches_wildcards(sent)


def _searches_wildcards(expr: Filter) -> bool:
    if isinstance(expr, And | Or):
        return any(_searches_wildcards(p) for p in expr.parts)
    if isinstance(expr, Not):
        return _searches_wildcards(expr.part)
    return isinstance(expr, Like) and any(ch in expr.text for ch in WILDCARDS)


def _pieces(node: Like) -> Filter:
    """`a\\b` contains both `a` and `b`: each part searched on its own, in its place."""
    pieces = node.text.split("\\")
    parts: list[Filter] = []
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        mode = LikeMode.CONTAINS
        if node.mode is LikeMode.STARTS_WITH and i == 0:
            mode = LikeMode.STARTS_WITH
        elif node.mode is LikeMode.ENDS_WITH and i == len(pieces) - 1:
            mode = LikeMode.ENDS_WITH
        parts.append(Like(node.field, piece, mode))
    if not parts:
        return IsNull(node.field, negated=True)
    return parts[0] if len(parts) == 1 else And(tuple(parts))


# -- normal form ----------------------------------------------------------------------------------
def _one(clause: Clause) -> Query:
    return ((clause,),)


def _in(node: In, negated: bool) -> Query:
    texts = [value_text(v) for v in node.values]
    if len(texts) > 1 and all(LIST_TOKEN.match(t) for t in texts):
        for text in texts:
            _refuse_unsafe(text, "IN")
        term = Term(field_name(node.field), "NOT IN" if negated else "IN", ",".join(texts))
        return _one(_or_empty(term) if negated else (term,))
    op = Op.NE if negated else Op.EQ
    clauses = [comparison(node.field, op, v, or_empty=negated) for v in node.values]
    if negated:  # none of them: an AND of inequalities
        return (tuple(clauses),)
    return ((tuple(t for c in clauses for t in c),),)


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
        or_empty = negated != (expr.op is Op.NE)  # "not equal" and any negation: empty too
        return _one(comparison(expr.field, op, expr.value, or_empty=or_empty))
    if isinstance(expr, Like):
        return _one(like(expr, negated))
    if isinstance(expr, IsNull):
        empty = expr.negated == negated
        return _one((Term(field_name(expr.field), "ISEMPTY" if empty else "ISNOTEMPTY"),))
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
