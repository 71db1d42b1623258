"""Where Remedy keeps work notes and relations: one form per parent or source kind.

Work logs live on `HPD:WorkLog`, `PBM:Investigation WorkLog`, ... keyed by the parent's number;
relations are association rows on `HPD:Associations`, `PBM:Investigation Associations`, ...
naming the related record and its form [reference 4.4, 4.7]. A layout turns SMPM work notes and
relations into those rows and back, using the mapping's `parents` and `sources` tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connector.entities import RecordKind, Relation, WorkNote
from connector.errors import ConfigurationError, InvalidResponse
from connector.filters import Filter, bind
from mappings.loader import ParentForm, RelationSource

if TYPE_CHECKING:
    from connector.remedy import RemedyConnector


class NoteLayout:
    """Work notes of one parent kind: their form, its parent field and any renamed fields."""

    def __init__(self, connector: RemedyConnector, parent_kind: RecordKind) -> None:
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

    def name(self, smpm: str) -> str:
        if smpm not in self.names:
            raise ConfigurationError(f"work notes on {self.parent.form} have no mapped {smpm!r}")
        return self.names[smpm]

    def read_fields(self) -> list[str]:
        return list(dict.fromkeys(self.names.values()))

    def translate(self, where: Filter) -> Filter:
        return where.translate(self.name, self._value)

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
        return self.codec.decode(  # type: ignore[return-value]
            as_default,
            f"{self.parent.form} entry",
            parent_kind=self.kind,
            parent_id=str(values.get(self.parent.parent_field)),
        )


class RelationLayout:
    """Relations stored on one source kind's association form."""

    def __init__(self, connector: RemedyConnector, source_kind: RecordKind) -> None:
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

    def name(self, smpm: str) -> str:
        if smpm not in self.names:
            raise ConfigurationError(f"relations on {self.source.form} have no field {smpm!r}")
        return self.names[smpm]

    def read_fields(self) -> list[str]:
        extra = [f for f in (self.source.target_form_field,) if f]
        return [*self.names.values(), *extra]

    def translate(self, where: Filter) -> Filter:
        return where.translate(self.name, self._value)

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
        label = values.get(self.source.type_field)
        relation_type = self.mapping.from_platform(self.source.type_enum, str(label))
        if relation_type is None:
            raise InvalidResponse(f"{self.source.form}: unknown association type {label!r}")
        return Relation(
            source_kind=self.kind,
            source_id=str(values.get(self.source.source_field)),
            target_kind=RecordKind(target_kind),
            target_id=str(values.get(self.source.target_field)),
            relation_type=relation_type,  # type: ignore[arg-type]
        )
