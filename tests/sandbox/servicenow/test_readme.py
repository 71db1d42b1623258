"""The README documents the ServiceNow face's settings and control route."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from sandbox import Sandbox
from sandbox.servicenow import ServiceNowSettings

README = Path(__file__).resolve().parents[3] / "sandbox" / "README.md"


def test_settings_and_control_route_are_documented(sandbox: Sandbox) -> None:
    text = README.read_text(encoding="utf-8")
    for setting in fields(ServiceNowSettings):
        assert f"`{setting.name}`" in text, setting.name
    for route in sandbox.servicenow.control_routes():
        assert route.path in text  # type: ignore[attr-defined]
