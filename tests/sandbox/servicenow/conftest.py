"""Fixtures for the ServiceNow face: clients of the shared demo sandbox (see ../conftest.py)."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from tests.sandbox.servicenow.support import SN


@pytest.fixture(scope="session")
def sn(sandbox: Sandbox) -> SN:
    """Allen on the shared demo sandbox, unversioned URLs."""
    return SN(sandbox.base_url)


@pytest.fixture(scope="session")
def readonly(sandbox: Sandbox) -> SN:
    """The seeded restricted user (read-only ACLs)."""
    return SN(sandbox.base_url, "itil.readonly", "readonly")
