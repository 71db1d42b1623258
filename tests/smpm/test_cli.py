"""The smpm command: documented, helpful, and clean when something is wrong."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group, prefix: str = "smpm") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


@pytest.mark.parametrize(("path", "command"), all_commands(main), ids=str)
def test_every_command_has_help_and_is_in_the_readme(path: str, command: click.Command) -> None:
    """A command nobody can discover or read about is a command nobody can operate."""
    assert command.help and len(command.help.strip()) > 20, path
    assert f"`{path}" in README, f"{path} is not documented in README.md"


def test_top_level_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in main.commands:
        assert name in result.output


def test_check_with_a_bad_config_file_says_what_is_wrong(tmp_path: Path) -> None:
    """A bad setting ends the command with one clear line and exit status 1, no traceback."""
    config = tmp_path / "smpm.toml"
    config.write_text('[remedy]\nurl = "https://r.example.com"\npassword = "x"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 1
    assert "remedy.password: secrets may not be written in the config file" in result.output
    assert "Traceback" not in result.output


def test_check_without_a_url_names_the_missing_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMPM_REMEDY__URL", raising=False)
    config = tmp_path / "smpm.toml"
    config.write_text("[remedy]\nusername = 'u'\n")
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 1
    assert "remedy.url and remedy.username are required" in result.output


def test_sandbox_tls_needs_both_the_certificate_and_its_key(tmp_path: Path) -> None:
    """A certificate without its key is refused before anything listens."""
    cert = tmp_path / "sandbox.pem"
    cert.write_text("not used", encoding="utf-8")
    result = CliRunner().invoke(main, ["sandbox", "--port", "0", "--tls-cert", str(cert)])
    assert result.exit_code == 2
    assert "--tls-cert and --tls-key go together" in result.output
    missing = CliRunner().invoke(main, ["sandbox", "--tls-cert", str(tmp_path / "absent.pem")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on loopback that something else already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def test_sandbox_on_a_port_in_use_says_so_in_one_line(taken_port: int) -> None:
    """Host and port named, what to do said, no traceback, a non-zero exit status."""
    result = CliRunner().invoke(main, ["sandbox", "--port", str(taken_port)])
    assert result.exit_code == 1 and not isinstance(result.exception, OSError)
    assert result.output.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{taken_port}: the address is already in use; stop "
        "what listens there or choose another --port"
    ]


@pytest.mark.parametrize("how", ["--port", "[serve] port"])
def test_serve_on_a_port_in_use_says_so_in_one_line(
    tmp_path: Path, taken_port: int, how: str
) -> None:
    config = tmp_path / "smpm.toml"
    settings = f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n[serve]\nworkers = 0\n'
    if how == "[serve] port":
        settings += f"port = {taken_port}\n"
    config.write_text(settings, encoding="utf-8")
    args = ["--port", str(taken_port)] if how == "--port" else []
    result = CliRunner().invoke(main, ["--config", str(config), "serve", *args])
    assert result.exit_code == 1 and not isinstance(result.exception, OSError)
    assert result.output.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{taken_port}: the address is already in use; stop "
        "what listens there or choose another --port (or [serve] port)"
    ]


# -- bad settings end in one line naming their source, and nothing is written --------------------
@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, and an ITSM login in the environment that nothing answers
    (loopback port 9): the commands fail on the settings under test, not on a missing one."""
    for name in [n for n in os.environ if n.upper().startswith("SMPM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SMPM_REMEDY__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SMPM_REMEDY__USERNAME", "smpm")
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", "pw")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def state_url(place: Path) -> str:
    return f"sqlite:///{place / 'state' / 'smpm.db'}"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Broken:
    """Settings with one mistake, and the line that must name it (`{config}`: the file)."""

    settings: bytes
    told: str
    env: dict[str, str] = field(default_factory=dict)


def state_section(place: Path) -> bytes:
    return f'[database]\nurl = "{state_url(place)}"\n'.encode()


BROKEN: dict[str, Callable[[Path], Broken]] = {
    "resolution target pattern is no regex": lambda p: Broken(
        state_section(p) + b'[incident.tracking]\nresolution_target_pattern = "(resol"\n',
        "{config}:4: incident.tracking.resolution_target_pattern: not a regular expression: "
        "missing ), unterminated subpattern at position 0",
    ),
    "config file not UTF-8": lambda p: Broken(
        state_section(p) + b"[contacts]\n# \xc9quipe r\xe9seau\n",
        "{config}:4: not UTF-8 (byte 0xc9 at column 3); save the file as UTF-8",
    ),
    "database URL variable is no URL": lambda p: Broken(
        state_section(p),
        "environment variable SMPM_DATABASE__URL: database.url: not a database URL; write "
        "sqlite:///path/to/smpm.db or postgresql+psycopg://user@host/database",
        {"SMPM_DATABASE__URL": "localhost/smpm"},
    ),
    "database unreachable": lambda p: Broken(
        state_section(p),
        "environment variable SMPM_DATABASE__URL: database.url: cannot open "
        "postgresql+psycopg://smpm:***@127.0.0.1:{port}/smpm: connection failed: ",
        {"SMPM_DATABASE__URL": "postgresql+psycopg://smpm:hunter2@127.0.0.1:{port}/smpm"},
    ),
    "nested variable not JSON": lambda p: Broken(
        state_section(p),
        "environment variable SMPM_REMEDY__HTTP: remedy.http: not valid JSON; a table or list "
        "given in one variable is written as JSON",
        {"SMPM_REMEDY__HTTP": "{attempts = 2}"},
    ),
    "mapping override": lambda p: Broken(
        state_section(p) + b'[mapping.kinds.incident.enums]\nimpact = "incident_status"\n',
        "{config}:4: mapping.kinds.incident.enums.impact: enums.incident_status.assigned: not a "
        "value of this field",
    ),
}
COMMANDS = {
    "audit": ["audit"],
    "events": ["events"],
    "run": ["run", "incident.tracking", "--dry-run"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BROKEN))
def test_bad_settings_end_in_one_line_and_write_nothing(
    place: Path, monkeypatch: pytest.MonkeyPatch, case: str, command: str
) -> None:
    """Bad settings get "a clear error naming the source and the problem, and change nothing":
    one line, exit status 1, no traceback, no state database."""
    port = closed_port()
    broken = BROKEN[case](place)
    config = place / "smpm.toml"
    config.write_bytes(broken.settings)
    for name, value in broken.env.items():
        monkeypatch.setenv(name, value.replace("{port}", str(port)))
    result = CliRunner().invoke(main, ["--config", str(config), *COMMANDS[command]])
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: " + broken.told.format(config=config, port=port)), line
    assert "Traceback" not in result.output and "hunter2" not in result.output
    assert not (place / "state").exists()
    assert list((place / "work").iterdir()) == []


def test_a_run_refused_for_a_missing_password_leaves_no_state_database(
    place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connector's settings are read before the store is opened (and so created)."""
    monkeypatch.delenv("SMPM_REMEDY__PASSWORD")
    config = place / "smpm.toml"
    config.write_bytes(state_section(place))
    result = CliRunner().invoke(
        main, ["--config", str(config), "run", "incident.tracking", "--dry-run"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: remedy.password: not set; export SMPM_REMEDY__PASSWORD or set "
        "remedy.password_file in the config file"
    ]
    assert not (place / "state").exists()


def test_a_state_file_that_is_no_database_is_named_and_left_alone(place: Path) -> None:
    """A URL pointed at some other file: named, in one line, and the file is not touched."""
    other = place / "notes.txt"
    other.write_bytes(b"not a database, but somebody's notes\n" * 200)
    config = place / "smpm.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{other}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "audit"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {config}:2: database.url: cannot open sqlite:///{other}: file is not a database"
    ]
    assert other.read_bytes() == b"not a database, but somebody's notes\n" * 200
    assert sorted(p.name for p in place.iterdir()) == ["notes.txt", "smpm.toml", "work"]


# -- URLs are shown without user:password@ -------------------------------------------------------
def test_check_refuses_an_itsm_url_with_a_password_without_showing_it(
    place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMPM_REMEDY__URL")
    config = place / "smpm.toml"
    config.write_text(
        '[remedy]\nurl = "https://smpm:hunter2@remedy.example.com:8443"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {config}:2: remedy.url: the URL may not carry a user name or password "
        "(user:password@); set remedy.username, and export SMPM_REMEDY__PASSWORD or set "
        "remedy.password_file"
    ]
    assert "hunter2" not in result.output


def test_check_names_the_itsm_it_tries_by_host(
    place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `smpm check` prints of the URL: scheme, host, port and path."""
    monkeypatch.setenv("SMPM_REMEDY__HTTP__ATTEMPTS", "1")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Checking remedy at http://127.0.0.1:9 as smpm"
    assert "Traceback" not in result.output


# -- webhook secrets: needed by `smpm serve`, and by no other command ------------------------------
HOOKS = (
    '[hooks.events]\nmethods = ["hmac"]\n'
    '[hooks.remedy]\nmethods = ["basic"]\nusername = "remedy-webhook"\n'
)


@pytest.fixture
def hooks_config(place: Path) -> Path:
    """Settings with two webhook endpoints whose secrets are not exported."""
    config = place / "smpm.toml"
    config.write_bytes(state_section(place) + HOOKS.encode())
    return config


@pytest.mark.parametrize(
    ("args", "shows"),
    [(["events"], "pending: 0"), (["audit"], "at (UTC)"), (["procedures"], "incident.tracking")],
    ids=["events", "audit", "procedures"],
)
def test_commands_that_verify_no_webhook_run_without_webhook_secrets(
    hooks_config: Path, args: list[str], shows: str
) -> None:
    result = CliRunner().invoke(main, ["--config", str(hooks_config), *args])
    assert result.exit_code == 0, result.output
    assert shows in result.output


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as running:
        yield running


def test_a_dry_run_needs_no_webhook_secret(
    hooks_config: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smpm run NAME --dry-run` against the sandbox ITSM, with [hooks.*] lacking secrets."""
    monkeypatch.setenv("SMPM_REMEDY__URL", sandbox.base_url)
    monkeypatch.setenv("SMPM_REMEDY__USERNAME", DEMO_USER)
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", DEMO_PASSWORD)
    result = CliRunner().invoke(
        main, ["--config", str(hooks_config), "run", "incident.tracking", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "hooks" not in result.output


def test_serve_refuses_to_start_without_the_webhook_secrets(
    hooks_config: Path, place: Path
) -> None:
    """Every missing secret in one line, with its variable; nothing listens, nothing written."""
    result = CliRunner().invoke(main, ["--config", str(hooks_config), "serve", "--port", "0"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {hooks_config}:3: hooks.events: method 'hmac' needs a secret; export "
        f"SMPM_HOOKS__EVENTS__SECRET; {hooks_config}:5: hooks.remedy: method 'basic' needs a "
        "password; export SMPM_HOOKS__REMEDY__PASSWORD"
    ]
    assert not (place / "state").exists()


def test_serve_with_the_webhook_secrets_gets_past_them(
    hooks_config: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the secrets exported, serve goes on to listen (here: on a port in use)."""
    monkeypatch.setenv("SMPM_HOOKS__EVENTS__SECRET", "s3cret")
    monkeypatch.setenv("SMPM_HOOKS__REMEDY__PASSWORD", "pw")
    args = ["--config", str(hooks_config), "serve", "--port", str(taken_port)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{taken_port}" in result.output
