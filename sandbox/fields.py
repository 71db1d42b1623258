"""Field definitions and the three shapes a value takes in the sandbox.

- *wire*: what the REST API reads and writes (JSON): enum labels, dates as
  `2022-06-21T11:08:05.000+0000` [reference 2.12].
- *record*: what workflow code handles: enum labels, dates as epoch seconds (int).
- *db*: what SQLite stores: enums as their integer value (as AR stores selection fields, 3),
  dates as epoch seconds, objects (Status-History) as JSON text.

Empty strings read as null, as on AR (an empty character value is stored as NULL).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sandbox.errors import bad_value


class FieldType(StrEnum):
    CHAR = "CHAR"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    DATETIME = "TIME"
    ENUM = "ENUM"
    OBJECT = "OBJECT"  # Status-History and other structured values, kept as JSON


SQL_TYPES = {
    FieldType.CHAR: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.DECIMAL: "REAL",
    FieldType.DATETIME: "INTEGER",
    FieldType.ENUM: "INTEGER",
    FieldType.OBJECT: "TEXT",
}


@dataclass(frozen=True)
class Selection:
    """The labels of a selection field and the integer AR stores for each."""

    labels: tuple[str, ...]
    numbers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.numbers:
            object.__setattr__(self, "numbers", tuple(range(len(self.labels))))

    def number(self, label: str) -> int | None:
        return self.numbers[self.labels.index(label)] if label in self.labels else None

    def label(self, number: int) -> str | None:
        return self.labels[self.numbers.index(number)] if number in self.numbers else None


@dataclass(frozen=True)
class FieldDef:
    """One field of a form. `column` is its SQLite column; `expr` replaces it when computed."""

    name: str
    type: FieldType = FieldType.CHAR
    id: int | None = None
    selection: Selection | None = None
    column: str | None = None
    expr: str | None = None
    readonly: bool = False

    @property
    def sql(self) -> str:
        assert self.expr or self.column, f"field {self.name!r} has no column"
        return self.expr or self.column  # type: ignore[return-value]

    def renamed(self, name: str, **changes: Any) -> FieldDef:
        return replace(self, name=name, **changes)


# -- builders used by the form modules ------------------------------------------------------------
def char(name: str, id: int | None = None, *, readonly: bool = False) -> FieldDef:
    return FieldDef(name, FieldType.CHAR, id, readonly=readonly)


def chars(*names: str) -> tuple[FieldDef, ...]:
    """Character fields the sandbox keeps but gives no behaviour (they stay null unless set)."""
    return tuple(FieldDef(n) for n in names)


def integer(name: str, id: int | None = None, *, readonly: bool = False) -> FieldDef:
    return FieldDef(name, FieldType.INTEGER, id, readonly=readonly)


def decimal(name: str, id: int | None = None) -> FieldDef:
    return FieldDef(name, FieldType.DECIMAL, id)


def date(name: str, id: int | None = None, *, readonly: bool = False) -> FieldDef:
    return FieldDef(name, FieldType.DATETIME, id, readonly=readonly)


def dates(*names: str) -> tuple[FieldDef, ...]:
    return tuple(FieldDef(n, FieldType.DATETIME) for n in names)


def enum(name: str, selection: Selection, id: int | None = None) -> FieldDef:
    return FieldDef(name, FieldType.ENUM, id, selection=selection)


def obj(name: str, id: int | None = None) -> FieldDef:
    return FieldDef(name, FieldType.OBJECT, id, readonly=True)


# -- dates -----------------------------------------------------------------------------------------
_ISO = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$"
)


def format_date(epoch: int) -> str:
    """AR's JSON date-time: `2022-06-21T11:08:05.000+0000` [reference 2.12]."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(epoch))


def parse_date(text: str) -> int | None:
    """Epoch seconds from an epoch string or an ISO 8601 date(-time); None when neither."""
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return int(float(text))
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    offset = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return int(moment.timestamp()) - offset


# -- conversions -----------------------------------------------------------------------------------
def to_record(field: FieldDef, value: Any) -> Any:
    """A wire value as a record value; raises ARError 306 naming the field when it cannot be."""
    if value is None or value == "":
        return None
    kind = field.type
    if kind is FieldType.OBJECT:
        return value
    if isinstance(value, dict | list | bool):
        raise bad_value(field.name, f"{value!r} is not a {kind.value.lower()} value")
    if kind is FieldType.CHAR:
        return value if isinstance(value, str) else _number_text(value)
    if kind is FieldType.ENUM:
        return _enum_label(field, value)
    if kind is FieldType.DATETIME:
        epoch = value if isinstance(value, int | float) else parse_date(str(value))
        if epoch is None:
            raise bad_value(field.name, f"{value!r} is not a date (use ISO 8601 or epoch seconds)")
        return int(epoch)
    return _number(field, value)


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _number(field: FieldDef, value: Any) -> int | float:
    try:
        number = float(value) if field.type is FieldType.DECIMAL else int(str(value), 10)
    except ValueError:
        raise bad_value(field.name, f"{value!r} is not a number") from None
    return number


def _enum_label(field: FieldDef, value: Any) -> str:
    assert field.selection is not None
    sel = field.selection
    if isinstance(value, str) and value in sel.labels:
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        label = sel.label(int(value))
        if label is not None:
            return label
    allowed = ", ".join(sel.labels)
    raise bad_value(field.name, f"{value!r} is not one of: {allowed}")


def to_db(field: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if field.type is FieldType.ENUM:
        assert field.selection is not None
        return field.selection.number(value)
    if field.type is FieldType.OBJECT:
        return json.dumps(value, separators=(",", ":"))
    return value


def from_db(field: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if field.type is FieldType.ENUM:
        assert field.selection is not None
        return field.selection.label(value)
    if field.type is FieldType.OBJECT:
        return json.loads(value)
    return value


def to_wire(field: FieldDef, value: Any) -> Any:
    if value is not None and field.type is FieldType.DATETIME:
        return format_date(value)
    return value
