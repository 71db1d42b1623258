"""The `sysparm_*` parameters of a Table API request, and its name-value pair filters [1.2].

Lenient as the platform is: an unparsable `sysparm_limit` means the default (10000), a negative
offset means 0 [1.2 "Don't pass a negative number"; the sandbox's choice]; booleans are `true`
in any case. Every parameter not starting with `sysparm_` is a name-value filter
(`&active=true`), AND-ed with `sysparm_query` when both are given (the docs call them mutually
exclusive; UNCONFIRMED).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.servicenow.encoded_query import Query, Term, parse
from sandbox.servicenow.schema import SCHEMA

DEFAULT_LIMIT = 10000  # [1.2]
MODES = ("false", "true", "all")


@dataclass(frozen=True)
class Options:
    query: str = ""
    pairs: tuple[tuple[str, str], ...] = ()
    display: str = "false"
    exclude_links: bool = False
    fields: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    no_count: bool = False
    suppress_pagination: bool = False
    input_display: bool = False


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default  # type: ignore[arg-type]
    except ValueError:
        return default


def options(items: list[tuple[str, str]]) -> Options:
    given = {k: v for k, v in items}
    display = (given.get("sysparm_display_value") or "false").strip().lower()
    fields = [f.strip() for f in (given.get("sysparm_fields") or "").split(",") if f.strip()]
    limit = _int(given.get("sysparm_limit"), DEFAULT_LIMIT)
    return Options(
        query=given.get("sysparm_query") or "",
        pairs=tuple((k, v) for k, v in items if not k.startswith("sysparm_")),
        display=display if display in MODES else "false",
        exclude_links=_flag(given.get("sysparm_exclude_reference_link")),
        fields=tuple(fields) if fields else None,
        limit=limit if limit > 0 else DEFAULT_LIMIT,
        offset=max(0, _int(given.get("sysparm_offset"), 0)),
        no_count=_flag(given.get("sysparm_no_count")),
        suppress_pagination=_flag(given.get("sysparm_suppress_pagination_header")),
        input_display=_flag(given.get("sysparm_input_display_value")),
    )


def full_query(table: str, opts: Options) -> Query:
    """`sysparm_query` with the name-value pairs AND-ed to each of its groups."""
    query = parse(opts.query)
    pairs = [(_pair(table, name, value),) for name, value in opts.pairs]
    if not pairs:
        return query
    groups = tuple(group + tuple(pairs) for group in query.groups) or (tuple(pairs),)
    return Query(groups, query.order, query.invalid)  # type: ignore[arg-type]


def _pair(table: str, name: str, value: str) -> Term:
    """A name-value pair; a choice may be given by its label [1.2 `&state=closed`]."""
    column = SCHEMA.columns(table).get(name)
    if column is not None and column.choices and value not in {v for v, _ in column.choices}:
        for choice, label in column.choices:
            if label.lower() == value.lower():
                return Term(name, "=", choice)
    return Term(name, "=", value)
