"""Does the Remedy server have every form and field the mapping names? (`smpm check`)

One `GET /entry/{form}?limit=1&fields=values(...)` per form asks the server to resolve every
mapped field at once. When it refuses, each field is asked alone, so the report can name exactly
which fields are missing instead of echoing one server message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from connector.errors import ConnectorError, FormNotFound, RetryableError
from connector.remedy.connector import RemedyConnector
from mappings.loader import PlatformMapping


@dataclass
class FormCheck:
    form: str
    purpose: str
    fields: list[str]
    missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing


def forms_in_use(mapping: PlatformMapping) -> dict[str, tuple[str, list[str]]]:
    """form -> (what it is used for, the fields the mapping names on it)."""
    found: dict[str, tuple[str, list[str]]] = {}

    def add(form: str | None, purpose: str, names: list[str]) -> None:
        if not form:
            return
        old_purpose, old_names = found.get(form, (purpose, []))
        found[form] = (old_purpose, list(dict.fromkeys([*old_names, *names])))

    for name, kind in mapping.kinds.items():
        add(kind.form, f"{name} records", list(kind.fields.values()))
        if kind.create_form and kind.create_form != kind.form:
            names = [*kind.create_values, *kind.create_returns, *kind.create_fields.values()]
            add(kind.create_form, f"creating {name} records", names)
        for parent, spec in kind.parents.items():
            names = [spec.parent_field, *{**kind.fields, **spec.fields}.values()]
            add(spec.form, f"work notes on {parent} records", names)
        for source, rel in kind.sources.items():
            names = [rel.source_field, rel.target_field, rel.type_field]
            names += [f for f in (rel.target_form_field, rel.target_type_field) if f]
            add(rel.form, f"relations from {source} records", names)
    return found


def check_forms(connector: RemedyConnector) -> Iterator[FormCheck]:
    """One FormCheck per mapped form; connection and login problems propagate to the caller."""
    for form, (purpose, names) in forms_in_use(connector.mapping).items():
        check = FormCheck(form, purpose, names)
        try:
            _probe(connector, form, names)
        except FormNotFound:
            check.error = "form does not exist on the server"
        except RetryableError:
            raise
        except ConnectorError as exc:
            check.missing = [n for n in names if not _field_exists(connector, form, n)]
            if not check.missing:
                check.error = exc.message
        yield check


def _probe(connector: RemedyConnector, form: str, names: list[str]) -> None:
    for _ in connector.list_entries(form, fields=names, limit=1):
        break


def _field_exists(connector: RemedyConnector, form: str, name: str) -> bool:
    try:
        _probe(connector, form, [name])
    except RetryableError:
        raise
    except ConnectorError:
        return False
    return True
