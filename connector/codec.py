"""Translate between SMPM entities and platform records through a mapping.

One `KindCodec` per entity kind: it knows which platform field holds each SMPM field, turns
platform labels into SMPM enum values (and back), formats dates the platform's way, and rewrites
filter expressions into platform names and values. Platform modules add only the wire format.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from connector.entities import ENTITY_TYPES, Entity, RecordKind
from connector.errors import ConfigurationError, InvalidResponse
from connector.filters import Filter, Scalar
from mappings.loader import FieldSpec, KindMapping, MappingError, PlatformMapping, load_mapping

DateFormatter = Callable[[datetime], str]


def _field_type(annotation: Any) -> Any:
    """The non-None type inside `X | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _field_type(inner[0]) if len(inner) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _field_type(typing.get_args(annotation)[0])
    return annotation


def entity_schema() -> dict[str, dict[str, FieldSpec]]:
    """The schema `mappings.loader` checks a mapping against, built from the entity models."""
    schema: dict[str, dict[str, FieldSpec]] = {}
    for kind, model in ENTITY_TYPES.items():
        specs: dict[str, FieldSpec] = {}
        for name, info in model.model_fields.items():
            inner = _field_type(info.annotation)
            if isinstance(inner, type) and issubclass(inner, Enum):
                specs[name] = FieldSpec(members=frozenset(m.value for m in inner))
            elif inner is bool:
                specs[name] = FieldSpec(is_bool=True)
            else:
                specs[name] = FieldSpec()
        schema[kind.value] = specs
    return schema


def load_platform_mapping(
    platform: str, overrides: Mapping[str, Any] | None = None, source: str = "config [mapping]"
) -> PlatformMapping:
    """Load and validate a mapping; errors become ConfigurationError naming file, key, problem."""
    try:
        return load_mapping(platform, entity_schema(), overrides, source)
    except MappingError as exc:
        raise ConfigurationError(str(exc)) from None


class KindCodec:
    """Entity kind <-> platform record for one mapping."""

    def __init__(
        self, mapping: PlatformMapping, kind: RecordKind, format_date: DateFormatter
    ) -> None:
        spec = mapping.kind(kind.value)
        if spec is None:
            raise ConfigurationError(
                f"{mapping.source}: kinds.{kind.value}: the {mapping.platform} mapping has no "
                f"form for {kind.value!r} records"
            )
        self.mapping = mapping
        self.kind = kind
        self.spec: KindMapping = spec
        self.model: type[Entity] = ENTITY_TYPES[kind]
        self.format_date = format_date

    @cached_property
    def _adapters(self) -> dict[str, TypeAdapter[Any]]:
        return {n: TypeAdapter(i.annotation) for n, i in self.model.model_fields.items()}

    @cached_property
    def _types(self) -> dict[str, Any]:
        return {n: _field_type(i.annotation) for n, i in self.model.model_fields.items()}

    def platform_field(self, name: str, *, for_create: bool = False) -> str:
        found = self.spec.create_field(name) if for_create else self.spec.field(name)
        if found is None:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.{self.kind.value}.fields.{name}: not mapped for "
                f"{self.mapping.platform}; add it to the mapping or stop using it"
            )
        return found

    def read_fields(self) -> list[str]:
        """Every platform field to request when reading records of this kind."""
        return list(dict.fromkeys(self.spec.fields.values()))

    # -- platform -> SMPM ---------------------------------------------------------------------
    @cached_property
    def _readers(self) -> list[tuple[str, str, Callable[[Any], Any] | None]]:
        """(SMPM field, platform field, converter or None) for every mapped field, built once."""
        readers = []
        for name, platform_name in self.spec.fields.items():
            table = self.spec.enums.get(name)
            convert: Callable[[Any], Any] | None = None
            if table is not None:
                labels = self.mapping.reverse(table)
                if self._types[name] is bool:
                    labels = {k: v == "true" for k, v in labels.items()}  # type: ignore[misc]
                convert = _Lookup(labels, platform_name, table)
            elif self._types[name] is str:
                convert = _text
            readers.append((name, platform_name, convert))
        return readers

    def decode(self, values: Mapping[str, Any], where: str, **extra: Any) -> Entity:
        """Build the entity from a platform record; `where` names the record in errors."""
        data: dict[str, Any] = dict(extra)
        try:
            for name, platform_name, convert in self._readers:
                raw = values.get(platform_name)
                if raw is None or raw == "":
                    continue
                data[name] = raw if convert is None else convert(raw)
            return self.model.model_validate(data)
        except _UnknownLabel as exc:
            ident = values.get(self.spec.fields.get("id", ""))
            raise InvalidResponse(f"{where}{' ' + str(ident) if ident else ''}: {exc}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            shown = self.spec.fields.get(field, field)
            ident = values.get(self.spec.fields.get("id", ""))
            where = f"{where}{' ' + str(ident) if ident else ''}"
            raise InvalidResponse(f"{where}: field {shown!r}: {err['msg']}") from None

    # -- SMPM -> platform ---------------------------------------------------------------------
    def encode(self, changes: Mapping[str, Any], *, for_create: bool = False) -> dict[str, Any]:
        """Platform field -> value for SMPM field changes; values are validated first."""
        out: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in self._adapters:
                raise ValueError(f"{self.kind.value} records have no field {name!r}")
            try:
                checked = self._adapters[name].validate_python(value)
            except ValidationError as exc:
                raise ValueError(f"{self.kind.value}.{name}: {exc.errors()[0]['msg']}") from None
            out[self.platform_field(name, for_create=for_create)] = self.encode_value(name, checked)
        return out

    def encode_value(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        table = self.spec.enums.get(name)
        if table is not None:
            key = (
                str(value).lower()
                if isinstance(value, bool)
                else str(getattr(value, "value", value))
            )
            return self.mapping.to_platform(table, key)
        if isinstance(value, datetime):
            return self.format_date(value)
        if isinstance(value, Enum):
            return value.value
        return value

    def entity_changes(self, entity: Entity) -> dict[str, Any]:
        """The fields set on a new entity, minus identities the platform assigns."""
        skip = {"id", "platform_id", "created_at", "modified_at"}
        return {
            k: v
            for k, v in entity.model_dump(exclude_none=True).items()
            if k not in skip and k in self.spec.fields
        }

    def translate(self, expr: Filter) -> Filter:
        """The expression with platform field names and platform values."""

        def value(name: str, v: Scalar) -> Scalar:
            if name in self.spec.enums:
                return self.encode_value(name, v)
            return v

        return expr.translate(self.platform_field, value)


class CodecSource(Protocol):
    """What a platform's layouts read of their connector: its mapping and a codec per kind.

    The layouts are typed against this, not against the connector class that builds them, so a
    platform's modules import one way: the connector imports its layouts, never the reverse.
    """

    mapping: PlatformMapping

    def codec(self, kind: RecordKind) -> KindCodec: ...


class _UnknownLabel(ValueError):
    pass


class _Lookup:
    """Platform label -> SMPM value, with an actionable error for a label the mapping lacks."""

    def __init__(self, labels: Mapping[str, Any], field: str, table: str) -> None:
        self.labels = labels
        self.field = field
        self.table = table

    def __call__(self, raw: Any) -> Any:
        try:
            return self.labels[raw if isinstance(raw, str) else str(raw)]
        except KeyError:
            raise _UnknownLabel(
                f"field {self.field!r} holds {raw!r}, a label the mapping does not know; add it "
                f"under [enums.{self.table}] or [enums.{self.table}.read_aliases]"
            ) from None


def _text(raw: Any) -> Any:
    """Numbers arrive in text fields now and then (ids, codes); keep them as text."""
    return str(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else raw
