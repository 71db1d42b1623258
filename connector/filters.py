"""Filter expressions: how procedures say which records they want, on any platform.

Procedures build expressions over SMPM field names with SMPM values::

    where = (Field("status") == IncidentStatus.NEW) & Field("assigned_group").is_null()

A connector first translates names and values through its mapping (`Filter.translate`), then a
renderer writes the platform's syntax (`connector.remedy.qualification` for Remedy,
`connector.servicenow.encoded_query` for ServiceNow). Renderers quote every value, so no value
can change the shape of the query; wildcard searches are a `Like` mode, never a `%` inside a
value.

Invariants: expressions are immutable values; `And`/`Or` hold at least two parts; a `Like` value is
the literal text to look for. Negation is two-valued, as `connector.testing` evaluates it: an
empty field satisfies `!=`, NOT one_of, NOT contains and any `~(...)` of a condition it fails.

A connector never trusts that the platform applied a filter: `require` checks every record an
answer holds against the filter that was sent (see "Checking answers" below).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any

from connector.errors import FilterNotApplied

Scalar = str | int | float | bool | datetime | Enum
NameMap = Callable[[str], str]
ValueMap = Callable[[str, Scalar], Scalar]


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class LikeMode(StrEnum):
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"


class Filter:
    """Base of every expression node; supports `&`, `|` and `~`."""

    def __and__(self, other: Filter) -> Filter:
        return And(_flatten(And, (self, other)))

    def __or__(self, other: Filter) -> Filter:
        return Or(_flatten(Or, (self, other)))

    def __invert__(self) -> Filter:
        return Not(self)

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        """Return the same expression with platform field names and platform values.

        `name` maps an SMPM field name to the platform's; `value(smpm_field, v)` maps a value
        (an enum member to its platform label, for instance).
        """
        raise NotImplementedError

    def fields(self) -> Iterator[str]:
        """Every field name the expression mentions, in order."""
        raise NotImplementedError


def _flatten(cls: type[And] | type[Or], parts: tuple[Filter, ...]) -> tuple[Filter, ...]:
    out: list[Filter] = []
    for part in parts:
        out.extend(part.parts if isinstance(part, cls) else (part,))
    return tuple(out)


@dataclass(frozen=True, eq=True)
class Comparison(Filter):
    field: str
    op: Op
    value: Scalar

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return Comparison(name(self.field), self.op, value(self.field, self.value))

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True, eq=True)
class Like(Filter):
    field: str
    text: str
    mode: LikeMode = LikeMode.CONTAINS

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return replace(self, field=name(self.field))

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True, eq=True)
class IsNull(Filter):
    field: str
    negated: bool = False

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return replace(self, field=name(self.field))

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True, eq=True)
class In(Filter):
    """Field equals one of the values; renderers expand it to an OR of equalities."""

    field: str
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"In({self.field!r}) needs at least one value")

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return In(name(self.field), tuple(value(self.field, v) for v in self.values))

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True, eq=True)
class And(Filter):
    parts: tuple[Filter, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.parts) < 2:
            raise ValueError("And needs at least two parts; use the part itself")

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return And(tuple(p.translate(name, value) for p in self.parts))

    def fields(self) -> Iterator[str]:
        for part in self.parts:
            yield from part.fields()


@dataclass(frozen=True, eq=True)
class Or(Filter):
    parts: tuple[Filter, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.parts) < 2:
            raise ValueError("Or needs at least two parts; use the part itself")

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return Or(tuple(p.translate(name, value) for p in self.parts))

    def fields(self) -> Iterator[str]:
        for part in self.parts:
            yield from part.fields()


@dataclass(frozen=True, eq=True)
class Not(Filter):
    part: Filter

    def translate(self, name: NameMap, value: ValueMap) -> Filter:
        return Not(self.part.translate(name, value))

    def fields(self) -> Iterator[str]:
        yield from self.part.fields()


@dataclass(frozen=True)
class Field:
    """Builder: `Field("status") == X` makes a Comparison (not a bool)."""

    name: str

    def __eq__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison(self.name, Op.EQ, _scalar(other))

    def __ne__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison(self.name, Op.NE, _scalar(other))

    def __lt__(self, other: Scalar) -> Comparison:
        return Comparison(self.name, Op.LT, _scalar(other))

    def __le__(self, other: Scalar) -> Comparison:
        return Comparison(self.name, Op.LE, _scalar(other))

    def __gt__(self, other: Scalar) -> Comparison:
        return Comparison(self.name, Op.GT, _scalar(other))

    def __ge__(self, other: Scalar) -> Comparison:
        return Comparison(self.name, Op.GE, _scalar(other))

    __hash__ = object.__hash__

    def contains(self, text: str) -> Like:
        return Like(self.name, text, LikeMode.CONTAINS)

    def startswith(self, text: str) -> Like:
        return Like(self.name, text, LikeMode.STARTS_WITH)

    def endswith(self, text: str) -> Like:
        return Like(self.name, text, LikeMode.ENDS_WITH)

    def is_null(self) -> IsNull:
        return IsNull(self.name)

    def not_null(self) -> IsNull:
        return IsNull(self.name, negated=True)

    def one_of(self, *values: Scalar) -> Filter:
        return In(self.name, tuple(_scalar(v) for v in values))


def _scalar(value: object) -> Scalar:
    if value is None:
        raise TypeError("compare with None through Field(...).is_null() or .not_null()")
    if not isinstance(value, str | int | float | bool | datetime | Enum):
        raise TypeError(f"cannot filter on a value of type {type(value).__name__}")
    return value


def all_of(*parts: Filter) -> Filter:
    """AND of the parts; one part is returned as it is."""
    if not parts:
        raise ValueError("all_of needs at least one part")
    return parts[0] if len(parts) == 1 else And(_flatten(And, parts))


def any_of(*parts: Filter) -> Filter:
    """OR of the parts; one part is returned as it is."""
    if not parts:
        raise ValueError("any_of needs at least one part")
    return parts[0] if len(parts) == 1 else Or(_flatten(Or, parts))


def bind(expr: Filter, name: str, actual: str) -> Filter | bool:
    """`expr` for records whose field `name` is `actual`: True where it always holds, False
    where it never can, else what is left of it once the conditions on `name` are decided.

    For a field a platform keeps implicitly (the target kind of the links one table holds), so
    a connector can skip a table a query cannot match instead of asking it.
    """
    if isinstance(expr, And | Or):
        decided = [bind(p, name, actual) for p in expr.parts]
        stop, keep = (False, True) if isinstance(expr, And) else (True, False)
        if stop in decided:
            return stop
        rest = [p for p in decided if not isinstance(p, bool)]
        if not rest:
            return keep
        return all_of(*rest) if isinstance(expr, And) else any_of(*rest)
    if isinstance(expr, Not):
        inner = bind(expr.part, name, actual)
        return (not inner) if isinstance(inner, bool) else Not(inner)
    if name not in set(expr.fields()):
        return expr
    if isinstance(expr, Comparison) and expr.op in (Op.EQ, Op.NE):
        same = str(getattr(expr.value, "value", expr.value)) == actual
        return same if expr.op is Op.EQ else not same
    if isinstance(expr, In):
        return actual in {str(getattr(v, "value", v)) for v in expr.values}
    raise ValueError(f"{name!r} can only be compared with ==, != and one_of")


# -- checking answers ----------------------------------------------------------------------------
# Could a platform that applied the filter have sent this record? The question is asked of the
# raw platform record against the filter in platform names and values (what was rendered), and
# answered conservatively: a record a real instance may legitimately return is never refused.
# So every condition is judged twice over, leniently ("may it hold on some instance?") and
# strictly ("does it hold on every one?"), and a NOT swaps the two. Leniency covers what
# instances differ in: `=` and LIKE ignoring case, accents and trailing blanks (MySQL's
# collations), `%`/`_` read as wildcards in LIKE, numbers compared as numbers or as text, a
# reference compared by its display value, and a literal date read in the integration user's
# time zone (up to 14 hours off UTC). Ordering on text that is not a number (AR compares
# selection fields by ordinal) is not judged at all.
SLACK = timedelta(hours=14)
SYS_ID = re.compile(r"[0-9a-f]{32}\Z")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\Z")
TRUTH = {"1": "true", "0": "false"}
ORDER: dict[Op, Callable[[Any, Any], bool]] = {
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
}


def require(
    expr: Filter | None, row: Mapping[str, Any], source: str, *, listed: bool = False
) -> None:
    """Raise FilterNotApplied unless `row` may satisfy `expr` (platform names and values).

    With `listed`, every column of `expr` was asked for (ServiceNow's `sysparm_fields`), so a
    column missing from the answer is one the table does not have. `source` names the answer.
    """
    if expr is None:
        return
    absent = [c for c in columns(expr) if listed and "." not in c and c not in row]
    failed = absent or unmet(expr, row)
    if not failed:
        return
    ident = next((str(row[k]) for k in ("number", "Request ID", "sys_id") if row.get(k)), "")
    what = ", ".join(repr(c) for c in failed)
    why = (
        f"the answer has no column {what}: the table lacks it (or an ACL hides it), and "
        "ServiceNow ignores query terms on columns a table does not have"
        if absent
        else f"its {what} {'does' if len(failed) == 1 else 'do'} not satisfy the filter sent"
    )
    raise FilterNotApplied(
        f"{source}: record {ident or '(no id)'} is not what was asked for: {why}. "
        "Reading on could act on the wrong records; run `smpm check` to compare the mapping "
        "with the instance",
        columns=tuple(failed),
    )


def columns(expr: Filter) -> list[str]:
    """Every column a filter reads: its fields, and the references its dot-walks start from
    (`assignment_group` for `assignment_group.name`), which every record has when the table
    does, even where the reference is empty."""
    out = [part for name in expr.fields() for part in (name.split(".", 1)[0], name)]
    return list(dict.fromkeys(out))


def admits(expr: Filter, row: Mapping[str, Any], *, wildcards: bool = True) -> bool:
    """May `row` satisfy `expr` on some instance? With `wildcards`, `%` and `_` in a LIKE text
    match any text and any character; without, only themselves (what a filter means)."""
    return _holds(expr, row, True, wildcards)


def unmet(expr: Filter, row: Mapping[str, Any]) -> list[str]:
    """The columns of the conditions `row` cannot satisfy ([] when `admits`)."""
    if admits(expr, row):
        return []
    if isinstance(expr, And):
        return list(dict.fromkeys(c for p in expr.parts for c in unmet(p, row)))
    return list(dict.fromkeys(expr.fields()))


def _holds(expr: Filter, row: Mapping[str, Any], lenient: bool, wildcards: bool) -> bool:
    if isinstance(expr, And):
        return all(_holds(p, row, lenient, wildcards) for p in expr.parts)
    if isinstance(expr, Or):
        return any(_holds(p, row, lenient, wildcards) for p in expr.parts)
    if isinstance(expr, Not):
        return not _holds(expr.part, row, not lenient, wildcards)
    raw = row.get(expr.field)  # type: ignore[attr-defined]
    if isinstance(expr, IsNull):
        return not _empty(raw, not lenient) if expr.negated else _empty(raw, lenient)
    if isinstance(expr, In):
        return not _empty(raw, False) and any(_equal(raw, v, lenient) for v in expr.values)
    if isinstance(expr, Like):
        return _like(raw, expr, lenient, wildcards)
    if isinstance(expr, Comparison):
        return _compare(raw, expr.op, expr.value, lenient)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def _compare(raw: Any, op: Op, value: Scalar, lenient: bool) -> bool:
    if _text(value) == "" and op in (Op.EQ, Op.NE):  # renderers write these as (not) empty
        return _empty(raw, lenient) if op is Op.EQ else not _empty(raw, not lenient)
    if op is Op.NE:
        return _empty(raw, lenient) or not _equal(raw, value, not lenient)
    if _empty(raw, False):
        return False
    if op is Op.EQ:
        return _equal(raw, value, lenient)
    if isinstance(value, datetime):
        moment = _moment(raw)
        if moment is None:
            return lenient
        shift = SLACK if lenient else -SLACK
        bound = _second(value) + (shift if op in (Op.LT, Op.LE) else -shift)
        return ORDER[op](moment, bound)
    a, b = _text(raw), _text(value)
    if not (NUMBER.match(a) and NUMBER.match(b)):
        return lenient  # text ordering differs per platform and field type: not judged
    ways = [ORDER[op](float(a), float(b)), ORDER[op](a, b), ORDER[op](_fold(a), _fold(b))]
    return any(ways) if lenient else all(ways)


def _equal(raw: Any, value: Scalar, lenient: bool) -> bool:
    if isinstance(value, datetime):
        moment = _moment(raw)
        if moment is None:
            return lenient
        gap = abs(moment - _second(value))
        return gap <= SLACK if lenient else gap == timedelta(0)
    a, b = _text(raw), _text(value)
    if a == b:
        return True
    if not lenient:
        return False
    folded = TRUTH.get(_fold(a), _fold(a)).rstrip(" "), TRUTH.get(_fold(b), _fold(b)).rstrip(" ")
    numbers = bool(NUMBER.match(a) and NUMBER.match(b)) and float(a) == float(b)
    by_display = bool(SYS_ID.match(a)) and not SYS_ID.match(b)
    return folded[0] == folded[1] or numbers or by_display


def _like(raw: Any, node: Like, lenient: bool, wildcards: bool) -> bool:
    if node.text == "":
        return not _empty(raw, not lenient)
    if _empty(raw, False):
        return False
    text, hay = node.text, _text(raw)
    if not lenient:
        return _found(hay, re.escape(text), node.mode)
    pattern = "".join(
        {"%": ".*", "_": "."}.get(ch, re.escape(ch)) if wildcards else re.escape(ch)
        for ch in _fold(text)
    )
    return _found(_fold(hay), pattern, node.mode)


def _found(hay: str, pattern: str, mode: LikeMode) -> bool:
    if mode is LikeMode.STARTS_WITH:
        return re.match(pattern, hay, re.S) is not None
    if mode is LikeMode.ENDS_WITH:
        return re.search(f"(?:{pattern})\\Z", hay, re.S) is not None
    return re.search(pattern, hay, re.S) is not None


def _empty(raw: Any, lenient: bool) -> bool:
    """Empty is "" or null; leniently also blank (MySQL pads with spaces when comparing)."""
    text = _text(raw)
    return text.strip(" ") == "" if lenient else text == ""


def _text(value: Any) -> str:
    """A raw value or a filter value as the text a platform compares."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return _text(value.value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _fold(text: str) -> str:
    """Case and accents dropped, as a case- and accent-insensitive collation compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _moment(raw: Any) -> datetime | None:
    """A raw date: epoch seconds (AR), `YYYY-MM-DD HH:MM:SS` (UTC, ServiceNow) or ISO 8601."""
    text = _text(raw).strip()
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _second(value: datetime) -> datetime:
    """Renderers write whole seconds (the fraction dropped), so compare with those."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.replace(microsecond=0)
