"""Fixtures shared by every test package."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.codec import load_platform_mapping
from mappings.loader import PlatformMapping

# A throwaway PostgreSQL server for the tests marked `postgresql`; see tests/postgres.py.
from tests.postgres import postgres_server, postgres_url  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(platform: str, name: str) -> Any:
    """A response body recorded from a real server, parsed exactly as stored."""
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


def recorded_text(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def remedy_mapping() -> PlatformMapping:
    return load_platform_mapping("remedy")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the fixed-date runs of `tests/test_dates.py` that were selected, in the background,
    while the rest of the suite runs."""
    from tests import test_dates  # here: only sessions that collect it start its runs

    names = [
        item.callspec.params["name"]
        for item in session.items
        if getattr(item, "originalname", None)
        == "test_the_time_sensitive_tests_pass_at_a_fixed_date"
    ]
    if names:
        basetemp = session.config._tmp_path_factory.mktemp("fixed-dates")  # type: ignore[attr-defined]
        test_dates.start(names, basetemp)


def pytest_sessionfinish(session: pytest.Session) -> None:
    module = sys.modules.get("tests.test_dates")
    if module is not None:
        module.stop()
