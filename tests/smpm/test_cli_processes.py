"""`python -m smpm` as an operator runs it: bad settings end in one line on stderr, exit status
1, no traceback, nothing written; the webhook secrets are asked for by `smpm serve` only.

CliRunner (tests/smpm/test_cli.py) runs the commands in the test's process; these run a real
process, with its own environment, logging and exit path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeless


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Place:
    """A folder for one run: the settings file, an empty working folder, the state's folder."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "smpm.toml"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def settings(self, text: bytes) -> None:
        url = f"sqlite:///{self.state / 'smpm.db'}"
        self.config.write_bytes(f'[database]\nurl = "{url}"\n'.encode() + text)

    def smpm(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SMPM_")}
        env |= {"SMPM_REMEDY__URL": "http://127.0.0.1:9", "SMPM_REMEDY__USERNAME": "smpm"}
        env |= {"SMPM_REMEDY__PASSWORD": "pw", **self.env}
        (self.root / "work").mkdir(exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "smpm", "--config", str(self.config), *args],
            check=False,
            cwd=self.root / "work",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return Place(tmp_path)


def refused(result: subprocess.CompletedProcess[str], place: Place) -> str:
    """The one line a refused command printed, after checking it wrote nothing."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert not place.state.exists()
    assert list((place.root / "work").iterdir()) == []
    [line] = result.stderr.strip().splitlines()
    return line


PORT = closed_port()
CASES = [
    (
        "regex in [incident.tracking]",
        b'[incident.tracking]\nresolution_target_pattern = "[resol"\n',
        {},
        ["audit"],
        "Error: {config}:4: incident.tracking.resolution_target_pattern: not a regular "
        "expression: unterminated character set at position 0",
    ),
    (
        "config file in Latin-1",
        b"[contacts]\n# \xc9quipe r\xe9seau\n",
        {},
        ["run", "incident.tracking", "--dry-run"],
        "Error: {config}:4: not UTF-8 (byte 0xc9 at column 3); save the file as UTF-8",
    ),
    (
        "database URL variable malformed",
        b"",
        {"SMPM_DATABASE__URL": "postgres:/db"},
        ["events"],
        "Error: environment variable SMPM_DATABASE__URL: database.url: not a database URL; "
        "write sqlite:///path/to/smpm.db or postgresql+psycopg://user@host/database",
    ),
    (
        "database unreachable",
        b"",
        {"SMPM_DATABASE__URL": f"postgresql+psycopg://smpm:hunter2@127.0.0.1:{PORT}/smpm"},
        ["run", "incident.tracking", "--dry-run"],
        "Error: environment variable SMPM_DATABASE__URL: database.url: cannot open "
        f"postgresql+psycopg://smpm:***@127.0.0.1:{PORT}/smpm: connection failed: ",
    ),
    (
        "nested variable not JSON",
        b"",
        {"SMPM_INCIDENT__TRACKING__OUTAGE_SERVICE_TYPES": "user_service_restoration"},
        ["audit"],
        "Error: environment variable SMPM_INCIDENT__TRACKING__OUTAGE_SERVICE_TYPES: "
        "incident.tracking.outage_service_types: not valid JSON; a table or list given in one "
        "variable is written as JSON",
    ),
    (
        "mapping override",
        b'[mapping.kinds.incident.sources.incident]\nform = "F"\nsource_field = "a"\n'
        b'target_field = "b"\ntype_enum = "impact"\n',
        {},
        ["run", "incident.tracking", "--dry-run"],
        "Error: {config}:3: mapping.kinds.incident.sources.incident: enums.impact.extensive: "
        "not one of [",
    ),
    (
        "ITSM URL with a password",
        b"",
        {"SMPM_REMEDY__URL": "https://smpm:hunter2@remedy.example.com"},
        ["check"],
        "Error: environment variable SMPM_REMEDY__URL: remedy.url: the URL may not carry a "
        "user name or password (user:password@); set remedy.username, and export "
        "SMPM_REMEDY__PASSWORD or set remedy.password_file",
    ),
]


@pytest.mark.parametrize(
    ("text", "env", "args", "told"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_bad_setting_ends_the_process_in_one_line(
    place: Place, text: bytes, env: dict[str, str], args: list[str], told: str
) -> None:
    place.settings(text)
    place.env = env
    line = refused(place.smpm(*args), place)
    assert line.startswith(told.format(config=place.config)), line
    assert "hunter2" not in line


HOOKS = b'[hooks.events]\nmethods = ["hmac"]\n[hooks.alertmanager]\nmethods = ["bearer"]\n'


@pytest.mark.parametrize("args", [["events"], ["audit"]], ids=["events", "audit"])
def test_reading_the_store_needs_no_webhook_secret(place: Place, args: list[str]) -> None:
    place.settings(HOOKS)
    result = place.smpm(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_serve_without_the_webhook_secrets_refuses_in_one_line(place: Place) -> None:
    place.settings(HOOKS)
    line = refused(place.smpm("serve", "--port", "0"), place)
    assert line == (
        f"Error: {place.config}:3: hooks.events: method 'hmac' needs a secret; export "
        f"SMPM_HOOKS__EVENTS__SECRET; {place.config}:5: hooks.alertmanager: method 'bearer' "
        "needs a token; export SMPM_HOOKS__ALERTMANAGER__TOKEN"
    )
