"""Find the line of a key in a TOML file, so errors can say `smpm.toml:42`.

tomllib gives values, not positions. This scans the text the way TOML nests it: `[a.b]` tables,
`[[a.b]]` arrays of tables (counted per path), and `key = value` lines (dotted and quoted keys).
It answers the deepest line it can place; keys inside inline tables resolve to their parent key.
`read_text` reads a settings file as TOML requires (UTF-8), naming the line of a byte that is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connector.errors import ConfigurationError

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"((?:[^"\\]|\\.)*)"|'([^']*)'""")


def _split(dotted: str) -> list[str]:
    parts = []
    for match in _PART.finditer(dotted):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        parts.append(quoted if quoted is not None else match.group(0))
    return parts


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest prefix of `loc` that the file defines, or None."""
    want = [str(p) for p in loc]
    best_line, best_depth, first_child = None, 0, None
    table: list[str] = []
    counters: dict[tuple[str, ...], int] = {}
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        if in_multiline:
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            path = _with_indexes(_split(header.group(2)), counters)
            if header.group(1) == "[[":
                index = counters.get(tuple(path), -1) + 1
                counters[tuple(path)] = index
                if index == 0 and _common(path, want) == len(path) > best_depth:
                    best_line, best_depth = number, len(path)
                path = [*path, str(index)]
            table = path
            candidate = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            candidate = [*table, *_split(key.group(1))]
        depth = _common(candidate, want)
        if depth == len(candidate) and depth > best_depth:
            best_line, best_depth = number, depth
        if first_child is None and depth == len(want) < len(candidate):
            first_child = number
    if best_depth < len(want) and first_child is not None:
        return first_child
    return best_line


def _with_indexes(path: list[str], counters: dict[tuple[str, ...], int]) -> list[str]:
    """`[a.b.c]` under `[[a.b]]` means a.b.<last index>.c: put the index in."""
    out: list[str] = []
    for position, part in enumerate(path):
        out.append(part)
        if tuple(out) in counters and position < len(path) - 1:
            out.append(str(counters[tuple(out)]))
    return out


def _common(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def read_text(path: Path) -> str:
    """The file as text: UTF-8, as TOML is, with the byte-order mark that Windows editors
    write allowed; a byte that is not UTF-8 is named by line and column."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)
        raise ConfigurationError(
            f"{path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); save "
            "the file as UTF-8"
        ) from None


def file_line(source: str, loc: Sequence[Any]) -> str:
    """`file:line` of the key at `loc` when `source` is a file that places it, else `source`."""
    path = Path(source)
    if not path.is_file():
        return source
    line = locate(read_text(path), [p for p in loc if isinstance(p, str | int)])
    return f"{source}:{line}" if line else source
