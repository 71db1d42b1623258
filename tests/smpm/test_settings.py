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


FILE_WITH_A_GOOD_PAGE_SIZE = (
    '[remedy]\nurl = "https://r.example.com"\nusername = "u"\npage_size = 100\n'
    "[remedy.http]\nattempts = 3\n"
)
BAD_VARIABLES = [
    ("not a number", {"SMPM_REMEDY__PAGE_SIZE": "abc"}, "remedy.page_size: Input should be"),
    ("lower-case name", {"smpm_remedy__page_size": "abc"}, "remedy.page_size: Input should be"),
    ("nested table", {"SMPM_REMEDY__HTTP__ATTEMPTS": "0"}, "remedy.http.attempts: Input should"),
    ("unknown key", {"SMPM_REMEDY__PAGESIZE": "5"}, "remedy.pagesize: Extra inputs"),
    ("unknown platform", {"SMPM_PLATFORM": "jira"}, "platform: Input should be 'remedy' or"),
]


@pytest.mark.parametrize(
    ("variables", "message"), [c[1:] for c in BAD_VARIABLES], ids=[c[0] for c in BAD_VARIABLES]
)
def test_a_bad_environment_variable_is_named_not_a_line_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    """A value from the environment is blamed on its variable: the file's line for the same key
    is correct and pointing at it sends the operator to the wrong place."""
    path = write(tmp_path, FILE_WITH_A_GOOD_PAGE_SIZE)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    [name] = variables
    text = str(caught.value)
    assert text.startswith(f"environment variable {name}: "), text
    assert message in text
    assert str(path) not in text and "smpm.toml:" not in text


def test_a_bad_environment_variable_without_a_file_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMPM_REMEDY__PAGE_SIZE", "abc")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert str(caught.value).startswith("environment variable SMPM_REMEDY__PAGE_SIZE: ")


def test_a_bad_value_in_the_file_names_file_and_line_while_the_environment_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Variables for other keys do not take the blame for the file's mistake."""
    path = write(tmp_path, FILE_WITH_A_GOOD_PAGE_SIZE.replace("attempts = 3", "attempts = 'x'"))
    monkeypatch.setenv("SMPM_REMEDY__PAGE_SIZE", "200")
    monkeypatch.setenv("SMPM_REMEDY__HTTP__BACKOFF", "1.5")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}:6: remedy.http.attempts: Input should be")


def test_a_table_mixing_file_and_environment_names_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check over a whole table (the CA bundle exists) may fail on either source's keys."""
    path = write(tmp_path, FILE_WITH_A_GOOD_PAGE_SIZE)
    monkeypatch.setenv("SMPM_REMEDY__HTTP__CA_BUNDLE", str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(
        f"environment variable SMPM_REMEDY__HTTP__CA_BUNDLE and {path}:5: remedy.http: ca_bundle"
    )


def test_a_variable_that_is_not_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table given in one variable must be JSON; a bad one is named, not a traceback."""
    monkeypatch.setenv("SMPM_INCIDENT", "[rules")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert str(caught.value).startswith("environment variable SMPM_INCIDENT: incident: not valid")


def test_where_names_the_variable_that_set_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks after loading (an unknown support group) point where the value came from."""
    path = write(tmp_path, FILE_WITH_A_GOOD_PAGE_SIZE)
    monkeypatch.setenv("SMPM_REMEDY__PAGE_SIZE", "200")
    settings = load_settings(path)
    assert settings.where("remedy", "page_size") == "environment variable SMPM_REMEDY__PAGE_SIZE"
    assert settings.where("remedy", "username") == f"{path}:3"
