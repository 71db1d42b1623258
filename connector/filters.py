"""Filter expressions: how procedures say which records they want, on any platform.

Procedures build expressions over SMPM field names with SMPM values::

    where = (Field("status") == IncidentStatus.NEW) & Field("assigned_group").is_null()

A connector first translates names and values through its mapping (`Filter.translate`), then a
renderer writes the platform's syntax (`connector.qualification` for Remedy,
`connector.encoded_query` for ServiceNow). Renderers quote every value, so no value can change
the shape of the query; wildcard searches are a `Like` mode, never a `%` inside a value.

Invariants: expressions are immutable values; `And`/`Or` hold at least two parts; a `Like` value is
the literal text to look for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum, StrEnum

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
