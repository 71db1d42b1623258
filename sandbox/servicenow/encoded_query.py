"""The encoded query parser: `sysparm_query` text to terms [reference 1.6].

    active=true^priorityIN1,2^ORurgency=1^NQshort_descriptionLIKEmail^ORDERBYDESCnumber

`^` joins terms with AND and `^OR` attaches a term to the one before it (OR binds tighter than
AND); `^NQ` starts a new query OR-ed with the others; `ORDERBY<field>` / `ORDERBYDESC<field>` sort;
`^EQ` ends a UI query and is ignored. A literal `^` in a value is written `^^`. A term is a
lower-case (possibly dot-walked) field name, an operator, then the value: the first operator
after the name decides, so a value may hold `=` or any other character. `,` in IN lists and `@`
in BETWEEN and ON operands have no escape [1.6, UNCONFIRMED]: they always separate.
Operators are those of "Operators available for filters and queries" [1.6], with the aliases
`*`, `!*` and `%` and the `NOTLIKE` spelling of ServiceNow's SDK guide ("Encoded Queries").
A term that does not parse is *invalid* (the caller ignores it, as the platform does by
default); so is one with an operator for email notifications only (VALCHANGES, CHANGESFROM,
CHANGESTO: there is no previous value to compare in a query). Related-list queries, joins, text
search and a few real operators (NOT_EMULATED) are refused as not emulated, never ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# canonical operator -> the spellings that mean it; aliases from 1.6 (`*`, `!*`, `%`)
OPERATORS: dict[str, tuple[str, ...]] = {
    "=": ("=",),
    "!=": ("!=",),
    "<": ("<",),
    "<=": ("<=",),
    ">": (">",),
    ">=": (">=",),
    "IN": ("IN",),
    "NOT IN": ("NOT IN",),
    "LIKE": ("LIKE", "*"),
    "NOT LIKE": ("NOT LIKE", "NOTLIKE", "!*"),
    "STARTSWITH": ("STARTSWITH",),
    "ENDSWITH": ("ENDSWITH", "%"),
    "ISEMPTY": ("ISEMPTY",),
    "ISNOTEMPTY": ("ISNOTEMPTY",),
    "EMPTYSTRING": ("EMPTYSTRING",),
    "ANYTHING": ("ANYTHING",),
    "BETWEEN": ("BETWEEN",),
    "SAMEAS": ("SAMEAS",),
    "NSAMEAS": ("NSAMEAS",),
    "ON": ("ON",),
    "NOTON": ("NOTON",),
    "DYNAMIC": ("DYNAMIC",),
    "GT_FIELD": ("GT_FIELD",),
    "LT_FIELD": ("LT_FIELD",),
    "GT_OR_EQUALS_FIELD": ("GT_OR_EQUALS_FIELD",),
    "LT_OR_EQUALS_FIELD": ("LT_OR_EQUALS_FIELD",),
    "RELATIVEGT": ("RELATIVEGT",),
    "RELATIVELT": ("RELATIVELT",),
    "RELATIVEGE": ("RELATIVEGE",),
    "RELATIVELE": ("RELATIVELE",),
    "RELATIVEEE": ("RELATIVEEE",),
    "MORETHAN": ("MORETHAN",),
    "LESSTHAN": ("LESSTHAN",),
}
# real operators the sandbox does not evaluate: refused rather than silently ignored
NOT_EMULATED = (
    "IN_HIERARCHY",
    "DATEPART",
    "DOESNOTHAVE",
    "EXCLUDING",
    "INSTANCEOF",
)
# operators of email-notification conditions: a query term with one is invalid [1.6]
NOTIFICATION_ONLY = ("VALCHANGES", "CHANGESFROM", "CHANGESTO")
NO_VALUE = ("ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING")
_SPELLINGS = sorted(
    [(s, op) for op, spellings in OPERATORS.items() for s in spellings]
    + [(s, s) for s in (*NOT_EMULATED, *NOTIFICATION_ONLY)],
    key=lambda pair: -len(pair[0]),
)
_FIELD = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_UNSUPPORTED_PARTS = ("RLQUERY", "ENDRLQUERY", "JOIN", "123TEXTQUERY321", "123TEXTINDEXGROUP321")


class NotEmulated(ValueError):
    """Valid on the platform, but not evaluated by the sandbox."""


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str = ""


@dataclass(frozen=True)
class Query:
    """`groups` are OR-ed (`^NQ`); a group's clauses are AND-ed; a clause's terms are OR-ed."""

    groups: tuple[tuple[tuple[Term, ...], ...], ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    invalid: tuple[str, ...] = field(default=())  # terms that did not parse


def escape(value: str) -> str:
    """A value as written inside an encoded query: `^` doubled [1.6]."""
    return value.replace("^", "^^")


def split(text: str) -> list[tuple[str, str]]:
    """(connector, part) pairs: connector AND, OR or NQ; `^^` unescaped inside parts."""
    parts: list[tuple[str, str]] = []
    current: list[str] = []
    connector = "AND"
    i = 0
    while i < len(text):
        char = text[i]
        if char != "^":
            current.append(char)
            i += 1
            continue
        if text.startswith("^^", i):
            current.append("^")
            i += 2
            continue
        parts.append((connector, "".join(current)))
        current, i = [], i + 1
        connector = "AND"
        if text.startswith("OR", i) and not text.startswith("ORDERBY", i):
            connector, i = "OR", i + 2
        elif text.startswith("NQ", i):
            connector, i = "NQ", i + 2
    parts.append((connector, "".join(current)))
    return parts


def parse_term(text: str) -> Term | None:
    """`priorityIN1,2` -> Term("priority", "IN", "1,2"); None when it does not parse."""
    match = _FIELD.match(text)
    if not match:
        return None
    rest = text[match.end() :]
    for spelling, op in _SPELLINGS:
        if rest.startswith(spelling):
            if op in NOT_EMULATED:
                raise NotEmulated(f"the operator {op} (in {text!r}) is not emulated")
            if op in NOTIFICATION_ONLY:
                return None
            value = rest[len(spelling) :]
            return Term(match.group(), op, "" if op in NO_VALUE else value)
    return None


def parse(text: str | None) -> Query:
    """The whole `sysparm_query`; NotEmulated for related-list queries, joins, text search."""
    groups: list[list[list[Term]]] = [[]]
    order: list[tuple[str, bool]] = []
    invalid: list[str] = []
    for connector, part in split(text or ""):
        if connector == "NQ":
            groups.append([])
        if part in ("", "EQ"):
            continue
        if part.startswith("ORDERBY"):
            descending = part.startswith("ORDERBYDESC")
            name = part[len("ORDERBYDESC") if descending else len("ORDERBY") :]
            order.append((name, descending))
            continue
        if part.startswith(_UNSUPPORTED_PARTS) or part.startswith("javascript:"):
            raise NotEmulated(f"{part[:40]!r}: the sandbox does not emulate this kind of query")
        term = parse_term(part)
        if term is None:
            invalid.append(part)
        elif connector == "OR" and groups[-1]:
            groups[-1][-1].append(term)
        else:
            groups[-1].append([term])
    shaped = tuple(tuple(tuple(clause) for clause in g) for g in groups if g)
    return Query(shaped, tuple(order), tuple(invalid))
