"""The rooms of DESIGN.md hold, drawn afresh from the imports on every test run.

DESIGN.md: "The arrows run one way: `smpm` -> `procedures` -> `connector` -> `mappings`;
`sandbox` stands apart, used only by the demo, the `smpm sandbox` command, tests and
benchmarks." The contracts are import-linter's, in pyproject.toml (`[tool.importlinter]`, also
run by `python3 dev.py lint`); a broken one fails here naming the offending import and its line.
And no module imports in a circle: what two modules both need stands below them both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("connector", "mappings", "procedures", "sandbox", "smpm")
OURS = ["connector", "mappings", "procedures", "smpm"]  # all but the sandbox
CONTRACTS = ("procedures-without-runtime", "rooms", "sandbox-alone", "sandbox-users")
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the configuration in `cwd`/pyproject.toml (no cache left behind)."""
    env = None if pythonpath is None else {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def broken(result: subprocess.CompletedProcess[str]) -> str:
    """What lint-imports says of the broken contracts: each with its offending imports."""
    text = result.stdout + result.stderr
    start = text.find("Broken contracts")
    return text[start:] if start >= 0 else text


def test_the_rooms_keep_their_contracts() -> None:
    """The room rules hold: one-way arrows between the rooms, the sandbox tied to nothing but
    the demo and the sandbox command."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, broken(result)
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_the_configuration_holds_every_rule_of_design() -> None:
    """Each rule of DESIGN.md's rooms is a contract in pyproject.toml, over all our packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    assert sorted(linter["root_packages"]) == sorted(PACKAGES)
    contracts = {c["id"]: c for c in linter["contracts"]}
    assert sorted(contracts) == list(CONTRACTS)
    assert contracts["rooms"]["layers"] == ["smpm", "procedures", "connector", "mappings"]
    assert contracts["procedures-without-runtime"]["forbidden_modules"] == ["smpm"]
    assert contracts["sandbox-alone"]["forbidden_modules"] == OURS
    assert contracts["sandbox-users"]["source_modules"] == OURS


def fake_tree(tmp_path: Path, modules: Mapping[str, str]) -> Path:
    """Our five packages, empty but for `modules` (dotted name -> source), with our contracts."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, source in modules.items():
        path = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(source)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start, end = text.index("\n[tool.importlinter]\n"), text.index("\n[tool.pytest.ini_options]")
    (tmp_path / "pyproject.toml").write_text(text[start:end])
    return tmp_path


@pytest.mark.parametrize(
    ("modules", "offence"),
    [
        pytest.param(
            {"connector.codec": "import smpm.store\n", "smpm.store": ""},
            "connector.codec -> smpm.store (l.1)",
            id="connector-imports-the-runtime",
        ),
        pytest.param(
            {"procedures.plan": "\n\nfrom smpm.executor import Executor\n", "smpm.executor": ""},
            "procedures.plan -> smpm.executor (l.3)",
            id="a-procedure-imports-the-runtime",
        ),
        pytest.param(
            {"sandbox.errors": "from connector.errors import NotFound\n", "connector.errors": ""},
            "sandbox.errors -> connector.errors (l.1)",
            id="the-sandbox-imports-a-connector-module",
        ),
        pytest.param(
            {
                "smpm.runner": "def f():\n    from sandbox.server import Sandbox\n",
                "sandbox.server": "",
            },
            "smpm.runner -> sandbox.server (l.2)",
            id="the-runner-imports-the-sandbox",
        ),
        pytest.param(
            {"procedures.plan": "from sandbox import Sandbox\n"},
            "procedures.plan -> sandbox (l.1)",
            id="a-procedure-imports-the-sandbox",
        ),
    ],
)
def test_a_broken_rule_fails_naming_the_import(
    tmp_path: Path, modules: dict[str, str], offence: str
) -> None:
    """A tree that breaks one rule fails the contracts, and the message names the import and
    its line."""
    result = lint_imports(fake_tree(tmp_path, modules), pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert offence in broken(result)


def test_the_allowed_users_of_the_sandbox_keep_the_contracts(tmp_path: Path) -> None:
    """The smpm sandbox command and the demo may import the sandbox, at the top or in a function."""
    tree = fake_tree(
        tmp_path,
        {
            "smpm.commands.sandbox": "def run():\n    from sandbox.server import serve\n",
            "smpm.demo.story": "from sandbox import Sandbox\n",
            "smpm.cli": "import smpm.commands.sandbox\nimport smpm.demo.story\n",
            "sandbox.server": "",
        },
    )
    result = lint_imports(tree, pythonpath=tmp_path)
    assert result.returncode == 0, broken(result)


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            component.append(module)
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def described(graph: grimp.ImportGraph, circle: Iterable[str]) -> str:
    """The imports that tie one circle together, with their lines."""
    members = set(circle)
    lines = [f"a circle of {len(members)} modules:"]
    for importer in sorted(members):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"l.{d['line_number']}" for d in details)
            lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_no_module_imports_in_a_circle() -> None:
    """No import circle anywhere in our packages, counting the imports inside functions and
    under `if TYPE_CHECKING:` too."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert len(graph.modules) > 150  # the whole tree was read
    found = circles(graph)
    assert not found, "\n".join(described(graph, circle) for circle in found)


def test_a_circle_is_found_and_described() -> None:
    """The circle check is not vacuous: two layouts typed against the connector that imports
    them make one circle, and a module beside them none."""
    graph = grimp.ImportGraph()
    for module in ("p.connector", "p.layouts", "p.batch", "p.errors"):
        graph.add_module(module)
    graph.add_import(importer="p.connector", imported="p.batch", line_number=3, line_contents="")
    graph.add_import(importer="p.batch", imported="p.layouts", line_number=4, line_contents="")
    graph.add_import(importer="p.layouts", imported="p.connector", line_number=9, line_contents="")
    graph.add_import(importer="p.batch", imported="p.errors", line_number=5, line_contents="")
    [circle] = circles(graph)
    assert circle == ["p.batch", "p.connector", "p.layouts"]
    assert "p.layouts -> p.connector (l.9)" in described(graph, circle)
