"""The PostgreSQL test server's own promise: a missing server is a skip, or a failure in CI."""

from __future__ import annotations

import pytest

from tests.postgres import REQUIRE, unavailable


def test_without_postgresql_its_tests_skip_unless_it_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tests/postgres.py: "Without them the PostgreSQL tests are skipped, unless
    SMPM_REQUIRE_POSTGRES=1 (CI) makes that a failure"."""
    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"no server binaries .*set {REQUIRE}=1"):
        unavailable("no server binaries")
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE}=1 but no server binaries"):
        unavailable("no server binaries")
