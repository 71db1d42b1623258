"""Which SMPM_* variable set a key of the settings, for the errors that must name it.

The environment wins over the file, so when a value from a variable is wrong, pointing at the
file's line for the same key (which may hold a correct value) sends the operator to the wrong
place. pydantic-settings reports a variable that is not JSON only by its top-level field; the
variable and the key it sets are found again here.
"""

from __future__ import annotations

import json
import os
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def walk(data: Any, loc: tuple[Any, ...]) -> tuple[bool, Any]:
    """Whether `data` holds a value at `loc` (or at a prefix of it that is not a table), and
    that value."""
    node = data
    for part in loc:
        if isinstance(node, Mapping):
            if str(part) not in node:
                return False, None
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int):
            if part >= len(node):
                return False, None
            node = node[part]
        else:
            break
    return True, node


def variables(loc: tuple[Any, ...]) -> list[str]:
    """The SMPM_* variables, as spelled in the environment, that set `loc`, a table above it
    (as JSON), or keys below it."""
    want = [str(p).lower() for p in loc]
    paths = {
        name: name[len("SMPM_") :].lower().split("__")
        for name in sorted(os.environ)
        if name.upper().startswith("SMPM_")
    }
    above = [n for n, path in paths.items() if path == want[: len(path)]]
    if above:  # the deepest one is the value that failed
        return [max(above, key=lambda n: len(paths[n]))]
    return [n for n, path in paths.items() if want == path[: len(want)]]


def unparsable_variable(message: str, model: type[BaseModel]) -> str:
    """pydantic-settings' 'error parsing value for field "x" from source ...', made useful: it
    names only the top-level field, so the variable is found again here, among those below the
    field, as the one that should hold JSON (a table or list) and does not."""
    match = re.search(r'field "([^"]+)"', message)
    field = match.group(1) if match else "?"
    names = variables((field,)) or [f"SMPM_{field.upper()}"]
    bad = [n for n in names if _holds_bad_json(n, model)]
    if bad:
        names = bad[:1]
    key = ".".join(names[0][len("SMPM_") :].lower().split("__")) if len(names) == 1 else field
    return (
        f"environment variable {', '.join(names)}: {key}: not valid JSON; a table or list "
        "given in one variable is written as JSON"
    )


def _holds_bad_json(name: str, model: type[BaseModel]) -> bool:
    """Whether variable `name` sets a table or list of the settings and is not JSON."""
    path = name[len("SMPM_") :].lower().split("__")
    if not _is_complex(_annotation_at(model, path)):
        return False
    try:
        json.loads(os.environ.get(name, ""))
    except ValueError:
        return True
    return False


def _annotation_at(settings: type[BaseModel], path: list[str]) -> Any:
    """The type the settings give the key at `path`, or None when no model field is there
    (a key inside a free-form table, such as [mapping])."""
    model: Any = settings
    annotation: Any = None
    for part in path:
        fields = getattr(model, "model_fields", None)
        if not isinstance(fields, Mapping) or part not in fields:
            return None
        annotation = fields[part].annotation
        model = next((t for t in _members(annotation) if isinstance(t, type)), None)
    return annotation


def _members(annotation: Any) -> tuple[Any, ...]:
    """`X | None` -> (X, NoneType); anything else -> (annotation,)."""
    args = typing.get_args(annotation)
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return args if union else (annotation,)


def _is_complex(annotation: Any) -> bool:
    """A table or list: what pydantic-settings reads from one variable as JSON."""
    for member in _members(annotation):
        origin = typing.get_origin(member) or member
        if origin in (list, dict, set, tuple) or (
            isinstance(origin, type) and issubclass(origin, BaseModel)
        ):
            return True
    return False
