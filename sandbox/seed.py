"""The seed file: a platform-neutral description of an organisation in SMPM terms.

A seed names companies, people, support groups, business services, CIs with their dependencies,
SLAs with service targets, and open tickets, using SMPM's own vocabulary (`impact = "significant"`,
`status = "in_progress"`) rather than any ITSM's labels, so one file can seed every face of the
sandbox. Times are relative to the moment the seed is loaded (`"-3h30m"`, `"now"`, `"+2d"`).
The format is documented, with an example, in README.md, and its entries are the models of
`seed_format`; `demo_seed.toml` is the demo organisation. `load_seed` validates a file (the
entries, then their cross-references, `seed_refs`) and raises `SeedError` naming the key at fault.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sandbox.seed_format import Seed
from sandbox.seed_refs import unknown_references

DEMO_SEED = Path(__file__).with_name("demo_seed.toml")


class SeedError(ValueError):
    """A seed file that cannot be used; the message names the file and the key."""


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_seed(data: dict[str, Any], source: str = "seed") -> Seed:
    """Validate parsed TOML; SeedError names the first bad key, e.g. `incidents[2].impact`."""
    try:
        seed = Seed.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SeedError(f"{source}: {_where(err['loc'])}: {err['msg']}") from None
    problems = unknown_references(seed)
    if problems:
        raise SeedError(f"{source}: {problems[0]}")
    return seed


def load_seed(path: Path | str) -> Seed:
    """Read and validate a seed file ("demo" names the packaged demo organisation)."""
    file = DEMO_SEED if str(path) == "demo" else Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedError(f"{file}: no such seed file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{file}: not valid TOML: {exc}") from None
    return parse_seed(data, str(file))
