"""`[servicenow]` settings and opening the ServiceNow connector from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigurationError
from connector.servicenow import ServiceNowConnector
from smpm.platforms import open_connector
from smpm.settings import ServiceNowSection, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "smpm.example.toml"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SMPM_CONFIG",
        "SMPM_PLATFORM",
        "SMPM_SERVICENOW__PASSWORD",
        "SMPM_SERVICENOW__CLIENT_SECRET",
        "SMPM_SERVICENOW__URL",
    ):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text('platform = "servicenow"\n' + text)
    return path


def test_basic_settings_open_a_servicenow_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """url, user and page size from the file; the password from the environment."""
    monkeypatch.setenv("SMPM_SERVICENOW__PASSWORD", "from-env")
    path = write(
        tmp_path,
        '[servicenow]\nurl = "https://acme.service-now.com"\nusername = "smpm"\n'
        "page_size = 500\nsla_warning_percent = 75\n",
    )
    with open_connector(load_settings(path)) as connector:
        assert isinstance(connector, ServiceNowConnector)
        assert connector.base_url == "https://acme.service-now.com"
        assert connector.options.page_size == 500
        assert connector.options.sla_warning_percent == 75
        assert connector.options.credentials.password is not None
        assert connector.options.credentials.password.get_secret_value() == "from-env"


def test_oauth_client_credentials_need_no_user(tmp_path: Path) -> None:
    """The client secret may come from a file; no username or password is asked for."""
    secret = tmp_path / "client_secret"
    secret.write_text("s3cret\n")
    path = write(
        tmp_path,
        '[servicenow]\nurl = "https://acme.service-now.com"\nauth = "oauth_client_credentials"\n'
        f'client_id = "cid"\nclient_secret_file = "{secret}"\n',
    )
    with open_connector(load_settings(path)) as connector:
        assert isinstance(connector, ServiceNowConnector)
        creds = connector.options.credentials
        assert (creds.mode, creds.username, creds.client_id) == (
            "oauth_client_credentials",
            None,
            "cid",
        )
        assert creds.client_secret is not None
        assert creds.client_secret.get_secret_value() == "s3cret"


BAD = [
    (
        "a client secret in the file",
        '[servicenow]\nclient_secret = "x"\n',
        "servicenow.client_secret: secrets may not be written",
    ),
    ("an unknown auth", '[servicenow]\nauth = "kerberos"\n', "servicenow.auth"),
    ("a page too large", "[servicenow]\npage_size = 20000\n", "servicenow.page_size"),
]


@pytest.mark.parametrize(("text", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_servicenow_settings_name_the_key(tmp_path: Path, text: str, words: str) -> None:
    """Every refusal names the file and the key."""
    with pytest.raises(ConfigurationError, match=words):
        load_settings(write(tmp_path, text))


MISSING = [
    ("no url", '[servicenow]\nusername = "u"\n', "servicenow.url is required"),
    (
        "no client id for OAuth",
        '[servicenow]\nurl = "https://a.service-now.com"\nauth = "oauth_password"\n'
        'username = "u"\n',
        "needs servicenow.client_id",
    ),
    (
        "no password anywhere",
        '[servicenow]\nurl = "https://a.service-now.com"\nusername = "u"\n',
        "SMPM_SERVICENOW__PASSWORD or set servicenow.password_file",
    ),
]


@pytest.mark.parametrize(("text", "words"), [m[1:] for m in MISSING], ids=[m[0] for m in MISSING])
def test_missing_settings_say_what_to_set(tmp_path: Path, text: str, words: str) -> None:
    """Opening the connector without what the chosen auth needs names the setting."""
    with pytest.raises(ConfigurationError, match=words):
        open_connector(load_settings(write(tmp_path, text)))


def test_every_servicenow_key_is_documented_in_the_example() -> None:
    """config/smpm.example.toml mentions each key of [servicenow]."""
    text = EXAMPLE.read_text()
    assert "# [servicenow]" in text
    for key in ServiceNowSection.model_fields:
        if key == "http":
            assert "# [servicenow.http]" in text
            continue
        assert f"# {key}" in text, key
