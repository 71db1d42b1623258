"""`[intake] lease_seconds` must outlast one ITSM request, as the HTTP settings bound it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigurationError
from connector.http import HttpOptions
from smpm.intake.config import request_worst_case
from smpm.settings import load_settings

FAST = "connect_timeout = 1\nread_timeout = 2\nattempts = 2\nmax_backoff = 0.5\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("http", "worst"),
    [
        pytest.param(HttpOptions(), 5 * 65 + 4 * 120, id="defaults: Retry-After cap dominates"),
        pytest.param(HttpOptions(attempts=1), 65, id="one attempt: no wait"),
        pytest.param(
            HttpOptions(attempts=3, max_backoff=200, max_retry_after=10),
            3 * 65 + 2 * 200,
            id="backoff longer than the Retry-After cap",
        ),
    ],
)
def test_the_worst_case_of_one_request(http: HttpOptions, worst: float) -> None:
    """Every attempt waits up to both timeouts; between attempts, the longer of the backoff
    ceiling and the Retry-After cap (connector/http.py _Wait)."""
    assert request_worst_case(http) == worst


def test_the_defaults_agree(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert settings.intake.lease_seconds > request_worst_case(settings.remedy.http.options())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[intake]\nlease_seconds = 120\n",
            ":1: intake: lease_seconds = 120 does not outlast one ITSM request made with "
            "[remedy.http]: up to 805 s (attempts 5 x (connect_timeout 5 + read_timeout 60) + 4 "
            "wait(s) of up to max(max_backoff 30, max_retry_after 120)); raise "
            "intake.lease_seconds above 805, or lower remedy.http.read_timeout, "
            "remedy.http.attempts or remedy.http.max_retry_after",
            id="remedy defaults",
        ),
        pytest.param(
            f'platform = "servicenow"\n[servicenow.http]\n{FAST}max_retry_after = 3\n'
            "[intake]\nlease_seconds = 8\n",
            ":8: intake: lease_seconds = 8 does not outlast one ITSM request made with "
            "[servicenow.http]: up to 9 s",
            id="servicenow, its own section",
        ),
    ],
)
def test_a_lease_shorter_than_one_request_is_refused_at_load(
    tmp_path: Path, text: str, message: str
) -> None:
    """A request that outlasts the lease lets a second worker take the event while the first
    one's create may still land: refused, naming both keys and the file's line."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}{message}"), str(caught.value)


def test_short_timeouts_allow_a_short_lease(tmp_path: Path) -> None:
    """2 x (1 + 2) + 1 x max(0.5, 1) = 7 s: a lease of 8 s holds."""
    path = write(
        tmp_path, f"[remedy.http]\n{FAST}max_retry_after = 1\n[intake]\nlease_seconds = 8\n"
    )
    settings = load_settings(path)
    assert settings.intake.lease_seconds == 8
    assert settings.remedy.http.options().max_retry_after == 1


def test_only_the_platform_in_use_counts(tmp_path: Path) -> None:
    """The workers talk to one ITSM: ServiceNow's (default) timeouts do not bind a Remedy
    setup, though the lease could not outlast one of its requests."""
    path = write(
        tmp_path, f"[remedy.http]\n{FAST}max_retry_after = 1\n[intake]\nlease_seconds = 8\n"
    )
    settings = load_settings(path)
    assert settings.platform == "remedy"
    assert request_worst_case(settings.servicenow.http.options()) > settings.intake.lease_seconds


def test_a_lease_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMPM_INTAKE__LEASE_SECONDS", "60")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, ""))
    assert str(caught.value).startswith(
        "environment variable SMPM_INTAKE__LEASE_SECONDS: intake: lease_seconds = 60 does not"
    ), str(caught.value)
