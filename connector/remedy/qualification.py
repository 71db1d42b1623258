"""Render filter expressions as AR System qualifications (the `q=` of the Remedy REST API).

The syntax, from BMC's "Formatting conventions for fields in qualifications" and "Operators":
field names or ids in single quotes, a single quote inside doubled (`'Doug''s Requests'`);
character values in double quotes, a double quote inside doubled (`"Robert ""Bobby"" Smith"`);
there is no backslash escape. Dates compare as epoch seconds in quotes (`"1657032797"`), the form
real integrations send. `$NULL$` stands for an empty field.

LIKE wildcards (`%`, `_`, `[`) inside a value are bracket-escaped (`[%]`), the MSSQL/Sybase form.
On Oracle, where AR has no escape, a bracketed wildcard matches nothing: the search narrows but can
never widen. The expression is expected to be translated to platform names and values already.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum

from connector.filters import (
    And,
    Comparison,
    Filter,
    In,
    IsNull,
    Like,
    LikeMode,
    Not,
    Or,
    Scalar,
)


def quote_field(name: str) -> str:
    """`Status` -> `'Status'`; a single quote in the name is doubled."""
    return "'" + name.replace("'", "''") + "'"


def quote_value(value: Scalar) -> str:
    """Write one value as an AR literal: numbers bare, everything else double-quoted."""
    if isinstance(value, bool):
        raise TypeError("AR qualifications have no boolean; map the value to its enum label first")
    if isinstance(value, int | float) and not isinstance(value, Enum):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot compare with {value!r} in a qualification")
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("dates in qualifications must be timezone-aware")
        text = str(int(value.timestamp()))
    elif isinstance(value, Enum):
        text = str(value.value)
    else:
        text = value
    return '"' + text.replace('"', '""') + '"'


def _escape_like(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "%_[" else ch for ch in text)


def _like_pattern(node: Like) -> str:
    body = _escape_like(node.text)
    if node.mode is LikeMode.CONTAINS:
        return f"%{body}%"
    if node.mode is LikeMode.STARTS_WITH:
        return f"{body}%"
    return f"%{body}"


def render(expr: Filter) -> str:
    """The qualification text for an expression (already in platform names and values)."""
    if isinstance(expr, Comparison):
        return f"{quote_field(expr.field)} {expr.op.value} {quote_value(expr.value)}"
    if isinstance(expr, Like):
        return f"{quote_field(expr.field)} LIKE {quote_value(_like_pattern(expr))}"
    if isinstance(expr, IsNull):
        return f"{quote_field(expr.field)} {'!=' if expr.negated else '='} $NULL$"
    if isinstance(expr, In):
        alternatives = [f"{quote_field(expr.field)} = {quote_value(v)}" for v in expr.values]
        return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
    if isinstance(expr, And):
        return "(" + " AND ".join(render(p) for p in expr.parts) + ")"
    if isinstance(expr, Or):
        return "(" + " OR ".join(render(p) for p in expr.parts) + ")"
    if isinstance(expr, Not):
        return f"NOT ({render(expr.part)})"
    raise TypeError(f"cannot render {type(expr).__name__} as an AR qualification")
