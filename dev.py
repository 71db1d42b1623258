#!/usr/bin/env python3
"""Set up a local virtual environment and run smpm's demo, tests or linters.

    python3 dev.py demo [smpm demo options]   the demo on the embedded sandbox ITSM
    python3 dev.py test [pytest options]      the whole test suite
    python3 dev.py lint                       ruff check and format check, and the import
                                              contracts of the rooms (lint-imports)
    python3 dev.py bench [name]               the benchmarks in bench/

Needs only Python 3.11+. Creates .venv next to this file and installs smpm with its test
dependencies into it; reinstalls only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".smpm-install-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
NO_TESTS_COLLECTED = 5
LINT_IMPORTS = "lint-imports.exe" if os.name == "nt" else "lint-imports"  # import-linter's CLI


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        sys.exit(f"smpm needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing smpm and its dependencies into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def run(args: list[str]) -> int:
    return subprocess.run(args, cwd=ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "lint", "bench"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "demo":
        return run([str(PYTHON), "-m", "smpm", "demo", *rest])
    if command == "test":
        code = run([str(PYTHON), "-m", "pytest", *rest])
        if code == NO_TESTS_COLLECTED:
            print("pytest collected no tests: that is a failure here.", file=sys.stderr)
            return 1
        return code
    if command == "lint":
        return (
            run([str(PYTHON), "-m", "ruff", "check", "."])
            or run([str(PYTHON), "-m", "ruff", "format", "--check", "."])
            or run([str(BIN / LINT_IMPORTS), "--no-cache", "--no-logo"])
        )
    return run([str(PYTHON), "-m", "bench", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
