"""Every form, field and label the Remedy mapping names exists in the sandbox.

The mapping is read here as plain TOML data (the sandbox itself never imports it), and checked
through the sandbox's own `/fields` endpoint, so a renamed field fails here before it fails a demo.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.support import AR

MAPPING = tomllib.loads(
    (Path(__file__).resolve().parents[2] / "mappings" / "remedy.toml").read_text(encoding="utf-8")
)
KINDS: dict[str, Any] = MAPPING["kinds"]
NOT_SENT_ON_CREATE = {"id", "platform_id", "created_at", "modified_at", "instance_id"}


def form_fields(ar: AR, form: str) -> dict[str, dict[str, Any]]:
    answer = ar.http.get(f"{ar.base_url}/api/arsys/v1/fields/{form}", timeout=10)
    assert answer.status_code == 200, f"{form}: {answer.text}"
    return {f["name"]: f for f in answer.json()}


def read_cases() -> list[Any]:
    cases = [
        pytest.param(spec["form"], spec.get("fields", {}), spec.get("enums", {}), id=kind)
        for kind, spec in KINDS.items()
        if "form" in spec
    ]
    for kind, parent in KINDS["work_note"]["parents"].items():
        names = {**KINDS["work_note"]["fields"], "parent_id": parent["parent_field"]}
        cases.append(
            pytest.param(parent["form"], names, KINDS["work_note"]["enums"], id=f"work_note-{kind}")
        )
    for kind, source in KINDS["relation"]["sources"].items():
        names = {k: v for k, v in source.items() if k.endswith("_field")}
        # Association rows: their type is a selection of the labels ITSM writes on both sides.
        types = {"type_field": source["type_enum"]} if "target_type_field" in source else {}
        cases.append(pytest.param(source["form"], names, types, id=f"relation-{kind}"))
    return cases


def mapped_labels(table: str) -> set[str]:
    """Every label the mapping writes or reads for a table: its own, and its read aliases."""
    entries = MAPPING["enums"][table]
    labels = {v for v in entries.values() if isinstance(v, str)}
    return labels | set(entries.get("read_aliases", {}))


@pytest.mark.parametrize(("form", "fields", "enums"), read_cases())
def test_mapped_fields_exist(
    ar: AR, form: str, fields: dict[str, str], enums: dict[str, str]
) -> None:
    """The read form has every mapped field, and its selections take every label the mapping
    writes or reads (the stock work log and association types among them)."""
    known = form_fields(ar, form)
    assert {name: field for name, field in fields.items() if field not in known} == {}
    for name, table in enums.items():
        labels = mapped_labels(table)
        offered = set(known[fields[name]].get("selection_values", []))
        assert labels <= offered, (name, labels - offered)


@pytest.mark.parametrize("kind", [k for k, spec in KINDS.items() if "create_form" in spec])
def test_mapped_create_fields_exist(ar: AR, kind: str) -> None:
    """The create form takes every field the connector may send when creating."""
    spec = KINDS[kind]
    names = {**spec["fields"], **spec.get("create_fields", {})}
    sent = {field for key, field in names.items() if key not in NOT_SENT_ON_CREATE}
    sent |= set(spec.get("create_values", {})) | set(spec.get("create_returns", []))
    known = form_fields(ar, spec["create_form"])
    assert sorted(sent - set(known)) == []
