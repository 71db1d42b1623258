"""What a form is: a name, its fields, the field that identifies an entry, and where rows live.

Three kinds, as on an ITSM server [reference 4.1]:
- REGULAR forms own a table (`HPD:Help Desk`, `CTM:People`, ...).
- JOIN forms read and write a base form's rows under another name (`HPD:IncidentInterface` over
  `HPD:Help Desk`), adding a computed `Request ID` of the form `ID|ID` [2.8, 4.3].
- CREATE forms (`HPD:IncidentInterface_Create`) keep the submitted entry; their workflow files the
  ticket on the base form [2.5, 4.2].
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from sandbox.fields import FieldDef, FieldType

FIRST_CUSTOM_ID = 536870913  # AR numbers fields a form designer adds from here.


class FormKind(StrEnum):
    REGULAR = "regular"
    JOIN = "join"
    CREATE = "create"


@dataclass(frozen=True)
class Form:
    name: str
    table: str
    fields: tuple[FieldDef, ...]
    key: str
    kind: FormKind = FormKind.REGULAR
    base: str | None = None
    link_key: str | None = None
    scope: tuple[str, str] | None = None
    indexes: tuple[str, ...] = ()
    key_prefix: str = ""  # new entry ids: prefix + zero-padded counter, 15 characters in all
    internal_columns: tuple[tuple[str, str], ...] = ()
    by_name: dict[str, FieldDef] = field(init=False, repr=False, compare=False)
    by_id: dict[int, FieldDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        by_id = {f.id: f for f in self.fields if f.id is not None}
        if len(by_name) != len(self.fields) or len(by_id) != len(self.fields):
            raise ValueError(f"{self.name}: duplicate field names or ids")
        if self.key not in by_name:
            raise ValueError(f"{self.name}: key field {self.key!r} is not a field")
        object.__setattr__(self, "by_name", by_name)
        object.__setattr__(self, "by_id", by_id)

    def field(self, ref: str) -> FieldDef | None:
        """A field by name, or by id when `ref` is all digits (`'1000000161'`) [reference 3]."""
        found = self.by_name.get(ref)
        if found is None and ref.isdigit():
            found = self.by_id.get(int(ref))
        return found

    @property
    def key_field(self) -> FieldDef:
        return self.by_name[self.key]

    @property
    def link_field(self) -> FieldDef:
        return self.by_name[self.link_key or self.key]

    @property
    def is_join(self) -> bool:
        return self.kind is FormKind.JOIN


def _numbered(fields: tuple[FieldDef, ...], start: int) -> tuple[FieldDef, ...]:
    """Give every field without an id the next free custom id, and a column named after it."""
    used = {f.id for f in fields if f.id is not None}
    next_id, out = start, []
    for f in fields:
        fid = f.id
        if fid is None:
            while next_id in used:
                next_id += 1
            fid = next_id
            used.add(fid)
        out.append(replace(f, id=fid, column=f.column or (None if f.expr else f"f{fid}")))
    return tuple(out)


def regular(name: str, table: str, fields: tuple[FieldDef, ...], key: str, **kw: object) -> Form:
    return Form(name, table, _numbered(fields, FIRST_CUSTOM_ID), key, **kw)  # type: ignore[arg-type]


def create_form(name: str, table: str, fields: tuple[FieldDef, ...]) -> Form:
    """An interface create form: `Request ID` (15 digits) plus the fields it accepts."""
    core = (
        FieldDef("Request ID", FieldType.CHAR, 1, readonly=True),
        FieldDef("Submitter", FieldType.CHAR, 2, readonly=True),
        FieldDef("Create Date", FieldType.DATETIME, 3, readonly=True),
        FieldDef("Last Modified By", FieldType.CHAR, 5, readonly=True),
        FieldDef("Modified Date", FieldType.DATETIME, 6, readonly=True),
    )
    return regular(name, table, core + fields, "Request ID", kind=FormKind.CREATE)


def join(
    base: Form,
    name: str,
    *,
    extra: tuple[FieldDef, ...] = (),
    request_id: bool = True,
    link_key: str | None = None,
    scope: tuple[str, str] | None = None,
) -> Form:
    """A join over `base`'s rows; with `request_id` it adds field 1 `Request ID` = `<key>|<key>`."""
    fields = list(base.fields)
    key = base.key
    if request_id:
        column = base.key_field.sql
        fields = [
            f if f.id != 1 else replace(f, id=base.key_field.id + 1_000_000_000) for f in fields
        ]
        computed = FieldDef(
            "Request ID", FieldType.CHAR, 1, expr=f"({column} || '|' || {column})", readonly=True
        )
        fields.insert(0, computed)
        key = "Request ID"
    start = max(FIRST_CUSTOM_ID, *(f.id or 0 for f in base.fields)) + 1
    numbered_extra = _numbered(extra, start)
    return Form(
        name,
        base.table,
        tuple(fields) + numbered_extra,
        key,
        kind=FormKind.JOIN,
        base=base.name,
        link_key=link_key,
        scope=scope,
    )
