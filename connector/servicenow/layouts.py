"""Where ServiceNow keeps work notes and relations, and how filters reach platform columns.

Work notes are journal entries [reference 2.9]: written by PATCHing `work_notes` (internal) or
`comments` (visible to the caller) on the parent record, read from `sys_journal_field`, whose
rows name the parent by sys_id (`element_id`), its table (`name`) and the journal column
(`element`). That table has its own read ACL: a user without it gets `[]`, not an error, so notes
then read as none (and a replayed note may be written twice). A journal entry has no summary; a
note's summary becomes its first line.

Relations come in two layouts (mapping `[kinds.relation.sources.X]`): a reference on the source
record itself (`incident.problem_id` [2.2]: relating is an update of the incident), or rows of a
relation table (`cmdb_rel_ci`: parent, child and a type looked up by name [2.5]). A reference
holds one link: relating a record to the target it already names is a no-op, and relating it
to another while the reference is set is refused (Rejected, naming both), because the update
would silently drop the first link. Where a link is to be moved, the caller clears it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connector.codec import CodecSource, KindCodec
from connector.entities import RecordKind, Relation, WorkNote
from connector.errors import ConfigurationError, InvalidResponse, Rejected
from connector.filters import And, Comparison, Filter, In, IsNull, Op, all_of
from connector.servicenow.encoded_query import EVERYTHING, NOTHING, UnsupportedQuery, map_leaves
from connector.servicenow.refs import RecordSource, References
from mappings.loader import ParentForm, RelationSource

JOURNAL_TABLE = "name"  # sys_journal_field's column naming the parent's table [2.9]


class LayoutHost(CodecSource, RecordSource, Protocol):
    """What the layouts use of `ServiceNowConnector`: its mapping and codecs, its reference
    look-ups and its listing; typed so, this module need not import the connector."""

    refs: References


def translate_leaf(codec: KindCodec, leaf: Filter) -> Filter:
    """One condition in platform names and values; emptiness of a dot-walk asks the reference.

    `assignment_group.nameISEMPTY` would depend on how the instance joins a missing reference;
    `assignment_groupISEMPTY` says what is meant: no group.
    """
    out = codec.translate(leaf)
    if isinstance(out, IsNull) and "." in out.field:
        return IsNull(out.field.split(".", 1)[0], out.negated)
    return out


def translate(codec: KindCodec, where: Filter) -> Filter:
    return map_leaves(where, lambda leaf: translate_leaf(codec, leaf))


@dataclass(frozen=True)
class Write:
    """One write a layout asks the connector to make."""

    method: str
    table: str
    sys_id: str | None
    body: dict[str, str]


class NoteLayout:
    """Work notes of one parent kind: journal rows of its table, written through the parent."""

    def __init__(self, connector: LayoutHost, parent_kind: RecordKind) -> None:
        self.connector = connector
        self.codec = connector.codec(RecordKind.WORK_NOTE)
        parents = self.codec.spec.parents
        if parent_kind.value not in parents:
            raise ConfigurationError(
                f"{connector.mapping.source}: kinds.work_note.parents.{parent_kind.value}: "
                "no parent table is mapped for this kind"
            )
        self.kind = parent_kind
        self.parent: ParentForm = parents[parent_kind.value]
        self.table = self.codec.spec.form or "sys_journal_field"
        self.parent_key = connector.codec(parent_kind).platform_field("id")
        self.element = self.codec.platform_field("note_type")

    def journal_columns(self) -> tuple[str, ...]:
        """The parent's journal columns: the values of the note type table."""
        table = self.connector.mapping.enums[self.codec.spec.enums["note_type"]]
        return tuple(sorted({str(v) for v in table.values() if not isinstance(v, Mapping)}))

    def scope(self) -> Filter:
        return And(
            (
                Comparison(JOURNAL_TABLE, Op.EQ, self.parent.form),
                In(self.element, self.journal_columns()),
            )
        )

    def read_fields(self) -> list[str]:
        return list(
            dict.fromkeys([*self.codec.read_fields(), self.parent.parent_field, JOURNAL_TABLE])
        )

    def translate(self, where: Filter) -> Filter:
        return map_leaves(where, self._leaf)

    def _leaf(self, leaf: Filter) -> Filter:
        if getattr(leaf, "field", None) != "parent_id":
            return translate_leaf(self.codec, leaf)
        refs, field = self.connector.refs, self.parent.parent_field
        if isinstance(leaf, Comparison) and leaf.op in (Op.EQ, Op.NE):
            number = str(leaf.value)
            refs.prefetch(self.parent.form, self.parent_key, [number])
            found = refs.known(self.parent.form, self.parent_key, number)
            if found is None:  # no such parent: no note is on it
                return NOTHING if leaf.op is Op.EQ else EVERYTHING
            return Comparison(field, leaf.op, found)
        if isinstance(leaf, In):
            numbers = [str(v) for v in leaf.values]
            refs.prefetch(self.parent.form, self.parent_key, numbers)
            ids = [refs.known(self.parent.form, self.parent_key, n) for n in numbers]
            known = tuple(i for i in ids if i)
            return In(field, known) if known else NOTHING
        if isinstance(leaf, IsNull):
            return IsNull(field, leaf.negated)
        raise UnsupportedQuery("work notes can be found by parent_id only with = or one_of")

    def decode_page(self, rows: list[dict[str, str]]) -> list[WorkNote]:
        """A page of journal rows, their parents' numbers read in one query."""
        field = self.parent.parent_field
        numbers = self.connector.refs.values_of(
            self.parent.form, self.parent_key, (r.get(field, "") for r in rows)
        )
        return [
            self.codec.decode(  # type: ignore[misc]
                row,
                f"{self.table} entry",
                parent_kind=self.kind,
                parent_id=numbers.get(row.get(field, ""), row.get(field, "")),
            )
            for row in rows
        ]

    def encode(self, note: WorkNote) -> Write:
        """PATCH the parent: a public note goes to the public column, else the type decides."""
        column = (
            self.codec.encode_value("public", True)
            if note.public
            else self.codec.encode_value("note_type", note.note_type)
        )
        text = f"{note.summary}\n\n{note.text}" if note.summary else note.text
        sys_id = self.connector.refs.sys_id(
            self.parent.form, self.parent_key, note.parent_id, what=f"work note on {self.kind}"
        )
        return Write("PATCH", self.parent.form, sys_id, {str(column): text})


class RelationLayout:
    """Relations from one source kind: a reference on the record, or rows of a relation table."""

    def __init__(
        self, connector: LayoutHost, source_kind: RecordKind, key: str | None = None
    ) -> None:
        self.connector = connector
        self.mapping = connector.mapping
        spec = connector.codec(RecordKind.RELATION).spec
        key = key or source_kind.value
        if key not in spec.sources:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.relation.sources.{key}: "
                "no relation layout is mapped for this kind"
            )
        self.kind = source_kind
        self.source: RelationSource = spec.sources[key]
        self.type_table = spec.references.get("relation_type")
        self.target_kind = RecordKind(self.source.target_kind or source_kind.value)
        self.fixed_type = self.source.type_field is None
        own_table = self.mapping.kind(source_kind.value)
        self.in_record = (
            self.fixed_type and own_table is not None and (own_table.form == self.source.form)
        )
        self.names = {"source_id": self.source.source_field, "target_id": self.source.target_field}
        if self.source.type_field:
            self.names["relation_type"] = self.source.type_field

    @classmethod
    def writing(cls, connector: LayoutHost, relation: Relation) -> RelationLayout:
        """The layout that keeps links from the relation's source kind to its target kind."""
        key = f"{relation.source_kind.value}.{relation.target_kind.value}"
        sources = connector.codec(RecordKind.RELATION).spec.sources
        return cls(connector, relation.source_kind, key if key in sources else None)

    @classmethod
    def reading(cls, connector: LayoutHost, source_kind: RecordKind) -> list[RelationLayout]:
        """Every layout that keeps links from `source_kind` records."""
        sources = connector.codec(RecordKind.RELATION).spec.sources
        keys = [k for k in sources if k.partition(".")[0] == source_kind.value]
        return [cls(connector, source_kind, k) for k in keys] or [cls(connector, source_kind)]

    def scope(self) -> Filter | None:
        """On the source record, only records whose reference is set are relations."""
        if not self.in_record:
            return None
        return IsNull(self.source.target_field.split(".", 1)[0], negated=True)

    def read_fields(self) -> list[str]:
        return list(dict.fromkeys(["sys_id", *self.names.values()]))

    def translate(self, where: Filter) -> Filter:
        return map_leaves(where, self._leaf)

    def _leaf(self, leaf: Filter) -> Filter:
        name = getattr(leaf, "field", None)
        if name == "relation_type" and self.fixed_type:
            return self._fixed_type(leaf)
        if name not in self.names:
            raise ConfigurationError(f"relations on {self.source.form} have no field {name!r}")
        return leaf.translate(lambda n: self.names[n], self._value)

    def _value(self, smpm: str, value: Any) -> Any:
        if smpm == "relation_type":
            return self._label(str(getattr(value, "value", value)))
        return value

    def _fixed_type(self, leaf: Filter) -> Filter:
        """A reference has one type: a condition on it is true or false for every record."""
        own = self.own_type()
        if isinstance(leaf, Comparison) and leaf.op in (Op.EQ, Op.NE):
            same = str(getattr(leaf.value, "value", leaf.value)) == own
            return EVERYTHING if same == (leaf.op is Op.EQ) else NOTHING
        if isinstance(leaf, In):
            values = {str(getattr(v, "value", v)) for v in leaf.values}
            return EVERYTHING if own in values else NOTHING
        raise UnsupportedQuery("a relation's type can only be compared with = and one_of")

    def own_type(self) -> str:
        table = self.mapping.enums[self.source.type_enum]
        own = [k for k, v in table.items() if not isinstance(v, Mapping)]
        if len(own) != 1:
            raise ConfigurationError(
                f"{self.mapping.source}: enums.{self.source.type_enum}: a link without a "
                "type_field needs exactly one relation type of its own"
            )
        return own[0]

    def _label(self, relation_type: str) -> str:
        try:
            return self.mapping.to_platform(self.source.type_enum, relation_type)
        except KeyError:
            raise ConfigurationError(
                f"{self.mapping.source}: enums.{self.source.type_enum}: no value for "
                f"{relation_type!r}"
            ) from None

    # -- rows <-> relations -----------------------------------------------------------------------
    def decode(self, values: Mapping[str, str]) -> Relation:
        if self.fixed_type:
            relation_type = self.own_type()
        else:
            label = values.get(self.names["relation_type"], "")
            found = self.mapping.from_platform(self.source.type_enum, label)
            if found is None:
                raise InvalidResponse(
                    f"{self.source.form} {values.get('sys_id', '')}: relation type {label!r} is "
                    f"not under [enums.{self.source.type_enum}] or its read_aliases"
                )
            relation_type = found
        return Relation(
            source_kind=self.kind,
            source_id=values.get(self.source.source_field, ""),
            target_kind=self.target_kind,
            target_id=values.get(self.source.target_field, ""),
            relation_type=relation_type,  # type: ignore[arg-type]
        )

    def encode(self, relation: Relation) -> Write | None:
        """The write that makes the link; None when the record already holds it."""
        if relation.target_kind is not self.target_kind:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.relation.sources.{self.kind.value}: relations "
                f"from {self.kind.value} records point at {self.target_kind.value} records only"
            )
        label = self._label(relation.relation_type.value)
        target_column, target = self._reference(
            self.source.target_field, self.target_kind, relation.target_id
        )
        if self.in_record:
            return self._set_reference(relation, target_column, target)
        column, source = self._reference(self.source.source_field, self.kind, relation.source_id)
        kind = {} if self.fixed_type else self._type_value(label)
        return Write(
            "POST", self.source.form, None, {column: source, target_column: target, **kind}
        )

    def _reference(self, field: str, kind: RecordKind, smpm_id: str) -> tuple[str, str]:
        """(column, sys_id) for a column pointing at the `kind` record people call `smpm_id`."""
        column, _, lookup = field.partition(".")
        key = lookup or self.connector.codec(kind).platform_field("id")
        what = f"relation to {kind.value} {smpm_id}"
        return column, self.connector.refs.sys_id(self._table(kind), key, smpm_id, what=what)

    def _set_reference(self, relation: Relation, column: str, target: str) -> Write | None:
        """PATCH the source's reference, read first: it holds one link and must not lose it."""
        table, key = self._table(self.kind), self.source.source_field
        shown = self.source.target_field if "." in self.source.target_field else column
        rows = list(
            self.connector.list_records(
                table,
                where=Comparison(key, Op.EQ, relation.source_id),
                fields=[column, shown],
                limit=2,
            )
        )
        source = f"{self.kind.value} {relation.source_id}"
        if len(rows) != 1:
            several = "several records" if rows else "no record"
            raise Rejected(
                f"ServiceNow relation source: {several} in {table} with {key} = "
                f"{relation.source_id!r}"
            )
        current = rows[0].get(column, "")
        if current == target:
            return None
        if current:
            raise Rejected(
                f"ServiceNow: {source} already names {self.target_kind.value} "
                f"{rows[0].get(shown) or current} in {column}, which holds one link; relating it "
                f"to {relation.target_id} would replace that link. Remove the first link, or "
                f"relate {source} to the {self.target_kind.value} it names"
            )
        return Write("PATCH", self.source.form, rows[0]["sys_id"], {column: target})

    def _type_value(self, label: str) -> dict[str, str]:
        column, _, lookup = str(self.source.type_field).partition(".")
        if not lookup:
            return {column: label}
        if not self.type_table:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.relation.references.relation_type: name the "
                f"table {self.source.type_field!r} references"
            )
        what = "relation type"
        return {column: self.connector.refs.sys_id(self.type_table, lookup, label, what=what)}

    def _table(self, kind: RecordKind) -> str:
        spec = self.mapping.kind(kind.value)
        if spec is None or not spec.form:
            raise ConfigurationError(f"{self.mapping.source}: kinds.{kind.value}.form: not mapped")
        return spec.form


def merge_scope(scope: Filter | None, where: Filter | None) -> Filter | None:
    """A layout's own restriction AND the caller's filter (at expression level, so ^NQ holds)."""
    parts = [p for p in (scope, where) if p is not None]
    return all_of(*parts) if parts else None
