"""Shared builders for procedure tests: a demo-like directory and a fixed 'now'."""

from __future__ import annotations

import pytest

from connector.entities import Service, SupportGroup
from connector.testing import at
from procedures.directory import Directory

NOW = at("2026-11-25 10:00")


def directory() -> Directory:
    return Directory.of(
        services=[
            Service(
                name="Online Banking",
                owner="olivia",
                change_coordinator="carl",
                problem_coordinator="paula",
                capacity_manager="cathy",
            ),
            Service(name="Payroll", owner="peter"),
        ],
        groups=[
            SupportGroup(
                name="Service Desk",
                coordinator="sam",
                company="Calbro Services",
                organization="IT Support",
            ),
            SupportGroup(
                name="Application Support",
                coordinator="alice",
                company="Calbro Services",
                organization="IT Support",
            ),
            SupportGroup(name="Network Operations", coordinator="nina"),
            SupportGroup(name="Change Management", coordinator="carl"),
        ],
    )


@pytest.fixture
def demo_directory() -> Directory:
    return directory()
