"""Where Remedy keeps work notes and relations: one form per parent or source kind.

Work logs live on `HPD:WorkLog`, `PBM:Investigation WorkLog`, ... keyed by the parent's number;
relations are association rows on `HPD:Associations`, `PBM:Investigation Associations`, ...
naming the related record and its form [reference 4.4, 4.7]. A layout turns SMPM work notes and
relations into those rows and back, using the mapping's `parents` and `sources` tables.

Sites and versions add labels to the note and association type selections, and ITSM writes each
association twice, the related record's row with the reciprocal type ("Caused" for "Caused By",
"Original of" for "Duplicate of", "Resolved" for "Resolved by") [4.4]. So a label the mapping
does not know reads as `other` instead of failing a listing, and a filter on a type asks for
every label that reads as it (`TypeLabels`), so a filter and a listing agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connector.codec import CodecSource
from connector.entities import RecordKind, Relation, WorkNote
from connector.enums import NoteType, RelationType
from connector.errors import ConfigurationError
from connector.filters import And, Comparison, Filter, In, Not, Op, Or, any_of, bind
from mappings.loader import ParentForm, PlatformMapping, RelationSource

OTHER = "other"  # NoteType.OTHER, RelationType.OTHER: a label the mapping does not know


class TypeLabels:
    """The labels of one type selection (work log type, association type) by the SMPM value
    each reads as, read aliases included."""

    def __init__(self, mapping: PlatformMapping, table: str) -> None:
        self.source = mapping.source
        self.table = table
        self.reverse = mapping.reverse(table)  # label -> SMPM value

    def read(self, label: Any) -> str:
        """The SMPM value of a stored label: `other` for one the mapping does not know."""
        return self.reverse.get(str(label), OTHER)

    def condition(self, field: str, values: tuple[Any, ...]) -> Filter:
        """`field` holds a label that reads as one of `values` (other: no label the mapping
        knows), in platform names and labels."""
        wanted = {str(getattr(v, "value", v)) for v in values}
        named = tuple(label for label, value in self.reverse.items() if value in wanted)
        parts: list[Filter] = [In(field, named)] if named else []
        if OTHER in wanted:
            parts.append(Not(In(field, tuple(self.reverse))))
        if not parts:
            raise ConfigurationError(
                f"{self.source}: enums.{self.table}: no label for {', '.join(sorted(wanted))}"
            )
        return any_of(*parts)


def translate_types(
    where: Filter,
    types: Mapping[str, TypeLabels],
    name: Callable[[str], str],
    value: Callable[[str, Any], Any],
) -> Filter:
    """`where` in platform names and values, with each (in)equality on a typed field asking for
    every label of the type, so the filter selects exactly the rows that read as it."""
    if isinstance(where, And):
        return And(tuple(translate_types(p, types, name, value) for p in where.parts))
    if isinstance(where, Or):
        return Or(tuple(translate_types(p, types, name, value) for p in where.parts))
    if isinstance(where, Not):
        return Not(translate_types(where.part, types, name, value))
    labels = types.get(getattr(where, "field", ""))
    if labels is not None and isinstance(where, Comparison) and where.op in (Op.EQ, Op.NE):
        found = labels.condition(name(where.field), (where.value,))
        return found if where.op is Op.EQ else Not(found)
    if labels is not None and isinstance(where, In):
        return labels.condition(name(where.field), where.values)
    return where.translate(name, value)


class NoteLayout:
    """Work notes of one parent kind: their form, its parent field and any renamed fields."""

    def __init__(self, connector: CodecSource, parent_kind: RecordKind) -> None:
        self.codec = connector.codec(RecordKind.WORK_NOTE)
        self.kind = parent_kind
        parents = self.codec.spec.parents
        if parent_kind.value not in parents:
            raise ConfigurationError(
                f"{connector.mapping.source}: kinds.work_note.parents.{parent_kind.value}: "
                "no work log form is mapped for this kind"
            )
        self.parent: ParentForm = parents[parent_kind.value]
        self.names = {
            **self.codec.spec.fields,
            **self.parent.fields,
            "parent_id": self.parent.parent_field,
        }
        table = self.codec.spec.enums.get("note_type")
        self.types = {} if table is None else {"note_type": TypeLabels(connector.mapping, table)}

    def name(self, smpm: str) -> str:
        if smpm not in self.names:
            raise ConfigurationError(f"work notes on {self.parent.form} have no mapped {smpm!r}")
        return self.names[smpm]

    def read_fields(self) -> list[str]:
        return list(dict.fromkeys(self.names.values()))

    def translate(self, where: Filter) -> Filter:
        return translate_types(where, self.types, self.name, self._value)

    def _value(self, smpm: str, value: Any) -> Any:
        return self.codec.encode_value(smpm, value) if smpm in self.codec.spec.enums else value

    def encode(self, note: WorkNote) -> dict[str, Any]:
        writable = {"summary", "text", "note_type", "public", "author", "correlation_id"}
        changes = {k: v for k, v in note.model_dump(exclude_none=True).items() if k in writable}
        out = {
            self.name(k): self.codec.encode_value(k, v)
            for k, v in changes.items()
            if k in self.names
        }
        out[self.parent.parent_field] = note.parent_id
        return out

    def decode(self, values: Mapping[str, Any]) -> WorkNote:
        as_default = {
            self.codec.spec.fields[k]: values.get(p)
            for k, p in self.names.items()
            if k in self.codec.spec.fields
        }
        extra: dict[str, Any] = {}
        type_field = self.codec.spec.fields.get("note_type")
        if type_field and self._unknown_type(as_default.get(type_field)):
            as_default[type_field] = None
            extra["note_type"] = NoteType.OTHER
        return self.codec.decode(  # type: ignore[return-value]
            as_default,
            f"{self.parent.form} entry",
            parent_kind=self.kind,
            parent_id=str(values.get(self.parent.parent_field)),
            **extra,
        )

    def _unknown_type(self, label: Any) -> bool:
        """A Work Log Type the mapping does not know (a site's own, a newer version's)."""
        known = self.types.get("note_type")
        return known is not None and label not in (None, "") and known.read(label) == OTHER


class RelationLayout:
    """Relations stored on one source kind's association form."""

    def __init__(self, connector: CodecSource, source_kind: RecordKind) -> None:
        self.mapping = connector.mapping
        sources = connector.codec(RecordKind.RELATION).spec.sources
        if source_kind.value not in sources:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.relation.sources.{source_kind.value}: "
                "no association form is mapped for this kind"
            )
        self.kind = source_kind
        self.source: RelationSource = sources[source_kind.value]
        self.names = {
            "source_id": self.source.source_field,
            "target_id": self.source.target_field,
            "relation_type": self.source.type_field,
        }
        self.kind_by_form = {k.base_form: n for n, k in self.mapping.kinds.items() if k.base_form}
        if self.source.target_form_field:  # the target's form says its kind
            self.names["target_kind"] = self.source.target_form_field
        self.types = {"relation_type": TypeLabels(self.mapping, self.source.type_enum)}

    def name(self, smpm: str) -> str:
        if smpm not in self.names:
            raise ConfigurationError(f"relations on {self.source.form} have no field {smpm!r}")
        return self.names[smpm]

    def read_fields(self) -> list[str]:
        extra = [f for f in (self.source.target_form_field,) if f]
        return [*self.names.values(), *extra]

    def translate(self, where: Filter) -> Filter:
        return translate_types(where, self.types, self.name, self._value)

    def _value(self, smpm: str, value: Any) -> Any:
        if smpm == "relation_type":
            return self.mapping.to_platform(
                self.source.type_enum, str(getattr(value, "value", value))
            )
        if smpm == "target_kind":
            kind = str(getattr(value, "value", value))
            spec = self.mapping.kind(kind)
            if spec is None or not spec.base_form:
                raise ConfigurationError(
                    f"{self.mapping.source}: kinds.{kind}.base_form: not mapped"
                )
            return spec.base_form
        return value

    def bound(self, where: Filter | None) -> Filter | bool:
        """`where` with its target-kind conditions decided where the form keeps no target form
        (every link of such a form points at the source's own kind): False, nothing to ask."""
        if where is None:
            return True
        if self.source.target_form_field:
            return where
        return bind(where, "target_kind", self.kind.value)

    def encode(self, relation: Relation) -> dict[str, Any]:
        try:
            label = self.mapping.to_platform(self.source.type_enum, relation.relation_type.value)
        except KeyError:
            raise ConfigurationError(
                f"{self.mapping.source}: enums.{self.source.type_enum}: no label for "
                f"{relation.relation_type.value!r}"
            ) from None
        values: dict[str, Any] = {
            self.source.source_field: relation.source_id,
            self.source.target_field: relation.target_id,
            self.source.type_field: label,
        }
        target = self.mapping.kind(relation.target_kind.value)
        if self.source.target_form_field and target and target.base_form:
            values[self.source.target_form_field] = target.base_form
        if self.source.target_type_field and target and target.association_label:
            values[self.source.target_type_field] = target.association_label
        return values

    def decode(self, values: Mapping[str, Any]) -> Relation:
        target_form = (
            values.get(self.source.target_form_field) if self.source.target_form_field else None
        )
        target_kind = self.kind_by_form.get(str(target_form), self.kind.value)
        relation_type = self.types["relation_type"].read(values.get(self.source.type_field))
        return Relation(
            source_kind=self.kind,
            source_id=str(values.get(self.source.source_field)),
            target_kind=RecordKind(target_kind),
            target_id=str(values.get(self.source.target_field)),
            relation_type=RelationType(relation_type),
        )
