"""The smpm command: documented, helpful, and clean when something is wrong."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

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
