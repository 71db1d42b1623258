"""Fixtures shared by every test package."""

from __future__ import annotations

import json
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
