"""How many connections `smpm serve` holds for the descriptors it has (issue 11, item 8)."""

from __future__ import annotations

import logging

import pytest

from connector.errors import ConfigurationError
from smpm.intake.config import ServeSection
from smpm.intake.limits import DEFAULT_CEILING, Descriptors, connection_limit


def fds(soft: int, in_use: int = 20, reserved: int = 128) -> Descriptors:
    return Descriptors(soft=soft, hard=soft, raised_from=None, in_use=in_use, reserved=reserved)


@pytest.mark.parametrize(
    ("limits", "max_connections", "expected"),
    [
        pytest.param(fds(1024), None, 1024 - 20 - 128, id="systemd's 1,024: what is left"),
        pytest.param(fds(65536), None, DEFAULT_CEILING, id="LimitNOFILE=65536: the ceiling"),
        pytest.param(fds(65536), 20_000, 20_000, id="more than the ceiling when asked"),
        pytest.param(fds(1024), 100, 100, id="fewer when asked"),
        pytest.param(fds(1024, reserved=0), None, 1004, id="no reserve"),
    ],
)
def test_connections_fit_in_the_descriptors_left_after_the_reserve(
    limits: Descriptors, max_connections: int | None, expected: int
) -> None:
    """A connection past the descriptors is an EMFILE; the default stays below them."""
    assert connection_limit(ServeSection(max_connections=max_connections), limits) == expected


def test_more_connections_than_descriptors_are_cut_to_them_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """max_connections = 5000 on 1,024 descriptors would end in EMFILE: 876, and the log
    says what to raise."""
    with caplog.at_level(logging.WARNING, "smpm.serve"):
        limit = connection_limit(ServeSection(max_connections=5000), fds(1024))
    assert limit == 876
    assert "max_connections = 5000" in caplog.text and "LimitNOFILE=" in caplog.text


def test_too_few_descriptors_to_serve_is_a_configuration_error_naming_limitnofile() -> None:
    """RLIMIT_NOFILE 128 with 128 reserved leaves nothing: the service does not start."""
    with pytest.raises(ConfigurationError, match=r"RLIMIT_NOFILE 128 .*LimitNOFILE="):
        connection_limit(ServeSection(), fds(128))
