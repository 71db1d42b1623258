"""Names <-> sys_ids: how SMPM's names and numbers become ServiceNow references, and back.

SMPM entities hold a group's name, a person's login, a ticket's number; reference columns hold
sys_ids [reference 1.3]. Reading needs no lookup (the mapping dot-walks, `assignment_group.name`,
in `sysparm_fields` [1.2]); writing does. `sysparm_input_display_value=true` would resolve names
on the instance, but by the referenced table's display column (a user's full name, not the
login) and it reads dates in the user's time zone [1.2], so smpm looks sys_ids up itself: one
query per distinct value, cached for the connector's life (misses are not cached: the record may
be created later). A value naming no record is `UnknownReference`, one naming several is
`Rejected`; both name the field and the value, and nothing is written. No reference is ever
dropped from a write: a caller that can do without one (Event Handling, for a CI the CMDB
lacks) decides so before writing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from connector.errors import ConfigurationError, ConnectorError, Rejected, UnknownReference
from connector.filters import Comparison, Filter, In, Op

if TYPE_CHECKING:
    from connector.codec import KindCodec

CHUNK = 100  # values per IN query: ~40 URL characters each


class RecordSource(Protocol):
    """What the look-ups ask of the connector: the rows of a table that a query selects
    (`ServiceNowConnector.list_records`)."""

    def list_records(self, table: str, **kwargs: Any) -> Iterator[dict[str, str]]: ...


class References:
    """A cache of (table, column, value) -> sys_id, filled by queries through the connector."""

    def __init__(self, connector: RecordSource) -> None:
        self.connector = connector
        self._ids: dict[tuple[str, str, str], str | None] = {}
        self._values: dict[tuple[str, str, str], str] = {}
        self.lookups = 0

    # -- value -> sys_id --------------------------------------------------------------------------
    def sys_id(
        self,
        table: str,
        column: str,
        value: str,
        *,
        what: str,
        missing: type[ConnectorError] = UnknownReference,
    ) -> str:
        """The sys_id of the one `table` record whose `column` is `value`; `what` names it.

        No such record is `missing` (`UnknownReference` naming `what` and `value`, unless the
        caller wants another error, e.g. `NotFound` for a ticket number); several are
        `Rejected`: a name that does not pick one record cannot be written.
        """
        if column == "sys_id":
            return value
        key = (table, column, value)
        if key not in self._ids:
            self._fetch(table, column, [value])
        found = self._ids.get(key)
        if found is None:
            several = key in self._ids
            self._ids.pop(key, None)
            rows = "several records" if several else "no record"
            message = f"ServiceNow {what}: {rows} in {table} with {column} = {value!r}"
            if several:
                raise Rejected(message)
            if missing is UnknownReference:
                raise UnknownReference(message, field=what, table=table, column=column, value=value)
            raise missing(message)
        return found

    def known(self, table: str, column: str, value: str) -> str | None:
        """The cached sys_id, or None when it was never looked up or matched nothing."""
        return value if column == "sys_id" else self._ids.get((table, column, value))

    def prefetch(self, table: str, column: str, values: Iterable[str]) -> None:
        """Look up many values with IN queries, so later `sys_id` calls need no query."""
        if column == "sys_id":
            return
        wanted = sorted({v for v in values if v and (table, column, v) not in self._ids})
        for start in range(0, len(wanted), CHUNK):
            self._fetch(table, column, wanted[start : start + CHUNK])

    def _fetch(self, table: str, column: str, values: list[str]) -> None:
        where: Filter = (
            Comparison(column, Op.EQ, values[0]) if len(values) == 1 else In(column, tuple(values))
        )
        limit = 2 if len(values) == 1 else None  # two are enough to see an ambiguity
        self.lookups += 1
        seen: dict[str, set[str]] = {}
        for row in self.connector.list_records(
            table, where=where, fields=["sys_id", column], limit=limit
        ):
            seen.setdefault(row.get(column, ""), set()).add(row.get("sys_id", ""))
            self._values[(table, row.get("sys_id", ""), column)] = row.get(column, "")
        for value in values:
            ids = seen.get(value, set())
            if len(ids) == 1:
                self._ids[(table, column, value)] = next(iter(ids))
            elif ids:
                self._ids[(table, column, value)] = None  # ambiguous: remembered as such

    # -- sys_id -> value --------------------------------------------------------------------------
    def values_of(self, table: str, column: str, sys_ids: Iterable[str]) -> dict[str, str]:
        """sys_id -> `column` for records of `table`; ids that match nothing are left out."""
        ids = sorted({i for i in sys_ids if i})
        missing = [i for i in ids if (table, i, column) not in self._values]
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            self.lookups += 1
            for row in self.connector.list_records(
                table, where=In("sys_id", tuple(chunk)), fields=["sys_id", column]
            ):
                self._values[(table, row.get("sys_id", ""), column)] = row.get(column, "")
        found = {i: self._values.get((table, i, column)) for i in ids}
        return {i: v for i, v in found.items() if v is not None}

    # -- request bodies ---------------------------------------------------------------------------
    def resolve_body(self, codec: KindCodec, body: Mapping[str, Any]) -> dict[str, str]:
        """A create or update body with dot-walked names replaced by the referenced sys_ids.

        `{"assignment_group.name": "Service Desk"}` becomes `{"assignment_group": "<sys_id>"}`;
        an explicit sys_id for the same column wins over a name; None clears (written "").
        """
        out: dict[str, str] = {}
        walked: dict[str, tuple[str, str, Any]] = {}
        for column, value in body.items():
            if "." not in column:
                out[column] = "" if value is None else str(value)
                continue
            reference, lookup = column.split(".", 1)
            if "." in lookup:
                raise ConfigurationError(
                    f"{codec.mapping.source}: {column!r} walks two references; it can be read "
                    "but not written"
                )
            walked[reference] = (lookup, column, value)
        for reference, (lookup, column, value) in walked.items():
            if reference in out:
                continue
            if value is None or value == "":
                out[reference] = ""
                continue
            table = self.table_for(codec, column)
            what = f"{codec.kind.value}.{self.smpm_name(codec, column)}"
            out[reference] = self.sys_id(table, lookup, str(value), what=what)
        return out

    @staticmethod
    def smpm_name(codec: KindCodec, column: str) -> str:
        for name, platform in {**codec.spec.fields, **codec.spec.create_fields}.items():
            if platform == column:
                return name
        return column

    def table_for(self, codec: KindCodec, column: str) -> str:
        name = self.smpm_name(codec, column)
        table = codec.spec.references.get(name)
        if not table:
            raise ConfigurationError(
                f"{codec.mapping.source}: kinds.{codec.kind.value}.references.{name}: {column!r} "
                "is a dot-walk; name the table it references to write it"
            )
        return table
