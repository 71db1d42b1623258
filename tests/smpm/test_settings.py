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


# -- mistakes that used to end in a traceback, or blame the wrong file ---------------------------
BAD_AT_LOAD = [
    (
        "resolution target pattern is no regex",
        '[incident.tracking]\noutage_min_impact = "significant"\n'
        'resolution_target_pattern = "(resol"\n',
        ":3: incident.tracking.resolution_target_pattern: not a regular expression: missing ), "
        "unterminated subpattern at position 0",
    ),
    (
        "resolution target pattern matches every title",
        '[incident.tracking]\nresolution_target_pattern = "resol|"\n',
        ":2: incident.tracking.resolution_target_pattern: matches the empty string, so every SLA",
    ),
    (
        "database URL is no URL",
        '[database]\nurl = "state.db"\n',
        ":2: database.url: not a database URL; write sqlite:///path/to/smpm.db or "
        "postgresql+psycopg://user@host/database",
    ),
    (
        "database of another kind",
        '[database]\nurl = "mysql://smpm@db/smpm"\n',
        ":2: database.url: smpm keeps its state in SQLite or PostgreSQL, not mysql",
    ),
    (
        "database driver not installed",
        '[database]\nurl = "postgresql+pg8000://smpm@db/smpm"\n',
        ":2: database.url: the driver pg8000 is not installed; use postgresql+psycopg:// "
        "(pip install 'smpm[postgresql]')",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BAD_AT_LOAD], ids=[c[0] for c in BAD_AT_LOAD]
)
def test_a_bad_value_found_only_at_run_time_is_refused_at_load(
    tmp_path: Path, text: str, message: str
) -> None:
    """The file and line, the key and the problem, when the settings load, not a traceback at
    the first run that uses the value."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}{message}"), str(caught.value)


def test_a_config_file_that_is_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    """TOML is UTF-8; a file saved as Latin-1 says where its first other byte is."""
    path = tmp_path / "smpm.toml"
    path.write_bytes(b'platform = "remedy"\n[contacts]\n# Caf\xe9 team\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}:3: not UTF-8 (byte 0xe9 at column 6); save the file as UTF-8"
    )


def test_a_config_file_with_a_byte_order_mark_loads_and_keeps_its_lines(tmp_path: Path) -> None:
    """Editors on Windows write a UTF-8 byte-order mark; it is not a TOML syntax error."""
    path = tmp_path / "smpm.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'[remedy]\nurl = "https://r.example.com"\npage_size = 0\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}:3: remedy.page_size: Input should be")


def test_a_config_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == f"{tmp_path}: cannot read the config file: Is a directory"


BAD_DATABASE_VARIABLES = [
    ("no URL", "localhost:5432/smpm", "not a database URL"),
    ("empty", "", "not a database URL"),
    ("another kind", "mysql://smpm@db/smpm", "in SQLite or PostgreSQL, not mysql"),
]


@pytest.mark.parametrize(
    ("value", "message"),
    [c[1:] for c in BAD_DATABASE_VARIABLES],
    ids=[c[0] for c in BAD_DATABASE_VARIABLES],
)
def test_a_bad_database_url_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("SMPM_DATABASE__URL", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    text = str(caught.value)
    assert text.startswith("environment variable SMPM_DATABASE__URL: database.url: "), text
    assert message in text


def test_a_database_url_refused_does_not_echo_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMPM_DATABASE__URL", "mysql://smpm:hunter2@db/smpm")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert "hunter2" not in str(caught.value)


NESTED_VARIABLES = [
    ("table of a section", {"SMPM_REMEDY__HTTP": "{attempts: 3}"}, "remedy.http"),
    (
        "list of a table",
        {"SMPM_INCIDENT__TRACKING__OUTAGE_SERVICE_TYPES": "[user_service_restoration"},
        "incident.tracking.outage_service_types",
    ),
    (
        "the bad one of two",
        {
            "SMPM_INCIDENT__TRACKING__OUTAGE_SERVICE_TYPES": '["user_service_restoration"]',
            "SMPM_INCIDENT__ASSIGNMENT": "{rules",
        },
        "incident.assignment",
    ),
]


@pytest.mark.parametrize(
    ("variables", "key"), [c[1:] for c in NESTED_VARIABLES], ids=[c[0] for c in NESTED_VARIABLES]
)
def test_a_nested_variable_that_is_not_json_names_itself_and_its_key(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], key: str
) -> None:
    """The variable that does not parse, and the key it sets, not its top-level section."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    name = next(n for n, v in variables.items() if not v.startswith('["'))
    assert str(caught.value) == (
        f"environment variable {name}: {key}: not valid JSON; a table or list given in one "
        "variable is written as JSON"
    )


MAPPING_OVERRIDES = [
    (
        "a field pointed at another field's enum table",
        '[mapping.kinds.incident.enums]\nimpact = "incident_status"\n',
        ":2: mapping.kinds.incident.enums.impact: enums.incident_status.assigned: not a value of "
        "this field",
    ),
    (
        "a relation typed by an enum of other values",
        '[mapping.kinds.incident.sources.incident]\nform = "F"\nsource_field = "a"\n'
        'target_field = "b"\ntype_enum = "impact"\n',
        ":1: mapping.kinds.incident.sources.incident: enums.impact.extensive: not one of",
    ),
    (
        "an unknown field",
        '[mapping.kinds.incident.fields]\nsummary = "Description"\nnope = "X"\n',
        ":3: mapping.kinds.incident.fields.nope: entity 'incident' has no field 'nope'",
    ),
    (
        "a label used twice",
        '[mapping.enums.impact]\nsignificant = "1-Extensive/Widespread"\n',
        ":2: mapping.enums.impact.significant: label '1-Extensive/Widespread' is also used by "
        "'extensive'",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in MAPPING_OVERRIDES], ids=[c[0] for c in MAPPING_OVERRIDES]
)
def test_a_mapping_override_error_names_the_settings_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """The built-in mapping is valid on its own (its own tests say so): a mistake the overrides
    make is the settings file's, at the override's line, even when it shows in a built-in
    table, and it is found when the settings load."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}{message}"), str(caught.value)
    assert "mappings/remedy.toml" not in str(caught.value)


def test_a_mapping_override_from_the_environment_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMPM_MAPPING__KINDS__INCIDENT__ENUMS__IMPACT", "incident_status")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert str(caught.value).startswith(
        "environment variable SMPM_MAPPING__KINDS__INCIDENT__ENUMS__IMPACT: "
        "mapping.kinds.incident.enums.impact: enums.incident_status.assigned: not a value"
    )


# -- an ITSM URL never carries user:password@ ------------------------------------------------------
@pytest.mark.parametrize("platform", ["remedy", "servicenow"])
def test_an_itsm_url_with_user_and_password_is_refused_in_the_file(
    tmp_path: Path, platform: str
) -> None:
    """The password would sit in the file secrets are kept out of, and in every line that
    shows the URL; the message points at the settings that hold them instead."""
    path = write(
        tmp_path, f'[{platform}]\nusername = "u"\nurl = "https://admin:hunter2@itsm.example.com"\n'
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value) == (
        f"{path}:3: {platform}.url: the URL may not carry a user name or password "
        f"(user:password@); set {platform}.username, and export "
        f"SMPM_{platform.upper()}__PASSWORD or set {platform}.password_file"
    )
    assert "hunter2" not in str(caught.value)


def test_an_itsm_url_with_userinfo_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMPM_REMEDY__URL", "https://admin:hunter2@r.example.com:8443")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert str(caught.value).startswith("environment variable SMPM_REMEDY__URL: remedy.url: ")
    assert "hunter2" not in str(caught.value)


# -- webhook secrets are needed by the command that verifies webhooks, not at load ---------------
HOOKS = (
    '[database]\nurl = "sqlite:///state.db"\n'
    '[hooks.events]\nmethods = ["hmac"]\n'
    '[hooks.remedy]\nmethods = ["basic"]\nusername = "remedy-webhook"\n'
)


def test_settings_with_hooks_load_without_their_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that reads the audit log holds no webhook secret; the hooks still load."""
    for name in ("SMPM_HOOKS__EVENTS__SECRET", "SMPM_HOOKS__REMEDY__PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(write(tmp_path, HOOKS))
    assert settings.hooks.events is not None and settings.hooks.events.methods == ["hmac"]
    assert settings.hooks.missing() == [
        ("events", "hmac", "secret"),
        ("remedy", "basic", "password"),
    ]


def test_checking_the_hooks_names_each_missing_secret_and_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMPM_HOOKS__EVENTS__SECRET", raising=False)
    monkeypatch.delenv("SMPM_HOOKS__REMEDY__PASSWORD", raising=False)
    path = write(tmp_path, HOOKS)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path).check_hooks()
    assert str(caught.value) == (
        f"{path}:3: hooks.events: method 'hmac' needs a secret; export "
        f"SMPM_HOOKS__EVENTS__SECRET; {path}:5: hooks.remedy: method 'basic' needs a password; "
        "export SMPM_HOOKS__REMEDY__PASSWORD"
    )
    monkeypatch.setenv("SMPM_HOOKS__EVENTS__SECRET", "s3cret")
    monkeypatch.setenv("SMPM_HOOKS__REMEDY__PASSWORD", "pw")
    load_settings(path).check_hooks()


def test_basic_without_a_username_is_still_refused_at_load(tmp_path: Path) -> None:
    """What the file alone gets wrong is found when it loads."""
    path = write(tmp_path, '[hooks.remedy]\nmethods = ["basic"]\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}:1: hooks.remedy: method 'basic' needs a username"
