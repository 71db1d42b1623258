"""Load a platform mapping, apply the user's overrides, and reject anything that would break later.

A mapping is data: which form or table holds each SMPM entity kind, which platform field holds each
SMPM field, and which platform label stands for each SMPM enum value. It is checked once, at start:
unknown keys, fields that no entity has, labels for enum values that do not exist, an enum value
without a label, two values sharing one label. Every error names the file, the key and the problem.

This module imports nothing else of ours; the caller passes the entity schema to check against
(`Schema`), so the mapping room stays independent of the connector room.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

PLATFORMS = ("remedy", "servicenow")


class MappingError(ValueError):
    """A mapping file is invalid; the message names the file, key and problem.

    `override` is the key of the user's overrides that caused it (None: the built-in file's
    own mistake), so the settings can point at its line; it may differ from `key`, where the
    problem shows (an override that points a field at another field's enum table shows in that
    table)."""

    def __init__(
        self, source: str, key: str, problem: str, override: tuple[str, ...] | None = None
    ) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem
        self.override = override


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParentForm(_Strict):
    """Where the work notes of one parent kind live."""

    form: str
    parent_field: str
    fields: dict[str, str] = Field(default_factory=dict)


class RelationSource(_Strict):
    """How relations from one source kind (or to one target kind of it) are stored.

    Without `type_field` a link has one type, read back as the type_enum's one own label, and
    `target_kind` names the kind it points to, since no field names the target's form. Such a
    link is a reference on the source record itself when `form` is the source's own table
    (ServiceNow's `incident.problem_id`), else a row of a table that only links (`task_ci`).
    """

    form: str
    source_field: str
    target_field: str
    type_field: str | None = None
    type_enum: str
    target_form_field: str | None = None
    target_type_field: str | None = None
    target_kind: str | None = None


class KindMapping(_Strict):
    form: str | None = None
    create_form: str | None = None
    create_values: dict[str, str | int] = Field(default_factory=dict)
    create_returns: list[str] = Field(default_factory=list)
    base_form: str | None = None
    association_label: str | None = None
    order_by: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    create_fields: dict[str, str] = Field(default_factory=dict)
    references: dict[str, str] = Field(default_factory=dict)
    where: dict[str, str] = Field(default_factory=dict)
    """Equalities every record of this kind meets on a shared table (ServiceNow known errors are
    problems with known_error=true): added to every read and written on create."""
    enums: dict[str, str] = Field(default_factory=dict)
    parents: dict[str, ParentForm] = Field(default_factory=dict)
    sources: dict[str, RelationSource] = Field(default_factory=dict)

    def field(self, name: str) -> str | None:
        return self.fields.get(name)

    def create_field(self, name: str) -> str | None:
        return self.create_fields.get(name) or self.fields.get(name)


class PlatformMapping(_Strict):
    platform: Literal["remedy", "servicenow"]
    kinds: dict[str, KindMapping]
    enums: dict[str, dict[str, Any]]
    source: str = "(built in)"
    _reversed: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)

    def kind(self, name: str) -> KindMapping | None:
        return self.kinds.get(name)

    def to_platform(self, table: str, smpm_value: str) -> str:
        """The platform label for an SMPM value (KeyError if the table lacks it).

        `write_aliases` serve SMPM values the platform has no label of their own for (ServiceNow
        has no "assigned" state): they are written with another value's label, and read back as
        that other value.
        """
        entries = self.enums[table]
        if smpm_value in entries and smpm_value not in ALIAS_TABLES:
            return str(entries[smpm_value])
        return str(entries.get("write_aliases", {})[smpm_value])

    def from_platform(self, table: str, label: str) -> str | None:
        """The SMPM value a platform label stands for, or None for a label we do not know."""
        return self.reverse(table).get(str(label))

    def reverse(self, table: str) -> dict[str, str]:
        """Platform label -> SMPM value for one table (built once, then reused)."""
        if table not in self._reversed:
            self._reversed[table] = _reverse(self.enums[table])
        return self._reversed[table]


ALIAS_TABLES = frozenset({"read_aliases", "write_aliases"})


def _reverse(table: Mapping[str, Any]) -> dict[str, str]:
    out = {str(label): value for value, label in table.items() if value not in ALIAS_TABLES}
    out.update({str(k): str(v) for k, v in table.get("read_aliases", {}).items()})
    return out


@dataclass(frozen=True)
class FieldSpec:
    """What the entity side says about one field: its enum members, or that it is a bool."""

    members: frozenset[str] | None = None
    is_bool: bool = False


Schema = Mapping[str, Mapping[str, FieldSpec]]
"""kind -> field -> FieldSpec; built by the connector from its entity models."""

_Fail = Callable[..., NoReturn]
"""fail(loc, problem, *causes): `loc` is where the problem shows; `causes` are the keys that
may have brought it about elsewhere (the field whose enum table it is)."""


def builtin_path(platform: str) -> Path:
    return Path(str(resources.files("mappings").joinpath(f"{platform}.toml")))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise MappingError(str(path), "(file)", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(str(path), "(syntax)", str(exc)) from None


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge: tables merge key by key, any other value replaces the base value."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_mapping(
    platform: str,
    schema: Schema,
    overrides: Mapping[str, Any] | None = None,
    overrides_source: str = "config [mapping]",
) -> PlatformMapping:
    """The built-in mapping for `platform`, with `overrides` merged in, fully validated."""
    if platform not in PLATFORMS:
        raise MappingError("(settings)", "platform", f"unknown platform {platform!r}")
    path = builtin_path(platform)
    data = read_toml(path)
    blame = _Blame(str(path), overrides_source, overrides or {})
    if overrides:
        data = merge(data, overrides)
    data["source"] = str(path) + (f" + {overrides_source}" if overrides else "")
    mapping = _validated(data, blame)
    if mapping.platform != platform:
        blame.fail(("platform",), "names another platform")
    _check(mapping, schema, blame)
    return mapping


def _validated(data: dict[str, Any], blame: _Blame) -> PlatformMapping:
    try:
        return PlatformMapping.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
    blame.fail(tuple(map(str, err["loc"])), err["msg"])  # outside `except`: no chained error


@dataclass(frozen=True)
class _Blame:
    """Names the file that set a key: the override when it touches the key (or a key that
    caused the problem), else the built-in.

    The built-in files are valid on their own (tests/connector checks them), so with overrides
    present a problem nothing in them touches is still theirs: it names the `[mapping]` table
    rather than send the user to a file they did not write."""

    builtin: str
    override_source: str
    override: Mapping[str, Any]

    def fail(self, loc: tuple[str, ...], problem: str, *causes: tuple[str, ...]) -> NoReturn:
        culprit = next((c for c in (loc, *causes) if self._touches(c)), None)
        if culprit is None and self.override:
            culprit = ()
        source = self.builtin if culprit is None else self.override_source
        raise MappingError(source, ".".join(loc), problem, culprit)

    def _touches(self, loc: tuple[str, ...]) -> bool:
        node: Any = self.override
        for part in loc:
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True


def _check(mapping: PlatformMapping, schema: Schema, blame: _Blame) -> None:
    fail = blame.fail
    for name in mapping.enums:
        _check_enum_table(mapping.enums[name], ("enums", name), fail)
    for kind_name, kind in mapping.kinds.items():
        if kind_name not in schema:
            fail(("kinds", kind_name), f"unknown entity kind; known: {', '.join(sorted(schema))}")
        _check_kind(mapping, kind_name, kind, schema[kind_name], frozenset(schema), fail)


def _check_kind(
    mapping: PlatformMapping,
    kind_name: str,
    kind: KindMapping,
    fields: Mapping[str, FieldSpec],
    schema_kinds: frozenset[str],
    fail: _Fail,
) -> None:
    base = ("kinds", kind_name)
    _check_field_names(kind, fields, base, fail)
    _check_kind_enums(mapping, kind, fields, base, fail)
    for source, rel in kind.sources.items():
        # "incident" holds the links from incidents; "incident.ci" those to one target kind,
        # where the platform keeps them apart (ServiceNow: problem_id, and task_ci rows).
        source_kind, _, target = source.partition(".")
        if source_kind not in schema_kinds or (target and target not in schema_kinds):
            fail((*base, "sources", source), "unknown entity kind")
        if target and rel.target_kind != target:
            fail((*base, "sources", source, "target_kind"), f"must be {target!r}, as the key says")
        if rel.target_kind is not None and rel.target_kind not in schema_kinds:
            fail((*base, "sources", source, "target_kind"), "unknown entity kind")
        if rel.type_enum not in mapping.enums:
            fail((*base, "sources", source, "type_enum"), f"{rel.type_enum!r} is not under [enums]")
        spec = fields.get("relation_type")
        allowed = spec.members if spec and spec.members else frozenset()
        for value in mapping.enums[rel.type_enum]:
            if value not in ALIAS_TABLES and value not in allowed:
                cause = (*base, "sources", source)
                fail(("enums", rel.type_enum, value), f"not one of {sorted(allowed)}", cause)
    for parent in kind.parents:
        if parent not in schema_kinds:
            fail((*base, "parents", parent), "unknown entity kind")


def _check_field_names(
    kind: KindMapping, fields: Mapping[str, FieldSpec], base: tuple[str, ...], fail: _Fail
) -> None:
    named = [
        (section, name)
        for section in ("fields", "create_fields", "references")
        for name in getattr(kind, section)
    ]
    named += [(f"parents.{p}.fields", n) for p, pf in kind.parents.items() for n in pf.fields]
    for section, name in named:
        if name not in fields:
            fail((*base, *section.split("."), name), f"entity {base[1]!r} has no field {name!r}")


def _check_kind_enums(
    mapping: PlatformMapping,
    kind: KindMapping,
    fields: Mapping[str, FieldSpec],
    base: tuple[str, ...],
    fail: _Fail,
) -> None:
    for field_name, table in kind.enums.items():
        loc = (*base, "enums", field_name)
        if field_name not in fields:
            fail(loc, f"entity {base[1]!r} has no field {field_name!r}")
        if table not in mapping.enums:
            fail(loc, f"enum table {table!r} is not defined under [enums]")
        # The table may be right for the fields it was made for: the cause is then this line.
        _check_enum_covers(mapping.enums[table], fields[field_name], ("enums", table), fail, loc)
    for field_name, spec in fields.items():
        needs_table = spec.members is not None or spec.is_bool
        if needs_table and field_name in kind.fields and field_name not in kind.enums:
            mapped = (*base, "fields", field_name)
            fail((*base, "enums", field_name), "field is mapped but has no enum table", mapped)


def _check_enum_table(table: Mapping[str, Any], loc: tuple[str, ...], fail: _Fail) -> None:
    seen: dict[str, str] = {}
    for value, label in table.items():
        if value in ALIAS_TABLES:
            if not isinstance(label, Mapping):
                fail((*loc, value), "must be a table of aliases")
            continue
        if not isinstance(label, str | int) or isinstance(label, bool) or str(label) == "":
            fail((*loc, value), "label must be a non-empty string or integer")
        if str(label) in seen:
            fail((*loc, value), f"label {label!r} is also used by {seen[str(label)]!r}")
        seen[str(label)] = value
    for alias, value in table.get("read_aliases", {}).items():
        if value not in table:
            fail((*loc, "read_aliases", alias), f"{value!r} is not a value of this table")
    for value, label in table.get("write_aliases", {}).items():
        if value in table:
            fail((*loc, "write_aliases", value), "already has a label of its own")
        if str(label) not in seen:
            fail((*loc, "write_aliases", value), f"{label!r} is not a label of this table")


def _check_enum_covers(
    table: Mapping[str, Any],
    spec: FieldSpec,
    loc: tuple[str, ...],
    fail: _Fail,
    cause: tuple[str, ...],
) -> None:
    expected = {"true", "false"} if spec.is_bool else set(spec.members or ())
    present = {k for k in table if k not in ALIAS_TABLES} | set(table.get("write_aliases", {}))
    for extra in sorted(present - expected):
        problem = f"not a value of this field; expected one of {sorted(expected)}"
        fail((*loc, extra), problem, cause)
    missing = sorted(expected - present)
    if missing:
        fail(loc, f"no label for {', '.join(missing)}", cause)
