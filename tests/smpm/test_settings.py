"""Settings come from one TOML file and SMPM_* variables; bad ones name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from connector.errors import ConfigurationError
from procedures.event.handling import HandlingConfig
from smpm.intake.auth import HookAuth
from smpm.intake.config import IntakeSection, ServeSection
from smpm.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "smpm.example.toml"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMPM_CONFIG", "SMPM_REMEDY__PASSWORD", "SMPM_REMEDY__URL", "SMPM_PLATFORM"):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text(text)
    return path


def test_the_example_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """config/smpm.example.toml, as shipped, loads; its password comes from the environment."""
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", "from-env")
    settings = load_settings(EXAMPLE)
    assert settings.platform == "remedy"
    assert str(settings.remedy.url) == "https://remedy.example.com:8443/"
    assert settings.remedy.http.attempts == 5
    assert settings.remedy.password_value().get_secret_value() == "from-env"
    assert settings.source == str(EXAMPLE)


def test_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SMPM_REMEDY__URL replaces the file's remedy.url; other keys of the section stay."""
    path = write(tmp_path, '[remedy]\nurl = "https://a.example.com"\nusername = "u"\n')
    monkeypatch.setenv("SMPM_REMEDY__URL", "https://b.example.com:8443")
    settings = load_settings(path)
    assert str(settings.remedy.url) == "https://b.example.com:8443/"
    assert settings.remedy.username == "u"


def test_password_file_is_read(tmp_path: Path) -> None:
    """A secret can live in a file of its own; its first line is the password."""
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    path = write(tmp_path, f'[remedy]\nusername = "u"\npassword_file = "{secret}"\n')
    assert load_settings(path).remedy.password_value().get_secret_value() == "s3cret"


def test_missing_password_says_where_to_put_it(tmp_path: Path) -> None:
    """No password anywhere: the error names the variable and the *_file key."""
    settings = load_settings(write(tmp_path, '[remedy]\nusername = "u"\n'))
    with pytest.raises(
        ConfigurationError, match=r"SMPM_REMEDY__PASSWORD or set remedy\.password_file"
    ):
        settings.remedy.password_value()


BAD_FILES = [
    ("secret in the file", '[remedy]\npassword = "hunter2"\n', "remedy.password: secrets may not"),
    ("unknown key", '[remedy]\nurll = "https://x"\n', "remedy.urll: Extra inputs"),
    ("wrong type", "[remedy]\npage_size = 'many'\n", "remedy.page_size"),
    ("not a URL", '[remedy]\nurl = "remedy:8008"\n', "remedy.url"),
    ("unknown platform", 'platform = "jira"\n', "platform: Input should be 'remedy' or"),
    ("CA bundle missing", '[remedy.http]\nca_bundle = "/nope.pem"\n', "not a readable file"),
    ("TOML syntax", "[remedy\n", "line 1"),
    (
        "database password in the file",
        '[database]\nurl = "postgresql+psycopg://smpm:hunter2@db/smpm"\n',
        "database.url: secrets may not be written in the config file; export SMPM_DATABASE__URL",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_settings_are_rejected_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """Each mistake stops smpm at start with the file, the key and the problem."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_secret_values_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Printing the settings (a debugging habit) never shows a password."""
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", "hunter2")
    settings = load_settings(EXAMPLE)
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_a_database_url_from_the_environment_does_not_show_in_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMPM_DATABASE__URL", "postgresql+psycopg://smpm:hunter2@db/smpm")
    settings = load_settings(EXAMPLE)
    assert settings.database.url.endswith("@db/smpm")
    assert "hunter2" not in repr(settings)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="config file not found"):
        load_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("section", "model"),
    [
        ("[serve]", ServeSection),
        ("[intake]", IntakeSection),
        ("[intake]", HookAuth),  # the [hooks.*] sections follow [intake]
        ("[event.handling]", HandlingConfig),
    ],
)
def test_every_event_service_key_is_documented_in_the_example(
    section: str, model: type[BaseModel]
) -> None:
    """An operator setting up `smpm serve` finds every key, with what it does, in the example."""
    text = EXAMPLE.read_text()
    start = text.index(section)
    secrets = {"secret": "__SECRET", "previous_secret": "__PREVIOUS_SECRET"}
    secrets |= {"token": "__TOKEN", "password": "__PASSWORD"}  # named as environment variables
    for key in model.model_fields:
        assert secrets.get(key, key) in text[start:], f"{section} {key}"
